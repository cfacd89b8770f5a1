// Ten thousand microtasks after the answer: they drain, then the answer is delivered.
// expect: continue
// logs: 1
// log-contains: drained 10000
exports.handler = async (event) => {
  let n = 0;
  const step = () => { if (++n < 10000) queueMicrotask(step); else console.log('drained', n); };
  queueMicrotask(step);
  return event.Records[0].cf.request;
};
