// Waiting for a timer past the timeout is a timeout, whatever the delay.
// expect: timeout
// status: 503
// duration-at-most-ms: 5000
exports.handler = async (event) => {
  await new Promise((resolve) => setTimeout(resolve, 1e9));
  return event.Records[0].cf.request;
};
