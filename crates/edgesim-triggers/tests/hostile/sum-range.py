# A C loop over a huge range: `sum` is charged for every item (one step per 4) before it runs.
# timeout-ms: 200
# expect: timeout
# status: 503
# duration-at-least-ms: 200
# duration-at-most-ms: 200
def lambda_handler(event, context):
    return {'status': '200', 'body': str(sum(range(10 ** 12)))}
