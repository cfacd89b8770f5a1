# Viewer-request: cookie-based A/B test without a redirect, in Python.
# A viewer whose Cookie header names a group keeps it; a new viewer is put in a group at random
# (75% control "A", 25% treatment "B"), the cookie is added to the request so the origin and
# the logs see the choice, and the URI is rewritten to the group's path so each group is cached
# apart. A viewer-response function would set the cookie on the way back.
import random

COOKIE_NAME = 'X-Experiment-Name'
TREATMENT_SHARE = 0.25
PREFIXES = {'A': '/experiment/control', 'B': '/experiment/treatment'}


def group_from_cookies(headers):
    for line in headers.get('cookie', []):
        for pair in line['value'].split(';'):
            name, _, value = pair.strip().partition('=')
            if name == COOKIE_NAME and value in PREFIXES:
                return value
    return None


def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request']
    if not request['uri'].startswith('/experiment/'):
        return request
    headers = request['headers']
    group = group_from_cookies(headers)
    if group is None:
        group = 'B' if random.random() < TREATMENT_SHARE else 'A'
        cookie = f'{COOKIE_NAME}={group}'
        if headers.get('cookie'):
            headers['cookie'][0]['value'] += '; ' + cookie
        else:
            headers['cookie'] = [{'key': 'Cookie', 'value': cookie}]
        print(f'assigned new viewer to group {group}')
    request['uri'] = PREFIXES[group] + request['uri'][len('/experiment'):]
    return request
