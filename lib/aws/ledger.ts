/**
 * The ledger: the durable record of the responder in one DynamoDB table of the stack — on
 * demand, TTL on `expiresAt`, point-in-time recovery — holding event claims (`EVENT#<id>`,
 * INPROGRESS or COMPLETED, as Powertools idempotency's records) and finding states
 * (`CLUSTER#<cluster>` / `FINDING#<id>`). Items are plain values through `DynamoDBDocumentClient`.
 *
 * Design: docs/responder.md#libawsledgerts-the-ledger-table
 */
import { type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, paginateQuery, type PutCommandInput } from '@aws-sdk/lib-dynamodb';
import { AwsCallError, awsCallError, awsErrorCode } from '../errors';
import { LedgerConflictError, type FindingLedger } from '../output/notify/ledger';
import type { FindingState } from '../output/notify/transitions';

// The notify stage's port and its types, which this adapter implements and throws.
export { LedgerConflictError };
export type { FindingState };

/**
 * The table's keys and billing, for CreateTable (tests) and to check the stack against. TTL
 * (`LEDGER_TTL_ATTRIBUTE`) and point-in-time recovery are separate API calls
 * (UpdateTimeToLive, UpdateContinuousBackups); in CloudFormation they are the table's
 * TimeToLiveSpecification and PointInTimeRecoverySpecification.
 */
export const LEDGER_TABLE_DEFINITION: Readonly<
  Required<Pick<CreateTableCommandInput, 'AttributeDefinitions' | 'KeySchema' | 'BillingMode'>>
> = {
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  BillingMode: 'PAY_PER_REQUEST',
};

/** The TTL attribute of every item: epoch seconds. */
export const LEDGER_TTL_ATTRIBUTE = 'expiresAt';

/** How long an event id is remembered: longer than EventBridge retries a delivery (24 hours at most). */
export const EVENT_CLAIM_TTL_DAYS = 7;

const DAY_SECONDS = 86_400;
const CONDITIONAL_CHECK_FAILED = 'ConditionalCheckFailedException';

/**
 * Another invocation is handling this event right now (its claim is INPROGRESS and its lease has
 * not run out). Thrown by the responder so that Lambda retries the delivery later, when the claim
 * is COMPLETED (a duplicate then) or its owner died (the claim is retaken): Powertools'
 * IdempotencyAlreadyInProgressError.
 */
export class EventInProgressError extends Error {
  constructor(
    readonly eventId: string,
    readonly owner: string,
    /** Epoch milliseconds. */
    readonly leaseUntil: number,
  ) {
    super(`event ${eventId} is being handled by invocation ${owner} (its claim holds until ${new Date(leaseUntil).toISOString()}); a retry will find it done or retake it`);
    this.name = 'EventInProgressError';
  }
}

/** An event claim held by this invocation: what {@link Ledger.completeEvent} and {@link Ledger.releaseEvent} need. */
export interface EventClaim {
  readonly eventId: string;
  readonly owner: string;
  readonly claimedAt: string;
  /** Epoch milliseconds: until then nobody else takes the claim. */
  readonly leaseUntil: number;
  /** Epoch seconds (TTL). */
  readonly expiresAt: number;
}

export interface ClaimRequest {
  /** Who claims: the Lambda request id (reported to be kept by Lambda's retries of an asynchronous invocation), or a random id. */
  owner: string;
  now: Date;
  /** How long the claim is this owner's alone: the invocation's remaining time and a margin. */
  leaseMs: number;
  /** How long the event id is remembered; {@link EVENT_CLAIM_TTL_DAYS} by default. */
  ttlDays?: number;
}

/** What claiming an event found. */
export type ClaimOutcome =
  /** The event is this owner's to handle: new, retaken from a dead owner, or claimed already by this owner (its own PutItem applied but unanswered). */
  | { status: 'claimed'; claim: EventClaim; retakenFrom?: { owner: string; leaseUntil: number } }
  /** Handled already: a duplicated delivery. */
  | { status: 'duplicate'; completedAt?: string }
  /** Another owner is handling it, its lease still running. */
  | { status: 'in-progress'; owner: string; leaseUntil: number };

/** An item of the table does not have the shape this code writes. */
export class LedgerItemError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerItemError';
  }
}

/**
 * The ledger's operations; handlers take it as a dependency. The finding states are the notify
 * stage's port, `FindingLedger` (lib/output/notify/ledger.ts).
 */
export interface Ledger extends FindingLedger {
  /**
   * Claims the event with this EventBridge id for `owner` (INPROGRESS until now + leaseMs): when
   * no claim exists, when the claim is INPROGRESS and its lease has run out (its owner died), or
   * when it is INPROGRESS and `owner`'s own. Otherwise says why not: COMPLETED (a duplicate) or
   * INPROGRESS under another owner's live lease. Never throws for either.
   * @throws AwsCallError for a failed call; LedgerItemError for a claim of another shape.
   */
  claimEvent(eventId: string, request: ClaimRequest): Promise<ClaimOutcome>;
  /**
   * Marks a claim COMPLETED, if it is still the claimer's: false when another owner took it over
   * (this invocation outlived its lease), and then nothing is written.
   */
  completeEvent(claim: EventClaim, now: Date): Promise<boolean>;
  /**
   * Forgets a claim that is still the claimer's and INPROGRESS, so that a redelivery of an event
   * whose handling failed is handled again (Lambda's retry of an asynchronous invocation carries
   * the same EventBridge id). False when it was no longer the claimer's; nothing is deleted then.
   */
  releaseEvent(claim: EventClaim): Promise<boolean>;
}

export interface LedgerOptions {
  /** Query page size (Limit); by default DynamoDB's 1 MB pages. Tests set a small one to force pages. */
  pageSize?: number;
}

/** Wraps a DynamoDB client in the document client the ledger uses (plain values, no attribute-value maps). */
export function createLedgerDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client);
}

/** The ledger in table `tableName`. */
export function createLedger(client: DynamoDBDocumentClient, tableName: string, options: LedgerOptions = {}): Ledger {
  const fail = (operation: string, about: string, err: unknown): AwsCallError => awsCallError(operation, `on table ${tableName} ${about}`, err);

  return {
    async claimEvent(eventId, { owner, now, leaseMs, ttlDays = EVENT_CLAIM_TTL_DAYS }) {
      if (!eventId) throw new Error('claimEvent needs an event id');
      if (!owner) throw new Error('claimEvent needs an owner');
      const claim: EventClaim = {
        eventId,
        owner,
        claimedAt: now.toISOString(),
        leaseUntil: now.getTime() + leaseMs,
        expiresAt: epochSeconds(now) + Math.round(ttlDays * DAY_SECONDS),
      };
      const input: PutCommandInput = {
        TableName: tableName,
        Item: { ...eventKey(eventId), type: 'event', eventId, status: IN_PROGRESS, owner, claimedAt: claim.claimedAt, leaseUntil: claim.leaseUntil, [LEDGER_TTL_ATTRIBUTE]: claim.expiresAt },
        // Absent; or INPROGRESS and either its owner died (lease over) or it is this owner's: the
        // SDK's retry of a PutItem that was applied but whose answer was lost, or a Lambda retry
        // that carries this invocation's request id after it timed out or ran out of memory.
        ConditionExpression: 'attribute_not_exists(pk) OR (#status = :inProgress AND (#leaseUntil < :now OR #owner = :owner))',
        ExpressionAttributeNames: { '#status': 'status', '#leaseUntil': 'leaseUntil', '#owner': 'owner' },
        ExpressionAttributeValues: { ':inProgress': IN_PROGRESS, ':now': now.getTime(), ':owner': owner },
        ReturnValues: 'ALL_OLD',
      };
      // A claim that changes hands between the failed PutItem and the read (released, retaken)
      // is tried again; twice is more than a delivery and its two retries can race.
      for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
        try {
          const { Attributes: old } = await client.send(new PutCommand(input));
          const retakenFrom = old && old.owner !== owner ? { owner: String(old.owner), leaseUntil: Number(old.leaseUntil) } : undefined;
          return { status: 'claimed', claim, ...(retakenFrom ? { retakenFrom } : {}) };
        } catch (err) {
          if (awsErrorCode(err) !== CONDITIONAL_CHECK_FAILED) throw fail('dynamodb:PutItem', `claiming event ${eventId}`, err);
        }
        let item: Record<string, unknown> | undefined;
        try {
          ({ Item: item } = await client.send(new GetCommand({ TableName: tableName, Key: eventKey(eventId), ConsistentRead: true })));
        } catch (err) {
          throw fail('dynamodb:GetItem', `reading the claim of event ${eventId}`, err);
        }
        if (item === undefined) continue;
        if (item.status === IN_PROGRESS) {
          if (typeof item.owner !== 'string' || typeof item.leaseUntil !== 'number') {
            throw new LedgerItemError(`ledger table ${tableName} item ${eventKey(eventId).pk}: an INPROGRESS claim without owner or leaseUntil`);
          }
          if (item.leaseUntil >= now.getTime() && item.owner !== owner) return { status: 'in-progress', owner: item.owner, leaseUntil: item.leaseUntil };
          continue;
        }
        // COMPLETED, or a claim from before claims had a status (the old answer: a duplicate).
        return { status: 'duplicate', ...(typeof item.completedAt === 'string' ? { completedAt: item.completedAt } : {}) };
      }
      throw new Error(`claiming event ${eventId} on table ${tableName}: the claim changed hands ${CLAIM_ATTEMPTS} times while it was being taken`);
    },

    async completeEvent(claim, now) {
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              ...eventKey(claim.eventId),
              type: 'event',
              eventId: claim.eventId,
              status: COMPLETED,
              owner: claim.owner,
              claimedAt: claim.claimedAt,
              leaseUntil: claim.leaseUntil,
              completedAt: now.toISOString(),
              [LEDGER_TTL_ATTRIBUTE]: claim.expiresAt,
            },
            // Only the owner's; no status condition, so that a retried write is harmless.
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':owner': claim.owner },
          }),
        );
        return true;
      } catch (err) {
        if (awsErrorCode(err) === CONDITIONAL_CHECK_FAILED) return false;
        throw fail('dynamodb:PutItem', `completing event ${claim.eventId}`, err);
      }
    },

    async releaseEvent(claim) {
      try {
        await client.send(
          new DeleteCommand({
            TableName: tableName,
            Key: eventKey(claim.eventId),
            ConditionExpression: '#owner = :owner AND #status = :inProgress',
            ExpressionAttributeNames: { '#owner': 'owner', '#status': 'status' },
            ExpressionAttributeValues: { ':owner': claim.owner, ':inProgress': IN_PROGRESS },
          }),
        );
        return true;
      } catch (err) {
        if (awsErrorCode(err) === CONDITIONAL_CHECK_FAILED) return false;
        throw fail('dynamodb:DeleteItem', `releasing event ${claim.eventId}`, err);
      }
    },

    async getFindingStates(cluster) {
      const states: FindingState[] = [];
      try {
        const pages = paginateQuery(
          { client, ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}) },
          {
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': clusterKey(cluster), ':prefix': FINDING_PREFIX },
            // The state is read to be written back conditionally: a stale read only buys a conflict.
            ConsistentRead: true,
          },
        );
        for await (const page of pages) {
          for (const item of page.Items ?? []) states.push(toFindingState(item, tableName));
        }
      } catch (err) {
        if (err instanceof LedgerItemError) throw err;
        throw fail('dynamodb:Query', `for the finding states of cluster ${cluster}`, err);
      }
      return states;
    },

    async saveFindingState(state, expectedVersion) {
      const wanted = (expectedVersion ?? 0) + 1;
      if (state.version !== wanted) {
        // Without the bump, two writers expecting the same version would both succeed.
        throw new Error(
          `saveFindingState for ${state.findingId}: version ${state.version} must be ${wanted} (expected version ${expectedVersion ?? 'none'} + 1)`,
        );
      }
      const input: PutCommandInput = {
        TableName: tableName,
        Item: toItem(state),
        ...(expectedVersion === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: '#version = :expected',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':expected': expectedVersion },
            }),
      };
      try {
        await client.send(new PutCommand(input));
      } catch (err) {
        if (awsErrorCode(err) === CONDITIONAL_CHECK_FAILED) {
          throw new LedgerConflictError(
            state.cluster,
            state.findingId,
            expectedVersion,
            `finding ${state.findingId} of cluster ${state.cluster} was saved by another invocation ` +
              (expectedVersion === undefined ? '(it exists already)' : `(its version is no longer ${expectedVersion})`),
            { cause: err },
          );
        }
        throw fail('dynamodb:PutItem', `saving finding ${state.findingId} of cluster ${state.cluster}`, err);
      }
    },
  };
}

// An event claim has the states of Powertools idempotency's records (its `packages/idempotency`,
// whose ~44 KB would not fit the bundle budget).
const IN_PROGRESS = 'INPROGRESS';
const COMPLETED = 'COMPLETED';
const CLAIM_ATTEMPTS = 3;

function eventKey(eventId: string): { pk: string; sk: string } {
  return { pk: `EVENT#${eventId}`, sk: 'EVENT' };
}

const FINDING_PREFIX = 'FINDING#';

function clusterKey(cluster: string): string {
  return `CLUSTER#${cluster}`;
}

function epochSeconds(now: Date): number {
  return Math.floor(now.getTime() / 1000);
}

function toItem(state: FindingState): Record<string, unknown> {
  const item: Record<string, unknown> = { pk: clusterKey(state.cluster), sk: `${FINDING_PREFIX}${state.findingId}`, type: 'finding' };
  for (const [key, value] of Object.entries(state)) {
    if (value !== undefined) item[key] = value;
  }
  // The marshaller rejects undefined (unless removeUndefinedValues), nested ones included.
  item.subject = Object.fromEntries(Object.entries(state.subject).filter(([, v]) => v !== undefined));
  return item;
}

/** Reads an item back into a FindingState; an item of another shape is an error, not a guess. */
function toFindingState(item: Record<string, unknown>, tableName: string): FindingState {
  const where = `ledger table ${tableName} item ${String(item.pk)} / ${String(item.sk)}`;
  const str = (key: string): string => {
    const v = item[key];
    if (typeof v !== 'string') throw new LedgerItemError(`${where}: ${key} is not a string`);
    return v;
  };
  const optStr = (key: string): string | undefined => (item[key] === undefined ? undefined : str(key));
  const num = (key: string): number => {
    const v = item[key];
    if (typeof v !== 'number') throw new LedgerItemError(`${where}: ${key} is not a number`);
    return v;
  };
  const severity = (key: string) => {
    const v = optStr(key);
    if (v !== undefined && v !== 'warning' && v !== 'critical') throw new LedgerItemError(`${where}: ${key} is ${v}`);
    return v;
  };
  const status = str('status');
  if (status !== 'open' && status !== 'cleared') throw new LedgerItemError(`${where}: status is ${status}`);
  const sev = severity('severity');
  if (sev === undefined) throw new LedgerItemError(`${where}: severity is missing`);
  const subject = item.subject as FindingState['subject'] | undefined;
  if (!subject || typeof subject !== 'object' || typeof subject.id !== 'string') {
    throw new LedgerItemError(`${where}: subject is missing`);
  }
  const lastNotifiedAt = optStr('lastNotifiedAt');
  const lastNotifiedSeverity = severity('lastNotifiedSeverity');
  const clearedAt = optStr('clearedAt');
  return {
    cluster: str('cluster'),
    findingId: str('findingId'),
    kind: str('kind') as FindingState['kind'],
    severity: sev,
    subject,
    title: str('title'),
    firstSeen: str('firstSeen'),
    lastSeen: str('lastSeen'),
    ...(lastNotifiedAt !== undefined ? { lastNotifiedAt } : {}),
    ...(lastNotifiedSeverity !== undefined ? { lastNotifiedSeverity } : {}),
    status,
    ...(clearedAt !== undefined ? { clearedAt } : {}),
    version: num('version'),
    expiresAt: num(LEDGER_TTL_ATTRIBUTE),
  };
}
