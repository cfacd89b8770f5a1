# Sleeping past the timeout times out in simulated time, at once in real time.
# expect: timeout
# status: 503
# duration-at-least-ms: 5000
# duration-at-most-ms: 5000
import time


def lambda_handler(event, context):
    time.sleep(60)
    return event['Records'][0]['cf']['request']
