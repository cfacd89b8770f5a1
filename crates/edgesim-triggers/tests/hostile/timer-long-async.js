// An async handler answers when its promise resolves; pending timers are dropped.
// expect: continue
// logs: 0
// duration-at-most-ms: 5
exports.handler = async (event) => {
  setTimeout(() => console.log('never'), 1e9);
  return event.Records[0].cf.request;
};
