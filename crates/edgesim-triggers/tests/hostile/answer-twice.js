// Only the first answer counts.
// stage: viewer-request
// expect: respond
// status: 403
exports.handler = (event, context, callback) => {
  callback(null, { status: '403', statusDescription: 'Forbidden' });
  callback(null, { status: '200', statusDescription: 'OK' });
};
