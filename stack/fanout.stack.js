// serverless.yml reads the sampler's fan-out mode from here (stack/fanout.ts builds it):
//   resources: - ${file(./stack/fanout.stack.js):resources}     the state machine, its role, its
//                                                                schedule and that schedule's role
//                                                                (cycleMode=per-cluster), or none
//   functions.sample.events: ${file(./stack/fanout.stack.js):sampleEvents}   the sampler's schedule
//                                                                (single), or none (per-cluster)
//   functions.respond.events[schedule].enabled: ${file(./stack/fanout.stack.js):remediationTickEnabled}
//                                                                false when the state machine runs the tick
// osls calls the exported function at packaging time with { resolveVariable }. A cycleMode or
// fanOutMaxConcurrency the stack would not deploy with fails the packaging, every problem named
// (stack/checks.ts cycleModeProblems).
module.exports = async ({ resolveVariable }) => {
  // tsx's hook for the duration of one require (as in policy.stack.js).
  const { register } = require('tsx/cjs/api');
  const unregister = register();
  let fanout;
  let checks;
  try {
    fanout = require('./fanout.ts');
    checks = require('./checks.ts');
  } finally {
    unregister();
  }
  const variable = async (name) => String((await resolveVariable(name)) ?? '');
  const params = {
    cycleMode: await variable('param:cycleMode'),
    fanOutMaxConcurrency: await variable('param:fanOutMaxConcurrency'),
    scheduleRate: await variable('param:scheduleRate'),
    remediationRate: await variable('param:remediationRate'),
    namePrefix: `${await variable('self:service')}-${await variable('sls:stage')}`,
  };
  const problems = checks.cycleModeProblems(params);
  if (problems.length > 0) {
    throw new Error(`The stack would not deploy (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n- ${problems.join('\n- ')}`);
  }
  return {
    resources: { Resources: fanout.fanOutResources(params) },
    sampleEvents: fanout.sampleEvents(params),
    remediationTickEnabled: fanout.remediationTickEnabled(params),
  };
};
