# Lambda@Edge code has no business reading the host's files.
# expect: error
# status: 503
# message-contains: PermissionError: `open` refused
def lambda_handler(event, context):
    with open('/etc/passwd') as f:
        return {'status': '200', 'body': f.read()}
