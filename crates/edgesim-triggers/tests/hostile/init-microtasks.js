// Top-level code that leaves an endless microtask chain: the first invocation inherits it and
// runs out of budget; nothing escapes.
// timeout-ms: 200
// expect: timeout
// status: 503
const spin = () => queueMicrotask(spin);
spin();
exports.handler = async (event) => event.Records[0].cf.request;
