// A module whose top-level code never finishes is refused when it is loaded.
// expect: load-error
// message-contains: module initialization did not finish
for (;;) {}
exports.handler = async (event) => event.Records[0].cf.request;
