// A callback handler waits for the event loop to empty (callbackWaitsForEmptyEventLoop is true
// by default): a pending 1e9 ms timer makes it time out at the function's timeout.
// expect: timeout
// status: 503
// duration-at-least-ms: 5000
// duration-at-most-ms: 5000
exports.handler = (event, context, callback) => {
  setTimeout(() => {}, 1e9);
  callback(null, event.Records[0].cf.request);
};
