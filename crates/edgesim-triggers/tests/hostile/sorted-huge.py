# Sorting a hundred million items: charged n log2 n comparisons up front, before a single
# item is copied.
# timeout-ms: 200
# expect: timeout
# status: 503
# duration-at-least-ms: 200
# duration-at-most-ms: 200
def lambda_handler(event, context):
    sorted(range(10 ** 8), reverse=True)
    return event['Records'][0]['cf']['request']
