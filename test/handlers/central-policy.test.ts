/**
 * The central policy end to end: the demo account, the handlers, a real local DynamoDB ledger,
 * and a local server answering as SSM does (AWS_ENDPOINT_URL_SSM, signatures checked). The
 * packaged policy (POLICY_JSON here, as the bundle in a deployed function) has payments-prod in
 * apply: the ceiling.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { makeHandler as makeRespond } from '../../handlers/respond';
import { makeHandler as makeSample } from '../../handlers/sample';
import { actionRecordSk } from '../../lib/act/ledger';
import { policyVersion } from '../../lib/policy/load';
import { OPT_IN_TAG_KEY } from '../../lib/policy/types';
import { startCentralPolicyServer, type CentralAnswer, type CentralPolicyServer } from '../support/central-policy-server';
import { useTestHarness } from '../support/harness';
import { testRuntime } from '../support/runtime';
import { accountFromSnapshot, DEMO_SNAPSHOT } from '../support/snapshot-account';

const EVENTS = path.join(__dirname, '..', '..', 'events');
const load = (name: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(EVENTS, name), 'utf8')) as Record<string, unknown>;
const NOW = new Date('2026-11-26T10:00:00Z');
const ARN = 'arn:aws:ssm:eu-west-1:999988887777:parameter/eks-ip-responder/policy';

type Doc = { default: Record<string, unknown>; clusters: Record<string, { mode?: string; actions?: Record<string, Record<string, unknown>>; thresholds?: Record<string, unknown> }> };

/** The repository's policy with payments-prod in apply mode, changed by `change`. */
function policyDoc(change: (doc: Doc) => void = () => undefined): string {
  const doc = parseYaml(readFileSync(path.join(__dirname, '..', '..', 'policy.yml'), 'utf8')) as Doc;
  doc.clusters['payments-prod'] = { ...doc.clusters['payments-prod'], mode: 'apply' };
  change(doc);
  return JSON.stringify(doc);
}
const PACKAGED = policyDoc();

const harness = useTestHarness();
let server: CentralPolicyServer;

beforeEach(async () => {
  server = await startCentralPolicyServer();
  process.env.AWS_ENDPOINT_URL_SSM = server.url;
});
afterEach(async () => {
  delete process.env.AWS_ENDPOINT_URL_SSM;
  await server.close();
});

async function setup(answer: CentralAnswer) {
  server.answer(answer);
  const account = accountFromSnapshot(DEMO_SNAPSHOT);
  const prod = account.clusters.find((c) => c.name === 'payments-prod')!;
  prod.tags = { ...prod.tags, [OPT_IN_TAG_KEY]: 'apply' };
  const t = await testRuntime(
    account,
    harness.db,
    { ALARM_NAME_PREFIX: 'eks-ip-responder-dev-', RESPOND_MIN_INTERVAL_SECONDS: '0', POLICY_JSON: PACKAGED, CENTRAL_POLICY: ARN },
    NOW,
  );
  harness.track(t.aws);
  return { account, ...t, respond: makeRespond(t.rt), sample: makeSample(t.rt) };
}

const metric = (aws: { putMetricData: { MetricData?: { MetricName?: string; Value?: number }[] }[] }, name: string) =>
  aws.putMetricData.flatMap((r) => r.MetricData ?? []).filter((d) => d.MetricName === name).map((d) => d.Value);

describe('central policy, end to end', () => {
  it('acts under a central policy narrower than the packaged one, and names its version in the action record', async () => {
    const central = policyDoc((d) => {
      // Narrower: prefix delegation and instance types withdrawn; warm targets still allowed.
      d.clusters['payments-prod']!.actions = { ...d.clusters['payments-prod']!.actions, prefixDelegation: { allowed: false }, instanceTypes: { allowed: false } };
    });
    const { aws, rt, respond } = await setup({ kind: 'parameter', value: central, version: 12 });
    const out = await respond(load('cloudtrail-insufficient-free-addresses.json'));
    expect(out.problems ?? []).toEqual([]);
    expect(out.actions?.outcomes).toEqual([expect.objectContaining({ actionId: 'payments-prod/warm-targets/vpc-cni', status: 'succeeded' })]);
    expect(aws.writes.map((w) => w.op)).toEqual(['UpdateAddon']);
    const source = { from: 'central', version: policyVersion(central), location: ARN, revision: '12' };
    const record = await rt.actions.getActionRecord('payments-prod', actionRecordSk({ actionId: 'payments-prod/warm-targets/vpc-cni', startedAt: NOW.toISOString() }));
    expect(record?.policy).toEqual(source);
    expect(record?.history.map((h) => h.policyVersion)).toEqual(record?.history.map(() => policyVersion(central)));
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.signatureValid).toBe(true);
    // Every log line of the cycle names the policy it ran under.
    expect(rt.logger.getPersistentLogAttributes()).toMatchObject({ policyVersion: source.version, policyFrom: 'central', policyLocation: ARN, policyRevision: '12' });
    expect(rt.logger.getPersistentLogAttributes()['policyUnavailable']).toBeUndefined();
  });

  it('a central policy that withdraws an action kind stops it, where the packaged policy alone would act', async () => {
    const central = policyDoc((d) => {
      d.clusters['payments-prod']!.actions = { ...d.clusters['payments-prod']!.actions, warmTargets: { allowed: false } };
    });
    const { aws, respond } = await setup({ kind: 'parameter', value: central });
    const out = await respond(load('cloudtrail-insufficient-free-addresses.json'));
    expect(out.actions?.outcomes.some((o) => o.actionId.includes('warm-targets'))).toBe(false);
    expect(aws.writes.filter((w) => w.op === 'UpdateAddon')).toHaveLength(0);
  });

  it('refuses what a central policy allows beyond the packaged one, naming each part, and applies the rest', async () => {
    const central = policyDoc((d) => {
      d.clusters['payments-prod']!.actions = { ...d.clusters['payments-prod']!.actions, leakedEnis: { allowed: true } };
      d.clusters['batch-dev'] = { ...d.clusters['batch-dev'], mode: 'apply' };
    });
    const { aws, respond, sample } = await setup({ kind: 'parameter', value: central });
    const out = await respond(load('cloudtrail-insufficient-free-addresses.json'));
    expect(out.problems).toEqual(
      expect.arrayContaining([
        `central policy ${ARN}: clusters.payments-prod.actions.leakedEnis.allowed: true refused: beyond the packaged policy (not allowed there): not allowed`,
        `central policy ${ARN}: clusters.batch-dev.mode: apply refused: beyond the packaged policy (dry-run there): batch-dev runs in dry-run`,
      ]),
    );
    expect(out.actions?.outcomes).toEqual([expect.objectContaining({ actionId: 'payments-prod/warm-targets/vpc-cni', status: 'succeeded' })]);
    // The tick: batch-dev is not in apply mode, whatever the central policy says.
    const tick = await respond(load('scheduled.json'));
    expect(tick.clusters).toEqual(['payments-prod']);
    await sample({});
    expect(metric(aws, 'CentralPolicyRefused')).toEqual([2]);
    expect(metric(aws, 'CentralPolicyUnavailable')).toEqual([0]);
  });

  it.each<[string, CentralAnswer, RegExp]>([
    ['access denied', { kind: 'error', status: 400, code: 'AccessDeniedException', message: 'User: arn:aws:sts::111122223333:assumed-role/x is not authorized to perform: ssm:GetParameter' }, /AccessDeniedException: User: .* is not authorized/],
    ['not found', { kind: 'error', status: 400, code: 'ParameterNotFound' }, /ParameterNotFound/],
    ['throttled', { kind: 'error', status: 400, code: 'ThrottlingException', message: 'Rate exceeded' }, /ThrottlingException: Rate exceeded/],
    ['not JSON', { kind: 'parameter', value: 'version: 1\ndefault: {}' }, /invalid: \(top level\): not JSON/],
    ['a schema error', { kind: 'parameter', value: policyDoc((d) => ((d.default as { mode: string }).mode = 'sometimes')) }, /invalid: default\.mode: must be one of observe, dry-run, apply, not "sometimes"/],
  ])('when the central policy is %s: observes and notifies, acts on nothing, and names the problem', async (_what, answer, named) => {
    const { aws, rt, respond, sample, logs } = await setup(answer);
    const out = await respond(load('cloudtrail-insufficient-free-addresses.json'));
    expect(out.status).toBe('handled');
    expect(out.actions?.outcomes).toEqual([]);
    expect(aws.writes).toEqual([]);
    expect(out.problems?.[0]).toMatch(new RegExp(`^central policy ${ARN} unavailable: `));
    expect(out.problems?.[0]).toMatch(named);
    expect(out.problems?.[0]).toMatch(/acting on nothing \(every cluster in dry-run, planned with the packaged policy\)$/);
    // Planned as dry-run, not dropped.
    expect(out.actions?.planned['dry-run'] ?? 0).toBeGreaterThan(0);

    const tick = await respond(load('scheduled.json'));
    expect(tick).toMatchObject({ status: 'handled', clusters: [], problems: [expect.stringMatching(named)] });

    const s = await sample({});
    expect(s.problems[0]).toMatch(named);
    expect(s.notified).toBeGreaterThan(0);
    expect(aws.published.some((m) => !m.Subject?.startsWith('[ACTION'))).toBe(true);
    expect(metric(aws, 'CentralPolicyUnavailable')).toEqual([1]);
    expect(rt.logger.getPersistentLogAttributes()).toMatchObject({ policyFrom: 'POLICY_JSON', policyUnavailable: true });
    expect(logs.warn.some(([message, attrs]) => message === 'cycle problem' && named.test(String((attrs as { problem?: string }).problem)))).toBe(true);
    expect(aws.writes).toEqual([]);
  });

  it('reads the central policy once per cache period, however many cycles run (counted at the server)', async () => {
    const { respond, sample, setNow } = await setup({ kind: 'parameter', value: policyDoc() });
    await sample({});
    await respond(load('cloudtrail-insufficient-free-addresses.json'));
    await respond(load('scheduled.json'));
    await sample({});
    expect(server.requests).toHaveLength(1);
    setNow(new Date(NOW.getTime() + 5 * 60_000));
    await sample({});
    await respond(load('scheduled.json'));
    expect(server.requests).toHaveLength(2);
  });
});
