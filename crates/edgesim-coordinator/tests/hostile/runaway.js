// Half of the objects (by the last digit of the URI) meet a runaway handler of some kind; the
// other half pass. Each runaway must end as a timeout (503) and the run go on.
'use strict';
exports.handler = (event, context, callback) => {
  const request = event.Records[0].cf.request;
  switch (request.uri[request.uri.length - 1]) {
    case '1': { const spin = () => queueMicrotask(spin); spin(); break; }
    case '3': /(a+)+$/.test('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'); break;
    case '5': for (;;) {}
    case '7': { const s = 'z'.repeat(1 << 16); for (;;) console.log(s); }
    case '9': setInterval(() => {}, 1); break;
    default: break;
  }
  callback(null, request);
};
