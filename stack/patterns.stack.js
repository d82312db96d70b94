// serverless.yml reads the responder's EventBridge patterns from here, so that the stack
// deploys the very patterns lib/events/patterns.ts exports and the tests check.
// `${file(./stack/patterns.stack.js):cloudTrailAllocationFailure}` — osls calls the
// exported function at packaging time; tsx (a dependency of osls) compiles the TypeScript.
//
// It answers every pattern of eventPatterns(): the stage-independent ones and alarmStateChange,
// the stack's answered alarms by exact name. Their prefix `<service>-<stage>-` is the one the
// alarms are named with in resources/alarms.yml (`${self:service}-${sls:stage}-`): osls passes
// { options, resolveConfigurationProperty, resolveVariable } (osls
// lib/configuration/variables/sources/file.js), and resolveVariable takes a variable without
// its `${}`.
module.exports = async ({ resolveVariable }) => {
  // tsx's hook for the duration of one require (as in policy.stack.js): a plain
  // require also runs under jest, whose own transform compiles the TypeScript there, so the
  // tests exercise this very file.
  const { register } = require('tsx/cjs/api');
  const unregister = register();
  let patterns;
  try {
    patterns = require('../lib/events/patterns.ts');
  } finally {
    unregister();
  }
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  return JSON.parse(JSON.stringify(patterns.eventPatterns(`${service}-${stage}-`)));
};
