// An interval never lets the event loop empty.
// expect: timeout
// status: 503
exports.handler = (event, context, callback) => {
  setInterval(() => {}, 10);
  callback(null, event.Records[0].cf.request);
};
