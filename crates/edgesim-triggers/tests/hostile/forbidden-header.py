# Headers a function may not set are an invalid response, as for JavaScript.
# expect: invalid
# status: 502
def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request']
    request['headers']['x-amz-cf-id'] = [{'key': 'X-Amz-Cf-Id', 'value': 'forged'}]
    return request
