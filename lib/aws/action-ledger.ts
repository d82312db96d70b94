/**
 * The ledger's record of remediation (same table as lib/aws/ledger.ts):
 *
 * | item            | pk                  | sk                               | attributes |
 * |-----------------|---------------------|----------------------------------|------------|
 * | action          | `CLUSTER#<cluster>` | `ACTION#<startedAt ISO>#<id>`    | type 'action' and the fields of ActionRecord; expires 90 days after its last update |
 * | change lock     | `CLUSTER#<cluster>` | `INFLIGHT`                       | type 'lock', actionId, kind, recordSk, since — at most one change in flight per cluster |
 * | cycle throttle  | `CLUSTER#<cluster>` | `CYCLE#<name>`                   | type 'cycle', at — the last targeted cycle of the responder, to debounce event storms |
 *
 * Every write is conditional: the lock exists at most once (attribute_not_exists), an action
 * record moves on only from the version it was read at, and the lock is released only by the
 * action that holds it. So two invocations handling the same event (or the sampler and the
 * responder at the same time) never start two changes.
 */
import { DeleteCommand, GetCommand, PutCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ActionHistory, ActionKind, ActionRecord } from '../act/types';
import { AwsCallError, awsCallError, awsErrorCode } from '../errors';
import { LEDGER_TTL_ATTRIBUTE } from './ledger';

const CONDITIONAL_CHECK_FAILED = 'ConditionalCheckFailedException';
const ACTION_PREFIX = 'ACTION#';
const LOCK_SK = 'INFLIGHT';
/** How long action records are kept. */
export const ACTION_RECORD_TTL_DAYS = 90;

/** A cluster's action history as the ledger has it: with the change lock, and the record it points to (read once, for the gates and for following the change). */
export type LedgerHistory = ActionHistory & { lock?: ActionLock; lockRecord?: ActionRecord };

export interface ActionLock {
  actionId: string;
  kind: ActionKind;
  recordSk: string;
  since: string;
}

export interface ActionLedger {
  /** The last start per kind and the change in flight, for the plan's gates. */
  getActionHistory(cluster: string): Promise<LedgerHistory>;
  /** Takes the cluster's change lock for an action. False when another change holds it. */
  acquireLock(cluster: string, lock: ActionLock): Promise<boolean>;
  /** Releases the lock if this action holds it. */
  releaseLock(cluster: string, actionId: string): Promise<void>;
  /** Writes an action record: new (expectedVersion undefined) or moving on from expectedVersion. */
  saveActionRecord(record: ActionRecord, expectedVersion: number | undefined): Promise<void>;
  /** Reads the record a lock points to. */
  getActionRecord(cluster: string, recordSk: string): Promise<ActionRecord | undefined>;
  /**
   * Claims a targeted cycle of a cluster unless one ran less than `minIntervalSeconds` ago:
   * during an incident every failed allocation is its own event, and describing the cluster
   * for each would throttle the EC2 API the VPC CNI itself needs.
   */
  claimCycle(cluster: string, name: string, now: Date, minIntervalSeconds: number): Promise<boolean>;
}

/** The sort key of an action record. */
export function actionRecordSk(record: Pick<ActionRecord, 'startedAt' | 'actionId'>): string {
  return `${ACTION_PREFIX}${record.startedAt}#${record.actionId}`;
}

export function createActionLedger(client: DynamoDBDocumentClient, tableName: string): ActionLedger {
  const pk = (cluster: string) => `CLUSTER#${cluster}`;
  const fail = (operation: string, about: string, err: unknown): AwsCallError => awsCallError(operation, `on table ${tableName} ${about}`, err);
  const expires = (iso: string, days: number) => Math.floor(Date.parse(iso) / 1000) + days * 86_400;

  return {
    async getActionHistory(cluster) {
      const history: LedgerHistory = { lastStartedByKind: {} };
      try {
        for await (const page of paginateQuery(
          { client },
          {
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': pk(cluster), ':prefix': ACTION_PREFIX },
            ConsistentRead: true,
          },
        )) {
          for (const item of page.Items ?? []) {
            // A start that changed nothing (already as wanted, or could not begin) starts no cooldown.
            if (item.status === 'skipped') continue;
            const kind = item.kind as ActionKind;
            const started = String(item.startedAt);
            const last = history.lastStartedByKind[kind];
            if (!last || started > last) history.lastStartedByKind[kind] = started;
          }
        }
        const lock = await client.send(new GetCommand({ TableName: tableName, Key: { pk: pk(cluster), sk: LOCK_SK }, ConsistentRead: true }));
        if (lock.Item) {
          const l: ActionLock = {
            actionId: String(lock.Item.actionId),
            kind: lock.Item.kind as ActionKind,
            recordSk: String(lock.Item.recordSk),
            since: String(lock.Item.since),
          };
          history.lock = l;
          const record = await this.getActionRecord(cluster, l.recordSk);
          if (record) history.lockRecord = record;
          history.inFlight = { actionId: l.actionId, kind: l.kind, since: l.since, step: record?.step ?? 'unknown' };
        }
      } catch (err) {
        throw fail('dynamodb:Query', `for the actions of cluster ${cluster}`, err);
      }
      return history;
    },

    async acquireLock(cluster, lock) {
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: { pk: pk(cluster), sk: LOCK_SK, type: 'lock', ...lock, [LEDGER_TTL_ATTRIBUTE]: expires(lock.since, 30) },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return true;
      } catch (err) {
        if (awsErrorCode(err) === CONDITIONAL_CHECK_FAILED) return false;
        throw fail('dynamodb:PutItem', `taking the change lock of cluster ${cluster}`, err);
      }
    },

    async releaseLock(cluster, actionId) {
      try {
        await client.send(
          new DeleteCommand({
            TableName: tableName,
            Key: { pk: pk(cluster), sk: LOCK_SK },
            ConditionExpression: 'actionId = :id',
            ExpressionAttributeValues: { ':id': actionId },
          }),
        );
      } catch (err) {
        if (awsErrorCode(err) === CONDITIONAL_CHECK_FAILED) return;
        throw fail('dynamodb:DeleteItem', `releasing the change lock of cluster ${cluster}`, err);
      }
    },

    async saveActionRecord(record, expectedVersion) {
      const wanted = (expectedVersion ?? 0) + 1;
      if (record.version !== wanted) throw new Error(`saveActionRecord ${record.actionId}: version ${record.version} must be ${wanted}`);
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              pk: pk(record.cluster),
              sk: actionRecordSk(record),
              type: 'action',
              ...JSON.parse(JSON.stringify(record)),
              [LEDGER_TTL_ATTRIBUTE]: expires(record.updatedAt, ACTION_RECORD_TTL_DAYS),
            },
            ...(expectedVersion === undefined
              ? { ConditionExpression: 'attribute_not_exists(pk)' }
              : {
                  ConditionExpression: '#v = :expected',
                  ExpressionAttributeNames: { '#v': 'version' },
                  ExpressionAttributeValues: { ':expected': expectedVersion },
                }),
          }),
        );
      } catch (err) {
        throw fail('dynamodb:PutItem', `recording action ${record.actionId}`, err);
      }
    },

    async getActionRecord(cluster, recordSk) {
      try {
        const out = await client.send(new GetCommand({ TableName: tableName, Key: { pk: pk(cluster), sk: recordSk }, ConsistentRead: true }));
        if (!out.Item) return undefined;
        const { pk: _pk, sk: _sk, type: _type, [LEDGER_TTL_ATTRIBUTE]: _ttl, ...rest } = out.Item;
        return rest as ActionRecord;
      } catch (err) {
        throw fail('dynamodb:GetItem', `reading action ${recordSk} of cluster ${cluster}`, err);
      }
    },

    async claimCycle(cluster, name, now, minIntervalSeconds) {
      const at = now.toISOString();
      const earliest = new Date(now.getTime() - minIntervalSeconds * 1000).toISOString();
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: { pk: pk(cluster), sk: `CYCLE#${name}`, type: 'cycle', at, [LEDGER_TTL_ATTRIBUTE]: expires(at, 1) },
            ConditionExpression: 'attribute_not_exists(pk) OR #at <= :earliest',
            ExpressionAttributeNames: { '#at': 'at' },
            ExpressionAttributeValues: { ':earliest': earliest },
          }),
        );
        return true;
      } catch (err) {
        if (awsErrorCode(err) === CONDITIONAL_CHECK_FAILED) return false;
        throw fail('dynamodb:PutItem', `claiming a ${name} cycle of cluster ${cluster}`, err);
      }
    },
  };
}
