import { DynamoDBServiceException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  createLedger,
  createLedgerDocumentClient,
  LedgerConflictError,
  LEDGER_TABLE_DEFINITION,
  type FindingState,
} from '../../lib/aws/ledger';
import { AwsCallError } from '../../lib/errors';
import { createLedgerTable, dynaliteClient, startDynalite, type RunningDynalite } from '../support/dynalite';

const TABLE = 'eks-ip-responder-ledger-test';
const NOW = new Date('2025-03-01T12:00:00.000Z');

let db: RunningDynalite;
let raw: DynamoDBClient;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  db = await startDynalite();
  raw = dynaliteClient(db.endpoint);
  doc = createLedgerDocumentClient(raw);
  await createLedgerTable(raw, TABLE);
});

afterAll(async () => {
  raw?.destroy();
  await db?.stop();
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

describe('claimEvent', () => {
  it('claims an event id the first time and refuses the duplicated delivery', async () => {
    const ledger = createLedger(doc, TABLE);
    await expect(ledger.claimEvent('evt-1', NOW)).resolves.toBe(true);
    await expect(ledger.claimEvent('evt-1', NOW)).resolves.toBe(false);
    await expect(ledger.claimEvent('evt-2', NOW)).resolves.toBe(true);
  });

  it('lets a released claim be claimed again (a retried delivery after a failure)', async () => {
    const ledger = createLedger(doc, TABLE);
    await expect(ledger.claimEvent('evt-retry', NOW)).resolves.toBe(true);
    await ledger.releaseEvent('evt-retry');
    await expect(ledger.claimEvent('evt-retry', NOW)).resolves.toBe(true);
    await expect(ledger.claimEvent('evt-retry', NOW)).resolves.toBe(false);
  });

  it('lets exactly one of two concurrent claims of one id win', async () => {
    const a = createLedger(doc, TABLE);
    const b = createLedger(createLedgerDocumentClient(raw), TABLE);
    const results = await Promise.all([a.claimEvent('evt-race', NOW), b.claimEvent('evt-race', NOW)]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('writes the claim with its TTL in epoch seconds', async () => {
    const ledger = createLedger(doc, TABLE);
    await ledger.claimEvent('evt-ttl', NOW, 7);
    const { Item } = await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'EVENT#evt-ttl', sk: 'EVENT' } }));
    expect(Item).toMatchObject({ type: 'event', eventId: 'evt-ttl', claimedAt: NOW.toISOString(), expiresAt: NOW.getTime() / 1000 + 7 * 86_400 });
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
    const denied = createLedgerDocumentClient(dynaliteClient(db.endpoint));
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
    for (const call of [() => ledger.claimEvent('evt-denied', NOW), () => ledger.saveFindingState(state('denied', 1), undefined)]) {
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
