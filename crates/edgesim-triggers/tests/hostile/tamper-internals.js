// The sandbox's machinery is out of reach: `__edgesim` reads as undefined, cannot be redefined,
// and its getter gives nothing either.
// expect: continue
// logs: 1
// log-contains: internals undefined undefined TypeError
exports.handler = async (event) => {
  const d = Object.getOwnPropertyDescriptor(globalThis, '__edgesim');
  let redefine = 'allowed';
  try { Object.defineProperty(globalThis, '__edgesim', { value: {} }); } catch (e) { redefine = e.name; }
  console.log('internals', typeof globalThis.__edgesim, typeof d.get.call(globalThis), redefine);
  return event.Records[0].cf.request;
};
