// A microtask that queues itself for ever: the answer is never delivered, because Lambda
// delivers it only once the microtask queue is empty.
// timeout-ms: 200
// expect: timeout
// status: 503
exports.handler = async (event) => {
  const spin = () => queueMicrotask(spin);
  spin();
  return event.Records[0].cf.request;
};
