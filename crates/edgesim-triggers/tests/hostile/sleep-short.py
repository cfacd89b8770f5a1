# A short sleep passes simulated time (and the simulated clock), no real time.
# expect: continue
# duration-at-least-ms: 250
# duration-at-most-ms: 260
# log-contains: slept 0.25
import time


def lambda_handler(event, context):
    start = time.time()
    time.sleep(0.25)
    print('slept', round(time.time() - start, 3))
    return event['Records'][0]['cf']['request']
