# A status outside 200-599 is an invalid response.
# expect: invalid
# status: 502
def lambda_handler(event, context):
    return {'status': '999', 'statusDescription': 'Nope'}
