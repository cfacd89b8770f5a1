// One 8 MB line is cut to the 256 KiB kept per invocation (and costs its writing time).
// expect: continue
// logs: 2
// log-contains: console output truncated: 1 line(s) of 1 written
// duration-at-least-ms: 8
exports.handler = async (event) => {
  console.log('x'.repeat(8 * 1024 * 1024));
  return event.Records[0].cf.request;
};
