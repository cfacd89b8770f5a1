// Viewer-request: cookie-based A/B test without a redirect.
// Viewers carrying the experiment cookie keep their group; new viewers are assigned at random
// (75% control, 25% treatment) and the request is rewritten to the group's path, so each group
// is cached separately. A viewer-response function would set the cookie for new viewers.
'use strict';

const COOKIE_NAME = 'X-Experiment-Name';
const TREATMENT_SHARE = 0.25;

exports.handler = (event, context, callback) => {
    const request = event.Records[0].cf.request;
    const headers = request.headers;

    if (!request.uri.startsWith('/experiment/')) {
        callback(null, request);
        return;
    }

    let group;
    if (headers.cookie) {
        for (let i = 0; i < headers.cookie.length; i++) {
            const pairs = headers.cookie[i].value.split(';');
            for (const pair of pairs) {
                const [name, value] = pair.trim().split('=');
                if (name === COOKIE_NAME && (value === 'A' || value === 'B')) {
                    group = value;
                }
            }
        }
    }

    if (!group) {
        group = Math.random() < TREATMENT_SHARE ? 'B' : 'A';
        const cookie = `${COOKIE_NAME}=${group}`;
        if (headers.cookie && headers.cookie.length > 0) {
            headers.cookie[0].value += `; ${cookie}`;
        } else {
            headers.cookie = [{ key: 'Cookie', value: cookie }];
        }
        console.log(`assigned new viewer to group ${group}`);
    }

    const prefix = group === 'B' ? '/experiment/treatment' : '/experiment/control';
    request.uri = prefix + request.uri.substring('/experiment'.length);
    callback(null, request);
};
