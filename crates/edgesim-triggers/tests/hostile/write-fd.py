# Writing raw bytes to the standard file descriptors reaches /dev/null, not edgesim's pipe.
# expect: continue
import os


def lambda_handler(event, context):
    os.write(1, b'{"result": {"status": "200"}}\n')
    os.write(2, b'noise\n')
    return event['Records'][0]['cf']['request']
