# Allocating past the 128 MB of a viewer-side function.
# expect: out_of_memory
# status: 503
def lambda_handler(event, context):
    keep = []
    while True:
        keep.append(bytearray(1 << 20))
