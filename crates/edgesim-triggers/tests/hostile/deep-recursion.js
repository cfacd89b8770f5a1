// Unbounded recursion ends in a RangeError, an execution error.
// expect: error
// status: 503
exports.handler = async (event) => {
  const down = (n) => down(n + 1) + 1;
  return down(0);
};
