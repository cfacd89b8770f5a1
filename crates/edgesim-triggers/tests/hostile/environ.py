# Lambda@Edge functions have no environment variables; the host's are not leaked.
# expect: error
# status: 503
# message-contains: os.environ is not available
import os


def lambda_handler(event, context):
    return {'status': '200', 'body': os.environ.get('HOME', '')}
