/**
 * `npm run package:central [-- --regions eu-west-1,us-east-1] [--namespace EKS/IPResponder]
 * [--period 300] [--out dist/central/template.json]`: writes the central stack's CloudFormation
 * template (stack/central/central.ts), deployed once per region in the monitoring account
 * (docs/organisation-central.md). --namespace and --period are the members' metricNamespace and
 * alarmPeriodSeconds; --regions the dashboard's rows (default: the region it is deployed in).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { centralTemplate } from '../stack/central/central';

const { values } = parseArgs({
  options: {
    regions: { type: 'string', default: '' },
    namespace: { type: 'string', default: 'EKS/IPResponder' },
    period: { type: 'string', default: '300' },
    out: { type: 'string', default: 'dist/central/template.json' },
  },
});
const period = Number(values.period);
if (!Number.isInteger(period) || period < 60) throw new Error(`--period ${values.period}: a whole number of seconds, at least 60 (the members' alarmPeriodSeconds)`);
const regions = values.regions.split(',').map((r) => r.trim()).filter((r) => r !== '');
for (const r of regions) if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(r)) throw new Error(`--regions: "${r}" is not a region name`);
const template = centralTemplate({ namespace: values.namespace, periodSeconds: period, regions });
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(template, null, 2)}\n`);
console.log(`wrote ${values.out}: ${Object.keys(template['Resources'] as object).length} resources, dashboard rows for ${regions.length > 0 ? regions.join(', ') : 'the deploy region'}`);
