# Origin-request: redirect viewers of some countries to a local site, in Python.
# CloudFront-Viewer-Country reaches an origin-request function when the cache key (or the
# origin-request policy) includes it. Viewers from a country in LOCAL_SITES get a 302 to the
# same path on the local site, which CloudFront caches (an hour here) like an origin answer;
# everyone else goes on to the origin unchanged. Old `/blog/` links get a permanent redirect.
import json
from urllib.parse import quote

LOCAL_SITES = {'JP': 'https://example.jp', 'CN': 'https://example.cn'}


def redirect(status, description, location, max_age):
    return {
        'status': status,
        'statusDescription': description,
        'headers': {
            'location': [{'key': 'Location', 'value': location}],
            'cache-control': [{'key': 'Cache-Control', 'value': f'max-age={max_age}'}],
        },
    }


def lambda_handler(event, context):
    request = event['Records'][0]['cf']['request']
    uri = request['uri']
    if uri.startswith('/blog/'):
        return redirect('301', 'Moved Permanently', '/articles/' + uri[len('/blog/'):], 86400)
    country_header = request['headers'].get('cloudfront-viewer-country')
    country = country_header[0]['value'] if country_header else None
    site = LOCAL_SITES.get(country)
    if site:
        query = '?' + request['querystring'] if request['querystring'] else ''
        print(json.dumps({'redirect': country, 'uri': uri}))
        return redirect('302', 'Found', site + quote(uri) + query, 3600)
    return request
