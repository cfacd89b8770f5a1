# No network: the socket module cannot be imported.
# expect: error
# status: 503
# message-contains: import of `socket` refused
import json


def lambda_handler(event, context):
    import socket
    return json.loads(socket.gethostname())
