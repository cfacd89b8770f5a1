# Five thousand lines: the first 1,000 are kept, then one line says what was dropped.
# expect: continue
# logs: 1001
# log-contains: console output truncated: 4000 line(s) of 5000 written
def lambda_handler(event, context):
    for i in range(5000):
        print('line', i)
    return event['Records'][0]['cf']['request']
