# Switching the step counter off is refused (a loop after it would run uncounted).
# expect: error
# status: 503
# message-contains: `sys.settrace` refused
import sys


def lambda_handler(event, context):
    sys.settrace(None)
    while True:
        pass
