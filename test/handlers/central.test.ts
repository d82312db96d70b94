/**
 * The organisation's central topic, end to end over the emulated account: every finding
 * notification and action outcome the stack sends to its own topic is also sent to the central
 * one, with the account and region attributes; a central publish that fails is a named problem
 * and stops neither the local notification nor the cycle.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PublishCommandInput } from '@aws-sdk/client-sns';
import { parse as parseYaml } from 'yaml';
import { makeHandler as makeRespond } from '../../handlers/respond';
import { makeHandler as makeSample } from '../../handlers/sample';
import { OPT_IN_TAG_KEY } from '../../lib/policy/types';
import { SNSServiceException } from '@aws-sdk/client-sns';
import { testRuntime } from '../support/runtime';
import { accountFromSnapshot, DEMO_SNAPSHOT } from '../support/snapshot-account';
import { useTestHarness } from '../support/harness';

const NOW = new Date('2026-11-26T10:00:00Z');
const LOCAL = 'arn:aws:sns:eu-west-1:111122223333:test-alerts';
const CENTRAL = 'arn:aws:sns:us-east-1:999988887777:eks-ip-responder-central';
const EVENTS = path.join(__dirname, '..', '..', 'events');
const load = (name: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(EVENTS, name), 'utf8')) as Record<string, unknown>;

/** The repository's policy with payments-prod in apply mode. */
function applyPolicy(): string {
  const doc = parseYaml(readFileSync(path.join(__dirname, '..', '..', 'policy.yml'), 'utf8')) as { clusters: Record<string, { mode?: string }> };
  doc.clusters['payments-prod'] = { ...doc.clusters['payments-prod'], mode: 'apply' };
  return JSON.stringify(doc);
}

const harness = useTestHarness();

async function setup(env: Record<string, string>) {
  const account = accountFromSnapshot(DEMO_SNAPSHOT);
  const prod = account.clusters.find((c) => c.name === 'payments-prod')!;
  prod.tags = { ...prod.tags, [OPT_IN_TAG_KEY]: 'apply' };
  const t = await testRuntime(account, harness.db, { RESPOND_MIN_INTERVAL_SECONDS: '0', POLICY_JSON: applyPolicy(), ...env }, NOW);
  harness.track(t.aws);
  return { account, ...t, sample: makeSample(t.rt), respond: makeRespond(t.rt) };
}

const attributes = (m: PublishCommandInput): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue]));
const to = (published: PublishCommandInput[], arn: string) => published.filter((m) => m.TopicArn === arn);

describe('central topic, end to end', () => {
  it('sends each finding notification to the local and the central topic, the central copy with account and region', async () => {
    const { aws, sample, account } = await setup({ CENTRAL_TOPIC_ARN: CENTRAL });
    const summary = await sample({});
    const local = to(aws.published, LOCAL);
    const central = to(aws.published, CENTRAL);
    expect(summary.notified).toBeGreaterThan(0);
    expect(local).toHaveLength(summary.notified);
    expect(central.map((m) => m.Subject)).toEqual(local.map((m) => m.Subject));
    for (const [i, m] of central.entries()) {
      // The local attributes, and the member account (of the stack's own topic) and region.
      expect(attributes(m)).toEqual({ ...attributes(local[i]!), account: '111122223333', region: account.region });
      expect(Object.keys(attributes(m)).sort()).toEqual(['account', 'cluster', 'kind', 'region', 'severity', 'transition']);
      expect(m.Message).toBe(local[i]!.Message);
    }
    expect(summary.problems.filter((p) => p.startsWith('central topic'))).toEqual([]);
  });

  it('sends nothing centrally without CENTRAL_TOPIC_ARN', async () => {
    const { aws, sample } = await setup({});
    const summary = await sample({});
    expect(summary.notified).toBeGreaterThan(0);
    expect(aws.published.every((m) => m.TopicArn === LOCAL)).toBe(true);
  });

  it('names a central publish refused (AccessDenied) as a problem, and still sends every local notification and finishes the cycle', async () => {
    const { aws, sample, logs } = await setup({ CENTRAL_TOPIC_ARN: CENTRAL });
    aws.faults['Publish'] = (input) =>
      input['TopicArn'] === CENTRAL
        ? new SNSServiceException({ name: 'AuthorizationErrorException', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'User is not authorized to perform: SNS:Publish' })
        : undefined;
    const summary = await sample({});
    const local = to(aws.published, LOCAL);
    expect(summary.notified).toBeGreaterThan(0);
    expect(local).toHaveLength(summary.notified);
    expect(to(aws.published, CENTRAL)).toEqual([]);
    const named = summary.problems.filter((p) => p.startsWith('central topic:'));
    expect(named).toHaveLength(summary.notified);
    expect(named[0]).toContain('AuthorizationErrorException');
    expect(named[0]).toContain(CENTRAL);
    // Logged as the cycle's problems; metrics were published.
    expect(logs.warn.some(([message, a]) => message === 'cycle problem' && String((a as { problem: string }).problem).startsWith('central topic:'))).toBe(true);
    expect(summary.metricsPublished).toBeGreaterThan(0);
  });

  it('sends nothing centrally for a notification that failed locally (the next sample sends both)', async () => {
    const { aws, sample } = await setup({ CENTRAL_TOPIC_ARN: CENTRAL });
    aws.faults['Publish'] = (input) =>
      input['TopicArn'] === LOCAL ? new SNSServiceException({ name: 'InternalErrorException', $fault: 'server', $metadata: {}, message: 'boom' }) : undefined;
    const summary = await sample({});
    expect(summary.notified).toBe(0);
    expect(aws.published).toEqual([]);
    expect(summary.problems.some((p) => p.startsWith('notification of'))).toBe(true);
    delete aws.faults['Publish'];
    const again = await sample({});
    expect(again.notified).toBeGreaterThan(0);
    expect(to(aws.published, CENTRAL)).toHaveLength(again.notified);
  });

  it('sends each action outcome centrally too; a central failure leaves the local outcome and the change as they are', async () => {
    const ok = await setup({ CENTRAL_TOPIC_ARN: CENTRAL });
    const out = await ok.respond(load('cloudtrail-insufficient-free-addresses.json'));
    expect(out.actions?.outcomes).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    const done = (arn: string) => to(ok.aws.published, arn).filter((m) => m.Subject?.startsWith('[ACTION DONE] payments-prod'));
    expect(done(LOCAL)).toHaveLength(1);
    expect(done(CENTRAL)).toHaveLength(1);
    expect(attributes(done(CENTRAL)[0]!)).toMatchObject({ kind: 'action:warm-targets', account: '111122223333', cluster: 'payments-prod' });

    const failing = await setup({ CENTRAL_TOPIC_ARN: CENTRAL });
    failing.aws.faults['Publish'] = (input) =>
      input['TopicArn'] === CENTRAL ? new SNSServiceException({ name: 'AuthorizationErrorException', $fault: 'client', $metadata: {}, message: 'denied' }) : undefined;
    const out2 = await failing.respond(load('cloudtrail-insufficient-free-addresses.json'));
    expect(out2.actions?.outcomes).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    expect(to(failing.aws.published, LOCAL).filter((m) => m.Subject?.startsWith('[ACTION DONE] payments-prod'))).toHaveLength(1);
    expect(out2.problems?.some((p) => p.startsWith('central topic:') && p.includes('payments-prod/warm-targets/vpc-cni'))).toBe(true);
    // The outcome was recorded as notified: the next cycle does not send it again.
    const history = await failing.rt.actions.getActionHistory('payments-prod');
    expect(history.lock).toBeUndefined();
  });
});
