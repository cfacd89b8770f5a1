// The same handler with callbackWaitsForEmptyEventLoop = false answers at once.
// expect: continue
// duration-at-most-ms: 5
exports.handler = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  setTimeout(() => {}, 1e9);
  callback(null, event.Records[0].cf.request);
};
