# A gigabyte by repetition: not metered as work, bounded by the function's memory instead
# (the allocation fails at once, the same on every machine).
# expect: out_of_memory
# status: 503
def lambda_handler(event, context):
    return {'status': '200', 'body': 'x' * 10 ** 9}
