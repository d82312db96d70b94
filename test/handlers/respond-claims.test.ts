/**
 * The responder's event claims end to end (issue 10, point 3): nothing is lost when an invocation
 * dies holding a claim, a live claim is left to its owner, a completed one answers duplicates.
 * The ledger is dynalite; the clock is the runtime's (setNow); a Lambda context is faked with the
 * two things the claim reads from it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { makeHandler } from '../../handlers/respond';
import { CLAIM_LEASE_MARGIN_MS, DEFAULT_CLAIM_LEASE_MS } from '../../lib/events/route';
import { createLedger, createLedgerDocumentClient, EventInProgressError } from '../../lib/aws/ledger';
import * as cycleModule from '../../lib/cycle';
import { dynaliteClient, } from '../../tools/dynalite';
import type { EmulatedAccount } from '../../tools/mock-aws';
import { testRuntime, type TestRuntime } from '../support/runtime';
import { accountFromSnapshot, DEMO_SNAPSHOT } from '../support/snapshot-account';
import { useTestHarness } from '../support/harness';

const EVENTS = path.join(__dirname, '..', '..', 'events');
const load = (name: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(EVENTS, name), 'utf8')) as Record<string, unknown>;
const NOW = new Date('2026-11-26T10:00:00Z');
const ENV = { ALARM_NAME_PREFIX: 'eks-ip-responder-dev-', RESPOND_MIN_INTERVAL_SECONDS: '0' };
const REMAINING_MS = 30_000;
/** The claim of an invocation started at NOW with REMAINING_MS left holds until then. */
const LEASE_END = NOW.getTime() + REMAINING_MS + CLAIM_LEASE_MARGIN_MS;

const harness = useTestHarness();

/** What Lambda passes: the request id (reported to be kept by its retries of an asynchronous invocation) and the time left. */
function lambdaContext(awsRequestId: string, remainingMs = REMAINING_MS): Context {
  return {
    awsRequestId,
    getRemainingTimeInMillis: () => remainingMs,
    functionName: 'eks-ip-responder-test-respond',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:eks-ip-responder-test-respond',
    memoryLimitInMB: '512',
  } as Context;
}

async function setup(): Promise<TestRuntime & { handler: ReturnType<typeof makeHandler> }> {
  const t = await testRuntime(accountFromSnapshot(DEMO_SNAPSHOT), harness.db, ENV, NOW);
  harness.track(t.aws);
  return { ...t, handler: makeHandler(t.rt) };
}

const counted = (aws: EmulatedAccount) => aws.putMetricData.flatMap((r) => r.MetricData ?? []).filter((d) => d.MetricName === 'AllocationFailures').length;

/** The claim item as stored. */
async function claimItem(t: TestRuntime, eventId: string): Promise<Record<string, unknown> | undefined> {
  const raw = dynaliteClient(harness.db.endpoint);
  try {
    const doc = createLedgerDocumentClient(raw);
    const { Item } = await doc.send(new GetCommand({ TableName: t.rt.config.ledgerTable, Key: { pk: `EVENT#${eventId}`, sk: 'EVENT' }, ConsistentRead: true }));
    return Item;
  } finally {
    raw.destroy();
  }
}

/**
 * Starts an invocation that claims the event and then never ends (its cycle waits on a
 * ListClusters that never answers): what a timeout or an out-of-memory kill leaves behind. The
 * returned promise is abandoned.
 */
async function startHungInvocation(t: Awaited<ReturnType<typeof setup>>, event: unknown, context?: Context): Promise<void> {
  const list = jest.spyOn(t.rt.source, 'listClusters').mockImplementationOnce(() => new Promise<never>(() => {}));
  void t.handler(event, context);
  // Until the invocation reaches ListClusters, however busy the machine: jest's test timeout is the guard.
  while (list.mock.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(list).toHaveBeenCalledTimes(1);
}

describe('respond handler: event claims', () => {
  it('handles the event on the retry of an invocation killed after its claim, once the lease is over', async () => {
    const t = await setup();
    const event = load('cloudtrail-insufficient-free-addresses.json');
    await startHungInvocation(t, event, lambdaContext('req-killed'));
    expect(await claimItem(t, String(event.id))).toMatchObject({ status: 'INPROGRESS', owner: 'req-killed', leaseUntil: LEASE_END });
    expect(counted(t.aws)).toBe(0);

    t.setNow(new Date(LEASE_END + 1));
    const warn = t.logs.warn.length;
    const retried = await t.handler(event, lambdaContext('req-next'));
    expect(retried).toMatchObject({ status: 'handled', clusters: ['payments-prod'] });
    expect(counted(t.aws)).toBe(1);
    expect(t.logs.warn.slice(warn).map((l) => l[0])).toContain('event claim retaken from an invocation that did not finish');
    expect(await claimItem(t, String(event.id))).toMatchObject({ status: 'COMPLETED', owner: 'req-next' });
  });

  it("handles at once a retry that carries the killed invocation's request id", async () => {
    const t = await setup();
    const event = load('cloudtrail-private-ip-limit.json');
    await startHungInvocation(t, event, lambdaContext('req-1'));
    t.setNow(new Date(NOW.getTime() + 1_000));
    await expect(t.handler(event, lambdaContext('req-1'))).resolves.toMatchObject({ status: 'handled' });
  });

  it('without a Lambda context, holds the claim for the function timeout and a margin', async () => {
    const t = await setup();
    const event = load('cloudtrail-insufficient-free-addresses.json');
    await startHungInvocation(t, event);
    const item = await claimItem(t, String(event.id));
    expect(item).toMatchObject({ status: 'INPROGRESS', leaseUntil: NOW.getTime() + DEFAULT_CLAIM_LEASE_MS + CLAIM_LEASE_MARGIN_MS });
    expect(item?.owner).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('fails a second delivery while the first invocation holds a live claim, so that Lambda retries it, and runs no cycle', async () => {
    const t = await setup();
    const event = load('cloudtrail-insufficient-free-addresses.json');
    await startHungInvocation(t, event, lambdaContext('req-1'));
    const cycles = jest.spyOn(cycleModule, 'runCycle');
    t.setNow(new Date(LEASE_END - 1));
    const second = t.handler(event, lambdaContext('req-2'));
    await expect(second).rejects.toBeInstanceOf(EventInProgressError);
    await expect(second).rejects.toMatchObject({ name: 'EventInProgressError', eventId: event.id, owner: 'req-1', leaseUntil: LEASE_END });
    expect(cycles).not.toHaveBeenCalled();
    expect(counted(t.aws)).toBe(0);
    expect(t.aws.calls['DescribeCluster']).toBeUndefined();
    // The claim is still the first invocation's.
    expect(await claimItem(t, String(event.id))).toMatchObject({ status: 'INPROGRESS', owner: 'req-1' });
  });

  it('answers the redelivery of a completed event as a duplicate, however late it comes', async () => {
    const t = await setup();
    const event = load('cloudtrail-insufficient-free-addresses.json');
    await expect(t.handler(event, lambdaContext('req-1'))).resolves.toMatchObject({ status: 'handled' });
    expect(await claimItem(t, String(event.id))).toMatchObject({ status: 'COMPLETED', owner: 'req-1', completedAt: NOW.toISOString() });
    const cycles = jest.spyOn(cycleModule, 'runCycle');
    for (const at of [NOW.getTime() + 1_000, LEASE_END + 3_600_000]) {
      t.setNow(new Date(at));
      await expect(t.handler(event, lambdaContext(`req-${at}`))).resolves.toEqual({ status: 'duplicate', eventId: event.id });
    }
    expect(cycles).not.toHaveBeenCalled();
    expect(counted(t.aws)).toBe(1);
  });

  it('runs exactly one cycle for two concurrent invocations of one event; the other is left to a Lambda retry', async () => {
    const t = await setup();
    const event = load('cloudtrail-insufficient-free-addresses.json');
    const cycles = jest.spyOn(cycleModule, 'runCycle');
    const results = await Promise.allSettled([t.handler(event, lambdaContext('req-a')), t.handler(event, lambdaContext('req-b'))]);
    const handled = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(handled).toHaveLength(1);
    expect(handled[0]?.value).toMatchObject({ status: 'handled' });
    expect(refused).toHaveLength(1);
    expect(refused[0]?.reason).toBeInstanceOf(EventInProgressError);
    expect(cycles).toHaveBeenCalledTimes(1);
    expect(counted(t.aws)).toBe(1);
    // Lambda's retry of the refused one, a minute later, finds it done.
    t.setNow(new Date(NOW.getTime() + 60_000));
    await expect(t.handler(event, lambdaContext('req-b'))).resolves.toMatchObject({ status: 'duplicate' });
  });

  it('handles the event when the PutItem of its claim was applied but the answer lost', async () => {
    const t = await setup();
    // The ledger's document client applies the claim's PutItem, then fails once as a dropped connection does.
    const raw = dynaliteClient(harness.db.endpoint);
    const lossy = createLedgerDocumentClient(raw);
    const send = lossy.send.bind(lossy) as (command: unknown) => Promise<unknown>;
    let lose = 0;
    jest.spyOn(lossy, 'send').mockImplementation((async (command: unknown) => {
      const out = await send(command);
      if (lose > 0 && command instanceof PutCommand && String(command.input.Item?.pk).startsWith('EVENT#')) {
        lose--;
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      }
      return out;
    }) as never);
    const handler = makeHandler({ ...t.rt, ledger: createLedger(lossy, t.rt.config.ledgerTable) });
    try {
      // A retry carrying the failed invocation's request id: the claim is its own.
      const event = load('cloudtrail-insufficient-free-addresses.json');
      lose = 1;
      await expect(handler(event, lambdaContext('req-1'))).rejects.toMatchObject({ name: 'AwsCallError', code: 'ECONNRESET' });
      expect(counted(t.aws)).toBe(0);
      await expect(handler(event, lambdaContext('req-1'))).resolves.toMatchObject({ status: 'handled' });

      // Another invocation (a duplicated delivery) waits for the lease, then handles it.
      const other = { ...load('cloudtrail-private-ip-limit.json'), id: 'lost-answer-2' };
      lose = 1;
      await expect(handler(other, lambdaContext('req-3'))).rejects.toMatchObject({ code: 'ECONNRESET' });
      await expect(handler(other, lambdaContext('req-4'))).rejects.toBeInstanceOf(EventInProgressError);
      t.setNow(new Date(LEASE_END + 1));
      await expect(handler(other, lambdaContext('req-4'))).resolves.toMatchObject({ status: 'handled' });
      expect(counted(t.aws)).toBe(2);
    } finally {
      raw.destroy();
    }
  });

  it('reports, without failing the invocation, a claim it could not mark completed', async () => {
    const t = await setup();
    const event = load('cloudtrail-insufficient-free-addresses.json');
    jest.spyOn(t.rt.ledger, 'completeEvent').mockRejectedValueOnce(new Error('dynamodb:PutItem on table x completing event y: ServiceUnavailable'));
    const out = await t.handler(event, lambdaContext('req-1'));
    expect(out.status).toBe('handled');
    expect(out.problems).toContainEqual(expect.stringMatching(/^could not mark event 3f6c2a9e-8d41-4b7a-9e25-6a1f0c7d4e83 completed: .*ServiceUnavailable/));
    expect(t.logs.error.map((l) => l[0])).toContain('event claim not completed');
  });

  it('releases the claim of an invocation whose handling failed, so that the retry handles the event', async () => {
    const t = await setup();
    const event = load('cloudtrail-insufficient-free-addresses.json');
    const release = jest.spyOn(t.rt.ledger, 'releaseEvent');
    jest.spyOn(t.rt.source, 'listClusters').mockRejectedValueOnce(new Error('eks:ListClusters: ThrottlingException: Rate exceeded'));
    await expect(t.handler(event, lambdaContext('req-1'))).rejects.toThrow(/ThrottlingException/);
    expect(release).toHaveBeenCalledWith(expect.objectContaining({ eventId: event.id, owner: 'req-1' }));
    expect(await claimItem(t, String(event.id))).toBeUndefined();
    await expect(t.handler(event, lambdaContext('req-1'))).resolves.toMatchObject({ status: 'handled' });
  });
});
