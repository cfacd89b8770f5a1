# A syntax error is a load error with the file and line.
# expect: load-error
# message-contains: syntax-error.py:5: SyntaxError
def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request'
    return request
