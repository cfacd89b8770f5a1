# No processes: subprocess cannot be imported, os.system is refused.
# expect: error
# status: 503
# message-contains: import of `subprocess` refused
def lambda_handler(event, context):
    import subprocess
    return {'status': '200', 'body': subprocess.run(['id'], capture_output=True).stdout.decode()}
