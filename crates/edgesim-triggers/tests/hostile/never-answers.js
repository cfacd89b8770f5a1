// Returns without calling the callback or returning a promise: an invalid (null) result.
// expect: invalid
// status: 502
exports.handler = (event, context, callback) => {};
