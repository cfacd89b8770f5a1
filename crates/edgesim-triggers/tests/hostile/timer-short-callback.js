// A callback handler with a 300 ms timer pending answers after the timer ran.
// expect: continue
// logs: 1
// log-contains: timer ran
// duration-at-least-ms: 300
// duration-at-most-ms: 305
exports.handler = (event, context, callback) => {
  setTimeout(() => console.log('timer ran'), 300);
  callback(null, event.Records[0].cf.request);
};
