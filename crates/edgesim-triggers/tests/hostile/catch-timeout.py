# Catching the budget's exception does not save the run: once spent, it stays spent.
# timeout-ms: 100
# expect: timeout
# status: 503
def lambda_handler(event, context):
    try:
        while True:
            pass
    except BaseException:
        return event['Records'][0]['cf']['request']
