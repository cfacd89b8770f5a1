# The same through a compiled pattern's method, and a backreference: both can backtrack
# exponentially, both are charged as such and cut off deterministically.
# timeout-ms: 200
# expect: timeout
# status: 503
# duration-at-least-ms: 200
# duration-at-most-ms: 200
import re

PATTERN = re.compile(r'^(\w+\s?)*$')


def lambda_handler(event, context):
    re.search(r'(x+)\1+y', 'x' * 12)
    PATTERN.fullmatch('an innocent looking sentence that ends badly!')
    return event['Records'][0]['cf']['request']
