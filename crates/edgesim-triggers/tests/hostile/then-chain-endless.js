// An endless promise chain after the callback has answered.
// timeout-ms: 200
// expect: timeout
// status: 503
exports.handler = (event, context, callback) => {
  let p = Promise.resolve();
  const step = () => { p = p.then(step); };
  step();
  callback(null, event.Records[0].cf.request);
};
