import { DynamoDBServiceException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  createLedger,
  createLedgerDocumentClient,
  LedgerConflictError,
  LEDGER_TABLE_DEFINITION,
  type ClaimRequest,
  type EventClaim,
  type FindingState,
  type Ledger,
} from '../../lib/aws/ledger';
import { AwsCallError } from '../../lib/errors';
import { createLedgerTable, dynaliteClient } from '../../tools/dynalite';
import { useTestHarness } from '../support/harness';

const TABLE = 'eks-ip-responder-ledger-test';
const NOW = new Date('2025-03-01T12:00:00.000Z');

const harness = useTestHarness();
let raw: DynamoDBClient;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  raw = dynaliteClient(harness.db.endpoint);
  doc = createLedgerDocumentClient(raw);
  await createLedgerTable(raw, TABLE);
});

afterAll(() => {
  raw?.destroy();
});

function state(cluster: string, n: number, over: Partial<FindingState> = {}): FindingState {
  return {
    cluster,
    findingId: `${cluster}/subnet-exhaustion/subnet-${String(n).padStart(4, '0')}`,
    kind: 'subnet-exhaustion',
    severity: 'warning',
    subject: { type: 'subnet', id: `subnet-${n}`, availabilityZone: 'eu-west-1a' },
    title: `subnet-${n} has 40 free IPs`,
    firstSeen: NOW.toISOString(),
    lastSeen: NOW.toISOString(),
    lastNotifiedAt: NOW.toISOString(),
    lastNotifiedSeverity: 'warning',
    status: 'open',
    version: 1,
    expiresAt: 1_743_422_400,
    ...over,
  };
}

describe('LEDGER_TABLE_DEFINITION', () => {
  it('is the pk/sk string key, on demand', () => {
    expect(LEDGER_TABLE_DEFINITION).toEqual({
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    });
  });
});

const LEASE_MS = 60_000;
const claimBy = (owner: string, now = NOW, leaseMs = LEASE_MS) => ({ owner, now, leaseMs });
const later = (ms: number) => new Date(NOW.getTime() + ms);
const readClaim = async (eventId: string) =>
  (await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: `EVENT#${eventId}`, sk: 'EVENT' }, ConsistentRead: true }))).Item;

/** Claims and expects the claim: what completeEvent and releaseEvent take. */
async function claimed(ledger: Ledger, eventId: string, request: ClaimRequest): Promise<EventClaim> {
  const outcome = await ledger.claimEvent(eventId, request);
  if (outcome.status !== 'claimed') throw new Error(`expected the claim of ${eventId}, got ${JSON.stringify(outcome)}`);
  return outcome.claim;
}

describe('event claims', () => {
  it('claims an event INPROGRESS for its owner, with a lease and a 7-day TTL in epoch seconds', async () => {
    const ledger = createLedger(doc, TABLE);
    await expect(ledger.claimEvent('evt-ttl', { ...claimBy('req-1'), ttlDays: 7 })).resolves.toEqual({
      status: 'claimed',
      claim: { eventId: 'evt-ttl', owner: 'req-1', claimedAt: NOW.toISOString(), leaseUntil: NOW.getTime() + LEASE_MS, expiresAt: NOW.getTime() / 1000 + 7 * 86_400 },
    });
    expect(await readClaim('evt-ttl')).toEqual({
      pk: 'EVENT#evt-ttl',
      sk: 'EVENT',
      type: 'event',
      eventId: 'evt-ttl',
      status: 'INPROGRESS',
      owner: 'req-1',
      claimedAt: NOW.toISOString(),
      leaseUntil: NOW.getTime() + LEASE_MS,
      expiresAt: NOW.getTime() / 1000 + 7 * 86_400,
    });
  });

  it('answers a duplicate once the claim is COMPLETED, however late the redelivery comes', async () => {
    const ledger = createLedger(doc, TABLE);
    const claim = await claimed(ledger, 'evt-done', claimBy('req-1'));
    await expect(ledger.completeEvent(claim, later(1_000))).resolves.toBe(true);
    expect(await readClaim('evt-done')).toMatchObject({ status: 'COMPLETED', owner: 'req-1', completedAt: later(1_000).toISOString(), expiresAt: claim.expiresAt });
    await expect(ledger.claimEvent('evt-done', claimBy('req-2', later(2_000)))).resolves.toEqual({ status: 'duplicate', completedAt: later(1_000).toISOString() });
    // Long after the lease: COMPLETED is not a dead owner's claim.
    await expect(ledger.claimEvent('evt-done', claimBy('req-3', later(3_600_000)))).resolves.toMatchObject({ status: 'duplicate' });
    await expect(ledger.claimEvent('evt-done', claimBy('req-1', later(3_000)))).resolves.toMatchObject({ status: 'duplicate' });
  });

  it("says who holds a live claim: another invocation is handling the event", async () => {
    const ledger = createLedger(doc, TABLE);
    await claimed(ledger, 'evt-live', claimBy('req-1'));
    await expect(ledger.claimEvent('evt-live', claimBy('req-2', later(LEASE_MS)))).resolves.toEqual({
      status: 'in-progress',
      owner: 'req-1',
      leaseUntil: NOW.getTime() + LEASE_MS,
    });
    expect(await readClaim('evt-live')).toMatchObject({ owner: 'req-1', status: 'INPROGRESS' });
  });

  it('lets the next invocation retake the claim of one killed after claiming, once its lease is over', async () => {
    const ledger = createLedger(doc, TABLE);
    // req-1 claims, then dies (timeout, out of memory): no complete, no release.
    await claimed(ledger, 'evt-killed', claimBy('req-1'));
    const retry = await ledger.claimEvent('evt-killed', claimBy('req-2', later(LEASE_MS + 1)));
    expect(retry).toMatchObject({ status: 'claimed', claim: { owner: 'req-2' }, retakenFrom: { owner: 'req-1', leaseUntil: NOW.getTime() + LEASE_MS } });
    expect(await readClaim('evt-killed')).toMatchObject({ status: 'INPROGRESS', owner: 'req-2', leaseUntil: NOW.getTime() + 2 * LEASE_MS + 1 });
    // The dead owner can neither complete nor release what is no longer its claim.
    const dead: EventClaim = { eventId: 'evt-killed', owner: 'req-1', claimedAt: NOW.toISOString(), leaseUntil: NOW.getTime() + LEASE_MS, expiresAt: 0 };
    await expect(ledger.completeEvent(dead, later(LEASE_MS + 2))).resolves.toBe(false);
    await expect(ledger.releaseEvent(dead)).resolves.toBe(false);
    expect(await readClaim('evt-killed')).toMatchObject({ status: 'INPROGRESS', owner: 'req-2' });
  });

  it("lets its owner claim again while the lease is live: Lambda's retry of the same request, or the SDK's retry of a PutItem that was applied", async () => {
    const ledger = createLedger(doc, TABLE);
    await claimed(ledger, 'evt-mine', claimBy('req-1'));
    const again = await ledger.claimEvent('evt-mine', claimBy('req-1', later(10_000)));
    expect(again).toMatchObject({ status: 'claimed', claim: { owner: 'req-1', leaseUntil: NOW.getTime() + 10_000 + LEASE_MS } });
    expect(again).not.toHaveProperty('retakenFrom');
  });

  it('lets a released claim be claimed again (a retried delivery after a handled failure)', async () => {
    const ledger = createLedger(doc, TABLE);
    const claim = await claimed(ledger, 'evt-retry', claimBy('req-1'));
    await expect(ledger.releaseEvent(claim)).resolves.toBe(true);
    expect(await readClaim('evt-retry')).toBeUndefined();
    await expect(ledger.claimEvent('evt-retry', claimBy('req-2'))).resolves.toMatchObject({ status: 'claimed' });
    await expect(ledger.claimEvent('evt-retry', claimBy('req-3'))).resolves.toMatchObject({ status: 'in-progress', owner: 'req-2' });
  });

  it('does not release a COMPLETED claim', async () => {
    const ledger = createLedger(doc, TABLE);
    const claim = await claimed(ledger, 'evt-no-release', claimBy('req-1'));
    await ledger.completeEvent(claim, NOW);
    await expect(ledger.releaseEvent(claim)).resolves.toBe(false);
    expect(await readClaim('evt-no-release')).toMatchObject({ status: 'COMPLETED' });
  });

  it('lets exactly one of two concurrent claims of one id win; the other sees it in progress', async () => {
    const a = createLedger(doc, TABLE);
    const b = createLedger(createLedgerDocumentClient(raw), TABLE);
    const results = await Promise.all([a.claimEvent('evt-race', claimBy('req-a')), b.claimEvent('evt-race', claimBy('req-b'))]);
    expect(results.map((r) => r.status).sort()).toEqual(['claimed', 'in-progress']);
  });

  it('lets exactly one of two concurrent retakes of a dead claim win', async () => {
    const ledger = createLedger(doc, TABLE);
    await claimed(ledger, 'evt-race-dead', claimBy('req-dead'));
    const after = later(LEASE_MS + 1);
    const results = await Promise.all([ledger.claimEvent('evt-race-dead', claimBy('req-a', after)), ledger.claimEvent('evt-race-dead', claimBy('req-b', after))]);
    expect(results.map((r) => r.status).sort()).toEqual(['claimed', 'in-progress']);
  });

  it('reads a claim written before claims had a status as a duplicate', async () => {
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'EVENT#evt-legacy', sk: 'EVENT', type: 'event', eventId: 'evt-legacy', claimedAt: NOW.toISOString(), expiresAt: 1 } }));
    await expect(createLedger(doc, TABLE).claimEvent('evt-legacy', claimBy('req-1', later(86_400_000)))).resolves.toEqual({ status: 'duplicate' });
  });

  it('handles the event when the PutItem of the claim was applied but its answer lost', async () => {
    // The document client applies the first claim's PutItem, then fails as a dropped connection does.
    const lossy = createLedgerDocumentClient(raw);
    const send = lossy.send.bind(lossy) as (command: unknown) => Promise<unknown>;
    let lose = true;
    jest.spyOn(lossy, 'send').mockImplementation((async (command: unknown) => {
      const out = await send(command);
      if (lose && command instanceof PutCommand) {
        lose = false;
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      }
      return out;
    }) as never);
    const ledger = createLedger(lossy, TABLE);
    await expect(ledger.claimEvent('evt-lost-answer', claimBy('req-1'))).rejects.toMatchObject({ name: 'AwsCallError', code: 'ECONNRESET' });
    expect(await readClaim('evt-lost-answer')).toMatchObject({ status: 'INPROGRESS', owner: 'req-1' });
    // The same owner's retry (the SDK's, or Lambda's with the same request id) takes it at once.
    await expect(ledger.claimEvent('evt-lost-answer', claimBy('req-1', later(1_000)))).resolves.toMatchObject({ status: 'claimed' });

    // Another invocation's retry waits for the lease, then takes it.
    lose = true;
    await expect(ledger.claimEvent('evt-lost-answer-2', claimBy('req-1'))).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(ledger.claimEvent('evt-lost-answer-2', claimBy('req-2', later(1_000)))).resolves.toMatchObject({ status: 'in-progress', owner: 'req-1' });
    await expect(ledger.claimEvent('evt-lost-answer-2', claimBy('req-2', later(LEASE_MS + 1)))).resolves.toMatchObject({ status: 'claimed', retakenFrom: { owner: 'req-1' } });
  });

  it('refuses to claim without an event id or an owner', async () => {
    const ledger = createLedger(doc, TABLE);
    await expect(ledger.claimEvent('', claimBy('req-1'))).rejects.toThrow(/needs an event id/);
    await expect(ledger.claimEvent('evt-no-owner', claimBy(''))).rejects.toThrow(/needs an owner/);
  });
});

describe('finding states', () => {
  it('reads back what it saved, without undefined fields, and only FINDING# items of that cluster', async () => {
    const ledger = createLedger(doc, TABLE);
    const open = state('roundtrip', 1);
    const cleared = state('roundtrip', 2, { status: 'cleared', clearedAt: NOW.toISOString() });
    delete cleared.lastNotifiedAt;
    delete cleared.lastNotifiedSeverity;
    await ledger.saveFindingState(open, undefined);
    await ledger.saveFindingState(cleared, undefined);
    await ledger.saveFindingState(state('another-cluster', 1), undefined);
    // A later item type in the same partition must not be read as a finding.
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: 'CLUSTER#roundtrip', sk: 'ACTION#2025-03-01T12:00:00.000Z#a1', type: 'action' } }));

    const states = await ledger.getFindingStates('roundtrip');
    expect(states).toEqual([open, cleared]);
    expect(await ledger.getFindingStates('never-seen')).toEqual([]);
  });

  it('saves a subject whose optional availabilityZone is undefined', async () => {
    const ledger = createLedger(doc, TABLE);
    await ledger.saveFindingState(state('no-az', 1, { subject: { type: 'cluster', id: 'no-az', availabilityZone: undefined } }), undefined);
    const [read] = await ledger.getFindingStates('no-az');
    expect(read?.subject).toStrictEqual({ type: 'cluster', id: 'no-az' });
  });

  it('updates a state saved against its current version', async () => {
    const ledger = createLedger(doc, TABLE);
    await ledger.saveFindingState(state('update', 1), undefined);
    await ledger.saveFindingState(state('update', 1, { severity: 'critical', version: 2 }), 1);
    expect(await ledger.getFindingStates('update')).toEqual([state('update', 1, { severity: 'critical', version: 2 })]);
  });

  it('rejects an update with a stale version as LedgerConflictError, leaving the winner in place', async () => {
    const sampler = createLedger(doc, TABLE);
    const responder = createLedger(doc, TABLE);
    await sampler.saveFindingState(state('conflict', 1), undefined);
    const [read] = await responder.getFindingStates('conflict');
    expect(read?.version).toBe(1);

    await sampler.saveFindingState(state('conflict', 1, { severity: 'critical', version: 2 }), 1);
    const lost = responder.saveFindingState(state('conflict', 1, { status: 'cleared', version: 2 }), 1);
    await expect(lost).rejects.toBeInstanceOf(LedgerConflictError);
    await expect(lost).rejects.toMatchObject({
      name: 'LedgerConflictError',
      cluster: 'conflict',
      expectedVersion: 1,
      cause: expect.objectContaining({ name: 'ConditionalCheckFailedException' }),
    });
    expect(await sampler.getFindingStates('conflict')).toEqual([state('conflict', 1, { severity: 'critical', version: 2 })]);
  });

  it('lets one of two concurrent first saves of a finding win', async () => {
    const ledger = createLedger(doc, TABLE);
    const results = await Promise.allSettled([
      ledger.saveFindingState(state('new-race', 1), undefined),
      ledger.saveFindingState(state('new-race', 1, { severity: 'critical' }), undefined),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected?.reason).toBeInstanceOf(LedgerConflictError);
  });

  it('refuses a state whose version is not the expected one + 1', async () => {
    const ledger = createLedger(doc, TABLE);
    await expect(ledger.saveFindingState(state('bump', 1, { version: 1 }), 1)).rejects.toThrow(/version 1 must be 2/);
    await expect(ledger.saveFindingState(state('bump', 1, { version: 2 }), undefined)).rejects.toThrow(/version 2 must be 1/);
  });

  it('reads every page of a cluster with many findings', async () => {
    const ledger = createLedger(doc, TABLE, { pageSize: 3 });
    const saved = Array.from({ length: 8 }, (_, i) => state('paged', i));
    for (const s of saved) await ledger.saveFindingState(s, undefined);
    const send = jest.spyOn(doc, 'send');
    try {
      const states = await ledger.getFindingStates('paged');
      expect(states.map((s) => s.findingId)).toEqual(saved.map((s) => s.findingId));
      // 8 items in pages of 3: 3, 3, then 2 without LastEvaluatedKey.
      expect(send).toHaveBeenCalledTimes(3);
    } finally {
      send.mockRestore();
    }
  });
});

describe('failures', () => {
  it('names dynamodb:PutItem and the table when access is denied', async () => {
    const denied = createLedgerDocumentClient(dynaliteClient(harness.db.endpoint));
    const mock = mockClient(denied);
    mock.on(PutCommand).rejects(
      new DynamoDBServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'User: arn:aws:sts::123456789012:assumed-role/responder is not authorized to perform: dynamodb:PutItem',
      }),
    );
    const ledger = createLedger(denied, TABLE);
    for (const call of [() => ledger.claimEvent('evt-denied', claimBy('req-1')), () => ledger.saveFindingState(state('denied', 1), undefined)]) {
      const err: unknown = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AwsCallError);
      expect(err).toMatchObject({ operation: 'dynamodb:PutItem', code: 'AccessDeniedException' });
      expect((err as Error).message).toContain(`dynamodb:PutItem on table ${TABLE}`);
      expect((err as Error).message).toContain('AccessDeniedException');
      expect((err as Error).cause).toBeInstanceOf(DynamoDBServiceException);
    }
    mock.restore();
  });

  it('names dynamodb:Query and the table when DynamoDB cannot be reached', async () => {
    const closed = dynaliteClient('http://127.0.0.1:9');
    const ledger = createLedger(createLedgerDocumentClient(closed), TABLE);
    const err: unknown = await ledger.getFindingStates('unreachable').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    expect(err).toMatchObject({ operation: 'dynamodb:Query' });
    expect((err as Error).message).toContain(`dynamodb:Query on table ${TABLE} for the finding states of cluster unreachable`);
    closed.destroy();
  });
});
