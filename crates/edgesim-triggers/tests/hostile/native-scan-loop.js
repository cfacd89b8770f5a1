// Work inside built-ins: a megabyte scanned per call, one counted tick each to the interpreter.
// The scan is charged by its size, so the loop runs out of budget like any other.
// timeout-ms: 200
// expect: timeout
// status: 503
exports.handler = async (event) => {
  const big = 'q'.repeat(1 << 20);
  for (;;) big.indexOf('%');
};
