// Origin-request: content by country.
// EU viewers are served from a bucket in Frankfurt, viewers in countries listed in REDIRECTS
// are sent to a local site, everyone else stays on the default origin.
// Needs CloudFront-Viewer-Country in the cache key (or origin-request policy).
'use strict';

const EU_COUNTRIES = ['AT', 'BE', 'DE', 'DK', 'ES', 'FI', 'FR', 'IE', 'IT', 'NL', 'PL', 'PT', 'SE'];
const EU_BUCKET = 'content-eu.s3.eu-central-1.amazonaws.com';
const REDIRECTS = { CN: 'https://example.cn', JP: 'https://example.jp' };

exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    const header = request.headers['cloudfront-viewer-country'];
    const country = header ? header[0].value : undefined;

    if (country && REDIRECTS[country]) {
        return {
            status: '302',
            statusDescription: 'Found',
            headers: {
                location: [{ key: 'Location', value: REDIRECTS[country] + request.uri }],
                'cache-control': [{ key: 'Cache-Control', value: 'max-age=3600' }],
            },
        };
    }

    if (country && EU_COUNTRIES.includes(country) && request.origin.s3) {
        request.origin.s3.domainName = EU_BUCKET;
        request.origin.s3.region = 'eu-central-1';
        request.headers['host'] = [{ key: 'host', value: EU_BUCKET }];
    }

    return request;
};
