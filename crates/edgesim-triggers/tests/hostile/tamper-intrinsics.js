// Replacing the intrinsics the event loop could use does not bend simulated time: the wait
// still costs the full timeout.
// expect: timeout
// status: 503
// duration-at-least-ms: 5000
exports.handler = async (event) => {
  Math.max = () => 0;
  Number = () => 0;
  Array.prototype.push = function () { return 0; };
  Array.prototype.splice = function () { return []; };
  await new Promise((resolve) => setTimeout(resolve, 6000));
  return event.Records[0].cf.request;
};
