# A result Lambda cannot turn into JSON is Runtime.MarshalError, an execution error.
# expect: error
# status: 503
# message-contains: Runtime.MarshalError
def lambda_handler(event, context):
    return {'status': '200', 'body': b'bytes are not JSON'}
