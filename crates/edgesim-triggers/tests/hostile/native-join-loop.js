// The same with arrays: joining a million elements, again and again, inside a try.
// timeout-ms: 200
// expect: timeout
// status: 503
exports.handler = async (event) => {
  const a = new Array(1 << 20).fill('');
  for (;;) { try { a.join(','); } catch (e) {} }
};
