// The plainest runaway.
// timeout-ms: 200
// expect: timeout
// status: 503
// duration-at-least-ms: 200
// duration-at-most-ms: 200
exports.handler = (event, context, callback) => {
  for (;;) {}
};
