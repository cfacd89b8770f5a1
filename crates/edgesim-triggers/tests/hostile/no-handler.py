# The default handler is lambda_function.lambda_handler; a file without it is refused, naming
# what it does define.
# expect: load-error
# message-contains: handler `lambda_function.lambda_handler` not found
def handler(event, context):
    return event['Records'][0]['cf']['request']
