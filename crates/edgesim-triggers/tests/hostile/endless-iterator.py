# An endless C iterator drained by C code that keeps no memory (a set of one item, `max`):
# `itertools.repeat` and `count` yield through Python code, so every item is counted.
# timeout-ms: 200
# expect: timeout
# status: 503
# duration-at-least-ms: 200
# duration-at-most-ms: 200
import itertools


def lambda_handler(event, context):
    set(itertools.repeat(1, 10 ** 12))
    max(itertools.count())
    return event['Records'][0]['cf']['request']
