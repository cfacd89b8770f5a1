// Throwing something that is not an Error.
// expect: error
// status: 503
exports.handler = async () => { throw 42; };
