// The sandbox's machinery is out of reach: `__edgesim` is frozen and cannot be redefined, and
// its functions refuse a caller without the host's secret, so handler code can neither reset
// its simulated time nor run its own timers.
// expect: continue
// logs: 1
// log-contains: internals frozen TypeError TypeError TypeError TypeError
exports.handler = async (event) => {
  const es = globalThis.__edgesim;
  let redefine = 'allowed';
  try { Object.defineProperty(globalThis, '__edgesim', { value: {} }); } catch (e) { redefine = e.name; }
  const attempt = (f) => { try { f(); return 'ran'; } catch (e) { return e.name; } };
  console.log('internals', Object.isFrozen(es) ? 'frozen' : 'open', redefine,
    attempt(() => es.virtualMs(undefined)),
    attempt(() => es.runTimer(0)),
    attempt(() => es.seal(1)));
  return event.Records[0].cf.request;
};
