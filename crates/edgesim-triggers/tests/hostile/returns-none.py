# Forgetting to return is an invalid response (Lambda sends null).
# expect: invalid
# status: 502
def lambda_handler(event, context):
    event['Records'][0]['cf']['request']['uri'] = '/other'
