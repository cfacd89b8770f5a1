// Exponential backtracking: regex steps are counted in the same budget.
// timeout-ms: 200
// expect: timeout
// status: 503
exports.handler = async (event) => {
  /(a+)+$/.test('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!');
  return event.Records[0].cf.request;
};
