// serverless.yml reads the responder's EventBridge patterns from here, so that the stack
// deploys the very patterns lib/events/patterns.ts exports and the tests check.
// `${file(./lib/events/patterns.stack.js):cloudTrailAllocationFailure}` — osls calls the
// exported function at packaging time; tsx (a dependency of osls) compiles the TypeScript.
module.exports = async () => {
  const { require: tsxRequire } = require('tsx/cjs/api');
  const { EVENT_PATTERNS } = tsxRequire('./patterns.ts', __filename);
  return JSON.parse(JSON.stringify(EVENT_PATTERNS));
};
