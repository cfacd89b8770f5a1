# No threads: a thread would run outside the step counter.
# expect: error
# status: 503
# message-contains: threads are refused
import threading


def lambda_handler(event, context):
    threading.Thread(target=lambda: None).start()
    return event['Records'][0]['cf']['request']
