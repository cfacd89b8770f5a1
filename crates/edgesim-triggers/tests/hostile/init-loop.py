# A module whose top-level code never finishes is refused when it is loaded.
# expect: load-error
# message-contains: module initialization did not finish
while True:
    pass


def lambda_handler(event, context):
    return event['Records'][0]['cf']['request']
