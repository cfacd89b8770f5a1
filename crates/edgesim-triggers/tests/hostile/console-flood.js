// A flood of megabyte lines runs out of time before it runs the agent out of memory: each
// character written costs simulated time, and only 256 KiB are kept.
// expect: timeout
// status: 503
exports.handler = async (event) => {
  const s = 'y'.repeat(1024 * 1024);
  for (;;) console.log(s);
};
