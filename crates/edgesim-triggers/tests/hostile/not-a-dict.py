# A result that is not a dict is an invalid response.
# expect: invalid
# status: 502
def lambda_handler(event, context):
    return 'hello'
