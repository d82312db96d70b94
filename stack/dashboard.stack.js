// resources/dashboard.yml reads the dashboard's body from here, so that every graph shows a
// metric under the name the sampler publishes it (stack/dashboard.ts builds it from
// lib/output/publish/metrics.ts METRIC):
//   DashboardBody: !Sub ${file(./stack/dashboard.stack.js):body}
// osls calls the exported function at packaging time (tsx, a dependency of osls, compiles the
// TypeScript) with { options, resolveConfigurationProperty, resolveVariable }; resolveVariable
// takes a variable without its `${}`, here the stage params the dashboard shows.
//
// It answers { body }: the text of the Fn::Sub, in which CloudFormation fills in the alarms'
// ARNs, the region and the sampler's function name. A threshold or period param that is not a
// number fails the packaging, naming the param, instead of deploying a body CloudWatch refuses.
module.exports = async ({ resolveVariable }) => {
  // tsx's hook for the duration of one require (as in policy.stack.js): a plain require also
  // runs under jest, whose own transform compiles the TypeScript there, so the tests exercise
  // this very file.
  const { register } = require('tsx/cjs/api');
  const unregister = register();
  let dashboard;
  try {
    dashboard = require('./dashboard.ts');
  } finally {
    unregister();
  }
  const param = (name) => resolveVariable(`param:${name}`);
  const number = async (name) => {
    const value = await param(name);
    const parsed = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    if (!Number.isFinite(parsed)) throw new Error(`param ${name}: ${JSON.stringify(value)} is not a number`);
    return parsed;
  };
  const body = dashboard.dashboardBody({
    namespace: String(await param('metricNamespace')),
    periodSeconds: await number('alarmPeriodSeconds'),
    subnetFreeIpsAlarmThreshold: await number('subnetFreeIpsAlarmThreshold'),
    controlPlaneFreeIpsAlarmThreshold: await number('controlPlaneFreeIpsAlarmThreshold'),
  });
  return { body };
};
