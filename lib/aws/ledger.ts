/**
 * The ledger: the durable record of the responder (DESIGN.md, "Ledger") in one DynamoDB table of
 * the stack — on demand, TTL on `expiresAt`, point-in-time recovery.
 *
 * Single-table layout (`pk` S HASH, `sk` S RANGE, no index; every item has a `type`):
 *
 * | item            | pk                     | sk                          | attributes |
 * |-----------------|------------------------|-----------------------------|------------|
 * | event claim     | `EVENT#<EventBridge id>` | `EVENT`                   | type 'event', eventId, claimedAt, expiresAt (claim + 7 days) |
 * | finding state   | `CLUSTER#<cluster>`    | `FINDING#<Finding.id>`      | type 'finding' and the fields of {@link FindingState}: cluster, findingId, kind, severity, subject, title, firstSeen, lastSeen, lastNotifiedAt?, lastNotifiedSeverity?, status, clearedAt?, version, expiresAt |
 * | action (later)  | `CLUSTER#<cluster>`    | `ACTION#<ISO time>#<id>`    | type 'action'; sorts by time, so "the last action on this cluster" (cooldowns) is one Query with a `begins_with` and ScanIndexForward false |
 *
 * Every read of a cluster's partition names its sort-key prefix (`begins_with(sk, 'FINDING#')`),
 * so new item types under `CLUSTER#` do not leak into old readers. Times are ISO 8601 UTC
 * strings (they sort as text); `expiresAt` is epoch seconds, as DynamoDB TTL requires. TTL deletes
 * lazily (typically within days), so an expired item may still be read.
 *
 * Items are read and written through `DynamoDBDocumentClient` (@aws-sdk/lib-dynamodb), which
 * marshals plain JavaScript values to and from DynamoDB's attribute-value form; optional fields
 * left undefined (top level and in `subject`) are omitted here, so any document client works,
 * without `removeUndefinedValues`.
 */
import { type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, paginateQuery, type PutCommandInput } from '@aws-sdk/lib-dynamodb';
import { AwsCallError, awsCallError, awsErrorCode } from '../errors';
import type { FindingState } from '../notify/transitions';

export type { FindingState } from '../notify/transitions';

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
 * Another invocation saved the finding state first (its version moved on, or it created the
 * item). The loser must not notify: the winner owns the transition.
 */
export class LedgerConflictError extends Error {
  constructor(
    readonly cluster: string,
    readonly findingId: string,
    readonly expectedVersion: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LedgerConflictError';
  }
}

/** An item of the table does not have the shape this code writes. */
export class LedgerItemError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerItemError';
  }
}

/** The ledger's operations; handlers take it as a dependency. */
export interface Ledger {
  /**
   * Records that the event with this EventBridge id is being handled. True the first time;
   * false for a duplicated delivery (the id is already recorded). Never throws for the duplicate.
   */
  claimEvent(eventId: string, now: Date, ttlDays?: number): Promise<boolean>;
  /**
   * Forgets a claim, so that a redelivery of an event whose handling failed is handled again
   * (Lambda's retry of an asynchronous invocation carries the same EventBridge id).
   */
  releaseEvent(eventId: string): Promise<void>;
  /** The finding states of a cluster, every page, strongly consistent; [] for a cluster never seen. */
  getFindingStates(cluster: string): Promise<FindingState[]>;
  /**
   * Saves a finding state if nobody else did since it was read: for a new item
   * (`expectedVersion` undefined) only if none exists, otherwise only if its version is still
   * `expectedVersion`. `state.version` must be `expectedVersion + 1` (1 for a new item).
   * @throws LedgerConflictError when the condition fails; AwsCallError for any other failure of
   *   the call; Error, before any call, when `state.version` is not `expectedVersion + 1`.
   */
  saveFindingState(state: FindingState, expectedVersion: number | undefined): Promise<void>;
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
    async claimEvent(eventId, now, ttlDays = EVENT_CLAIM_TTL_DAYS) {
      if (!eventId) throw new Error('claimEvent needs an event id');
      const input: PutCommandInput = {
        TableName: tableName,
        Item: {
          pk: `EVENT#${eventId}`,
          sk: 'EVENT',
          type: 'event',
          eventId,
          claimedAt: now.toISOString(),
          [LEDGER_TTL_ATTRIBUTE]: epochSeconds(now) + Math.round(ttlDays * DAY_SECONDS),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      };
      try {
        await client.send(new PutCommand(input));
        return true;
      } catch (err) {
        if (awsErrorCode(err) === CONDITIONAL_CHECK_FAILED) return false;
        throw fail('dynamodb:PutItem', `claiming event ${eventId}`, err);
      }
    },

    async releaseEvent(eventId) {
      try {
        await client.send(new DeleteCommand({ TableName: tableName, Key: { pk: `EVENT#${eventId}`, sk: 'EVENT' } }));
      } catch (err) {
        throw fail('dynamodb:DeleteItem', `releasing event ${eventId}`, err);
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
