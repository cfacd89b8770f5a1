# Exiting the runtime is an execution error.
# expect: error
# status: 503
# message-contains: Runtime.ExitError
import sys


def lambda_handler(event, context):
    sys.exit(3)
