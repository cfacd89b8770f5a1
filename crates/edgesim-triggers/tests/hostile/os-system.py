# os is importable (the standard library needs it) but running commands is refused.
# expect: error
# status: 503
# message-contains: `os.system` refused
import os


def lambda_handler(event, context):
    os.system('touch /tmp/edgesim-escaped')
    return event['Records'][0]['cf']['request']
