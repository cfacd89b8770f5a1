// Origin-request: gradual migration from the old S3 bucket to the new one.
// Each cache miss goes to the new bucket with probability NEW_ORIGIN_SHARE (80/20 split),
// by rewriting request.origin.s3 and the Host header to match.
'use strict';

const NEW_ORIGIN_SHARE = 0.2;
const NEW_BUCKET = 'new-bucket.s3.eu-central-1.amazonaws.com';
const NEW_REGION = 'eu-central-1';

exports.handler = async (event) => {
    const request = event.Records[0].cf.request;

    if (request.origin && request.origin.s3 && Math.random() < NEW_ORIGIN_SHARE) {
        request.origin.s3.domainName = NEW_BUCKET;
        request.origin.s3.region = NEW_REGION;
        request.headers['host'] = [{ key: 'host', value: NEW_BUCKET }];
    }

    return request;
};
