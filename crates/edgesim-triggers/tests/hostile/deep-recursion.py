# Unbounded recursion ends in Python's RecursionError, an execution error.
# expect: error
# status: 503
# message-contains: RecursionError
def down(n):
    return down(n + 1) + 1


def lambda_handler(event, context):
    return down(0)
