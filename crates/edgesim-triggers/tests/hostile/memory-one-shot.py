# One huge allocation fails at once.
# expect: out_of_memory
# status: 503
def lambda_handler(event, context):
    return {'status': '200', 'body': 'x' * (4 << 30)}
