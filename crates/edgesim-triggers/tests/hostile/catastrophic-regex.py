# Exponential backtracking in C (`_sre`): a repeat inside a repeat is charged 2**n characters
# for a subject of n, so the call is refused as a timeout before it runs, on every machine.
# timeout-ms: 200
# expect: timeout
# status: 503
# duration-at-least-ms: 200
# duration-at-most-ms: 200
import re


def lambda_handler(event, context):
    re.match(r'(a+)+$', 'a' * 30 + 'b')
    return event['Records'][0]['cf']['request']
