# An unhandled exception is an execution error with the file and line.
# expect: error
# status: 503
# message-contains: exception.py:8: KeyError: 'missing'
def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request']
    headers = request['headers']
    return headers['missing']
