# One 8 MB line is cut to the 256 KiB kept per invocation.
# expect: continue
# log-contains: console output truncated
def lambda_handler(event, context):
    print('x' * (8 * 1024 * 1024))
    return event['Records'][0]['cf']['request']
