/**
 * Remediation end to end: the demo account, the repository's policy with payments-prod switched
 * to apply, the responder's handler, the emulated EKS/EC2 writes and a real local DynamoDB.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { makeHandler as makeRespond } from '../../handlers/respond';
import { makeHandler as makeSample } from '../../handlers/sample';
import { OPT_IN_TAG_KEY } from '../../lib/policy/types';
import { ec2Error } from '../../tools/mock-aws';
import { testRuntime } from '../support/runtime';
import { accountFromSnapshot, DEMO_SNAPSHOT } from '../support/snapshot-account';
import { useTestHarness } from '../support/harness';

const EVENTS = path.join(__dirname, '..', '..', 'events');
const load = (name: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(EVENTS, name), 'utf8')) as Record<string, unknown>;
const NOW = new Date('2026-11-26T10:00:00Z');

/** The repository's policy with payments-prod in `mode`, and optional action overrides. */
function policyWith(mode: string, actions: Record<string, unknown> = {}): string {
  const doc = parseYaml(readFileSync(path.join(__dirname, '..', '..', 'policy.yml'), 'utf8')) as {
    clusters: Record<string, { mode?: string; actions?: Record<string, unknown> }>;
  };
  const prod = doc.clusters['payments-prod'] ?? {};
  const merged: Record<string, unknown> = { ...(prod.actions ?? {}) };
  for (const [k, v] of Object.entries(actions)) merged[k] = { ...((merged[k] as object) ?? {}), ...(v as object) };
  doc.clusters['payments-prod'] = { ...prod, mode, actions: merged };
  return JSON.stringify(doc);
}

const harness = useTestHarness();

async function setup(mode: string, optIn: boolean, actions: Record<string, unknown> = {}) {
  const account = accountFromSnapshot(DEMO_SNAPSHOT);
  const prod = account.clusters.find((c) => c.name === 'payments-prod')!;
  prod.tags = { ...prod.tags, ...(optIn ? { [OPT_IN_TAG_KEY]: 'apply' } : {}) };
  const t = await testRuntime(account, harness.db, { ALARM_NAME_PREFIX: 'eks-ip-responder-dev-', RESPOND_MIN_INTERVAL_SECONDS: '0', POLICY_JSON: policyWith(mode, actions) }, NOW);
  harness.track(t.aws);
  return { account, ...t, respond: makeRespond(t.rt), sample: makeSample(t.rt) };
}

const addonDoc = (account: ReturnType<typeof accountFromSnapshot>) =>
  JSON.parse(account.addons['payments-prod']?.configurationValues ?? '{}') as { env: Record<string, string> };

describe('remediation, end to end', () => {
  it('applies the warm-target change on an opted-in cluster in apply mode, once, and records and notifies it', async () => {
    const { account, aws, rt, respond } = await setup('apply', true);
    const before = addonDoc(account);
    const out = await respond(load('cloudtrail-insufficient-free-addresses.json'));
    expect(out.status).toBe('handled');
    expect(out.actions?.outcomes).toEqual([expect.objectContaining({ actionId: 'payments-prod/warm-targets/vpc-cni', status: 'succeeded' })]);

    // One UpdateAddon, the whole document, only WARM_IP_TARGET changed, as strings.
    expect(aws.writes.map((w) => w.op)).toEqual(['UpdateAddon']);
    const sent = JSON.parse(String(aws.writes[0]?.input.configurationValues)) as { env: Record<string, string> };
    expect(sent.env.WARM_IP_TARGET).toBe('1');
    expect(sent.env.MINIMUM_IP_TARGET).toBe(before.env.MINIMUM_IP_TARGET);
    expect(Object.keys(sent)).toEqual(Object.keys(addonDoc(account)));
    expect(aws.writes[0]?.input).toMatchObject({ clusterName: 'payments-prod', addonName: 'vpc-cni', resolveConflicts: 'PRESERVE' });

    // Recorded, lock free, cooldown started; notified as an action.
    const history = await rt.actions.getActionHistory('payments-prod');
    expect(history.lock).toBeUndefined();
    expect(history.lastStartedByKind['warm-targets']).toBe(NOW.toISOString());
    const action = aws.published.find((m) => m.Subject?.startsWith('[ACTION DONE] payments-prod'));
    expect(action?.Subject).toContain('WARM_IP_TARGET=1');
    expect(JSON.parse(JSON.parse(action?.Message ?? '{}').sqs)).toMatchObject({ schema: 'eks-ip-responder/action/v1', status: 'succeeded' });
    const metrics = aws.putMetricData.flatMap((r) => r.MetricData ?? []).filter((d) => d.MetricName === 'ActionOutcomes');
    expect(metrics.map((d) => Object.fromEntries((d.Dimensions ?? []).map((x) => [x.Name, x.Value])))).toEqual([
      { ClusterName: 'payments-prod', Kind: 'warm-targets', Status: 'succeeded' },
    ]);

    // The same event again: a duplicate, no second change. Another event: the cooldown blocks it.
    expect((await respond(load('cloudtrail-insufficient-free-addresses.json'))).status).toBe('duplicate');
    const later = await respond(load('cloudtrail-private-ip-limit.json'));
    expect(later.status).toBe('handled');
    expect(aws.writes.filter((w) => w.op === 'UpdateAddon')).toHaveLength(1);
  });

  it('changes nothing on a cluster in apply mode without the opt-in tag, and says why', async () => {
    const { aws, respond } = await setup('apply', false);
    const out = await respond(load('cloudtrail-insufficient-free-addresses.json'));
    expect(out.actions?.planned.blocked).toBeGreaterThan(0);
    expect(out.actions?.planned.apply).toBeUndefined();
    expect(aws.writes).toEqual([]);
    const finding = aws.published.find((m) => m.Subject?.includes('subnet-0e59dfd0c9e3779b1'));
    expect(JSON.parse(finding?.Message ?? '{}').default).toMatch(/Remediation plan:\n- blocked: vpc-cni add-on: WARM_IP_TARGET=1 .*not opted in/);
  });

  it('in dry-run, plans and notifies what it would do, and changes nothing (the sampler included)', async () => {
    const { aws, sample, respond } = await setup('dry-run', true);
    await sample({});
    await respond(load('cloudtrail-insufficient-free-addresses.json'));
    expect(aws.writes).toEqual([]);
    const finding = aws.published.find((m) => m.Subject?.includes('subnet-0e59dfd0c9e3779b1'));
    expect(JSON.parse(finding?.Message ?? '{}').default).toMatch(/- dry-run: vpc-cni add-on: WARM_IP_TARGET=1 MINIMUM_IP_TARGET=10 \(was WARM_IP_TARGET=5 MINIMUM_IP_TARGET=10\)\. Predicted: .*frees \d+ IPs in subnet-0e59dfd0c9e3779b1/);
  });

  it('never lets the sampler change anything, even for an opted-in cluster in apply mode', async () => {
    const { aws, sample } = await setup('apply', true);
    const out = await sample({});
    expect(out.findings).toBeGreaterThan(0);
    expect(aws.writes).toEqual([]);
  });

  it('acts on nothing while the data is incomplete', async () => {
    const { aws, respond } = await setup('apply', true);
    aws.faults['DescribeNetworkInterfaces'] = () => ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.');
    const out = await respond(load('cloudtrail-insufficient-free-addresses.json'));
    expect(out.actions?.planned.apply).toBeUndefined();
    expect(aws.writes).toEqual([]);
  });

  it('records and notifies a refused change, and does not retry it in a loop', async () => {
    const { aws, rt, respond } = await setup('apply', true);
    aws.faults['UpdateAddon'] = () => Object.assign(new Error('Addon vpc-cni is being updated'), { name: 'ResourceInUseException' });
    const out = await respond(load('cloudtrail-insufficient-free-addresses.json'));
    expect(out.actions?.outcomes[0]).toMatchObject({ status: 'failed' });
    expect(out.actions?.outcomes[0]?.detail).toMatch(/ResourceInUseException/);
    expect(aws.published.some((m) => m.Subject?.startsWith('[ACTION FAILED] payments-prod'))).toBe(true);
    const history = await rt.actions.getActionHistory('payments-prod');
    expect(history.lock).toBeUndefined();
    // The failure starts the cooldown: the next event does not try again at once.
    await respond(load('cloudtrail-private-ip-limit.json'));
    expect(aws.calls['UpdateAddon']).toBe(1);
  });

  it('the remediation tick acts only on clusters in apply mode', async () => {
    const { aws, respond } = await setup('apply', true);
    const out = await respond(load('scheduled.json'));
    expect(out.clusters).toEqual(['payments-prod']);
    expect(aws.writes.map((w) => w.op)).toEqual(['UpdateAddon']);
  });

  it('replaces a nodegroup capped by its instance type in two steps, one per cycle, never both at once', async () => {
    // Prefix delegation off, so that the replacement is the action; the capacity bound widened so that
    // the larger type's pods fit; api-m5l spread over the two subnets that have room for the overlap
    // (in the demo it sits in eu-west-1a only, where the replacement check rightly blocks it).
    const { account, aws, respond, setNow } = await setup('apply', true, {
      warmTargets: { allowed: false },
      prefixDelegation: { allowed: false },
      instanceTypes: { maxCapacityIncreasePercent: 100 },
    });
    const old = () => account.nodegroups['payments-prod']!.find((n) => n.nodegroupName === 'api-m5l')!;
    old().subnets = ['subnet-0af8d12343c6ef362', 'subnet-0cb3f597078dde6c4'];
    const desired = old().scalingConfig?.desiredSize;

    // Cycle 1: create the replacement.
    const first = await respond(load('cloudtrail-private-ip-limit.json'));
    expect(first.actions?.outcomes).toEqual([expect.objectContaining({ actionId: 'payments-prod/instance-types/api-m5l', status: 'in-progress' })]);
    expect(aws.writes.map((w) => w.op)).toEqual(['CreateNodegroup']);
    const created = aws.writes[0]!.input as { nodegroupName: string; instanceTypes: string[]; subnets: string[]; scalingConfig: { desiredSize: number }; tags: Record<string, string> };
    expect(created.nodegroupName).toMatch(/^api-m5l-ipr-[0-9a-f]{8}$/);
    expect(created.subnets).toEqual(old().subnets);
    expect(created.scalingConfig.desiredSize).toBeGreaterThanOrEqual(desired ?? 0);
    expect(created.tags['eks-ip-responder/replaces']).toBe('api-m5l');
    expect(old().scalingConfig?.desiredSize).toBe(desired);

    // Cycle 2 (the remediation tick): the new nodegroup is ACTIVE, so the old one is scaled down.
    setNow(new Date('2026-11-26T10:05:00Z'));
    const second = await respond(load('scheduled.json'));
    expect(second.actions?.outcomes[0]).toMatchObject({ status: 'in-progress' });
    expect(aws.writes.map((w) => w.op)).toEqual(['CreateNodegroup', 'UpdateNodegroupConfig']);
    expect(aws.writes[1]!.input).toMatchObject({ nodegroupName: 'api-m5l', scalingConfig: { minSize: 0, desiredSize: 0 } });

    // Cycle 3: the scale-down finished; done, lock free, nothing more written.
    setNow(new Date('2026-11-26T10:10:00Z'));
    const third = await respond(load('scheduled.json'));
    expect(third.actions?.outcomes[0]).toMatchObject({ status: 'succeeded' });
    expect(aws.writes).toHaveLength(2);
    expect(aws.published.filter((m) => m.Subject?.startsWith('[ACTION')).map((m) => m.Subject?.split(']')[0])).toEqual([
      '[ACTION IN PROGRESS',
      '[ACTION IN PROGRESS',
      '[ACTION DONE',
    ]);
  });

  it('rolls the nodes that predate prefix delegation onto new nodes of the same type, in two steps', async () => {
    const account = accountFromSnapshot(DEMO_SNAPSHOT);
    const dev = account.clusters.find((c) => c.name === 'batch-dev')!;
    dev.tags = { ...dev.tags, [OPT_IN_TAG_KEY]: 'apply' };
    const doc = parseYaml(readFileSync(path.join(__dirname, '..', '..', 'policy.yml'), 'utf8')) as { clusters: Record<string, unknown> };
    // batch-dev in apply mode; warm targets off so that the rollout is the change of this cycle.
    doc.clusters['batch-dev'] = { mode: 'apply', actions: { warmTargets: { allowed: false } } };
    const t = await testRuntime(account, harness.db, { RESPOND_MIN_INTERVAL_SECONDS: '0', POLICY_JSON: JSON.stringify(doc) }, NOW);
    harness.track(t.aws);
    const respond = makeRespond(t.rt);
    const old = () => account.nodegroups['batch-dev']!.find((n) => n.nodegroupName === 'legacy-t3')!;

    const first = await respond(load('scheduled.json'));
    expect(first.clusters).toEqual(['batch-dev']);
    expect(first.actions?.outcomes).toEqual([expect.objectContaining({ actionId: 'batch-dev/prefix-rollout/legacy-t3', status: 'in-progress' })]);
    expect(t.aws.writes.map((w) => w.op)).toEqual(['CreateNodegroup']);
    const created = t.aws.writes[0]!.input as { nodegroupName: string; instanceTypes: string[]; subnets: string[] };
    expect(created.instanceTypes).toEqual(old().instanceTypes);
    expect(created.subnets).toEqual(old().subnets);
    expect(created.nodegroupName).toMatch(/^legacy-t3-ipr-[0-9a-f]{8}$/);

    t.setNow(new Date('2026-11-26T10:05:00Z'));
    await respond(load('scheduled.json'));
    expect(t.aws.writes.map((w) => w.op)).toEqual(['CreateNodegroup', 'UpdateNodegroupConfig']);
    expect(t.aws.writes[1]!.input).toMatchObject({ nodegroupName: 'legacy-t3', scalingConfig: { minSize: 0, desiredSize: 0 } });
    expect(t.aws.published.some((m) => m.Subject?.startsWith('[ACTION IN PROGRESS] batch-dev: roll nodegroup legacy-t3 onto new nodes'))).toBe(true);
  });
});

describe('the spare subnets', () => {
  /** DescribeSubnets calls that read the policy's spare subnet (the planner's fresh read). */
  async function spareReads(thresholds?: Record<string, number>): Promise<number> {
    const account = accountFromSnapshot(DEMO_SNAPSHOT);
    const doc = JSON.parse(policyWith('dry-run')) as { clusters: Record<string, { thresholds?: Record<string, number>; actions?: { cniSubnets?: { spareSubnets?: string[] } } }> };
    const spare = doc.clusters['payments-prod']?.actions?.cniSubnets?.spareSubnets ?? [];
    expect(spare.length).toBeGreaterThan(0);
    if (thresholds) doc.clusters['payments-prod']!.thresholds = thresholds;
    const t = await testRuntime(account, harness.db, { POLICY_JSON: JSON.stringify(doc) }, NOW);
    harness.track(t.aws);
    let reads = 0;
    t.aws.faults['DescribeSubnets'] = (input) => {
      const values = (input['Filters'] as { Values?: string[] }[] | undefined)?.flatMap((f) => f.Values ?? []) ?? [];
      if (values.length === spare.length && spare.every((id) => values.includes(id))) reads++;
      return undefined;
    };
    await makeSample(t.rt)({ clusterNames: ['payments-prod'] });
    return reads;
  }

  it('are read when a subnet-exhaustion finding could use them', async () => {
    expect(await spareReads()).toBe(1);
  });

  it('are not read when no finding could use them', async () => {
    expect(await spareReads({ subnetFreeIpsWarning: 0, subnetFreeIpsCritical: 0, subnetUtilizationWarning: 1 })).toBe(0);
  });
});
