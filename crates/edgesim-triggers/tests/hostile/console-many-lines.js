// Five thousand lines: the first 1,000 are kept, then one line says what was dropped.
// expect: continue
// logs: 1001
// log-contains: console output truncated: 4000 line(s) of 5000 written
exports.handler = async (event) => {
  for (let i = 0; i < 5000; i++) console.log('line', i);
  return event.Records[0].cf.request;
};
