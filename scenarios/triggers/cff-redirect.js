// CloudFront Function (cloudfront-js-2.0), viewer-request: old /blog/ links get a permanent
// redirect at the PoP, without going to the cache or the origin. The KeyValueStore
// (cff-redirects.json) maps the popular old URLs to their new, renamed articles; any other
// /blog/N goes to /articles/N. Everything else passes through unchanged.
import cf from 'cloudfront';

const kvs = cf.kvs();

async function handler(event) {
    const request = event.request;
    const uri = request.uri;
    if (!uri.startsWith('/blog/')) {
        return request;
    }
    let location;
    try {
        location = await kvs.get(uri);
    } catch (e) {
        location = '/articles/' + uri.slice('/blog/'.length);
    }
    return {
        statusCode: 301,
        statusDescription: 'Moved Permanently',
        headers: {
            location: { value: location },
            'cache-control': { value: 'max-age=86400' },
        },
    };
}
