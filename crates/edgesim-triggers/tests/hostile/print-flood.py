# A flood of megabyte lines runs out of time: each character printed costs simulated time,
# and only 256 KiB are kept.
# expect: timeout
# status: 503
def lambda_handler(event, context):
    line = 'y' * (1024 * 1024)
    while True:
        print(line)
