# The plainest runaway: counted steps run out at the timeout, whatever the machine.
# timeout-ms: 200
# expect: timeout
# status: 503
# duration-at-least-ms: 200
# duration-at-most-ms: 200
def lambda_handler(event, context):
    while True:
        pass
