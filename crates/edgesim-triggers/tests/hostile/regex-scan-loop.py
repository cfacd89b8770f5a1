# Linear regex scans of a long subject, over and over: each call is charged by the subject's
# length (one step per 32 characters), so the loop runs out of budget at the timeout instead
# of running uncounted in C.
# timeout-ms: 200
# expect: timeout
# status: 503
# duration-at-least-ms: 200
# duration-at-most-ms: 200
import re

HAYSTACK = 'x' * (1 << 20)


def lambda_handler(event, context):
    while True:
        re.search('needle', HAYSTACK)
