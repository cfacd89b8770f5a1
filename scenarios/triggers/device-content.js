// Origin-request: serve device-specific content by prefixing the URI.
// Needs CloudFront-Is-*-Viewer in the cache key (or origin-request policy).
'use strict';

const desktopPath = '/desktop';
const mobilePath = '/mobile';
const tabletPath = '/tablet';
const smarttvPath = '/smarttv';

function isTrue(headers, name) {
    return headers[name] && headers[name][0].value === 'true';
}

exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;
    const headers = request.headers;

    if (isTrue(headers, 'cloudfront-is-smarttv-viewer')) {
        request.uri = smarttvPath + request.uri;
    } else if (isTrue(headers, 'cloudfront-is-tablet-viewer')) {
        request.uri = tabletPath + request.uri;
    } else if (isTrue(headers, 'cloudfront-is-mobile-viewer')) {
        request.uri = mobilePath + request.uri;
    } else if (isTrue(headers, 'cloudfront-is-desktop-viewer')) {
        request.uri = desktopPath + request.uri;
    }

    callback(null, request);
};
