// Allocating past the 128 MB of a viewer-side function.
// expect: out_of_memory
// status: 503
exports.handler = async (event) => {
  const keep = [];
  for (;;) keep.push(new Array(1 << 20).fill(1));
};
