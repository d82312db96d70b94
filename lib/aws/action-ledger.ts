/**
 * The ledger's record of remediation (same table as lib/aws/ledger.ts), under partition keys of
 * its own so that IAM can keep every writer but the responder out of them (lib/aws/ledger-keys.ts):
 * action records, the per-cluster change lock and the cycle throttle. Every write is conditional,
 * and records are read back through a schema.
 *
 * It implements the act layer's port, `ActionLedger` (lib/act/ledger.ts).
 *
 * Design: docs/responder.md#libawsaction-ledgerts-the-remediation-records
 */
import { DeleteCommand, GetCommand, PutCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { ACTION_SK_PREFIX, actionRecordSk, ActionRecordInvalidError, type ActionLedger, type ActionLock, type LedgerHistory } from '../act/ledger';
import type { ActionRecord } from '../act/types';
import type { ActionKind } from '../plan/types';
import { ACTION_KINDS } from '../policy/types';
import { AwsCallError, awsCallError, awsErrorCode, zodProblems } from '../errors';
import { LEDGER_TTL_ATTRIBUTE } from './ledger';
import { ACTIONS_PK_PREFIX } from './ledger-keys';
import { CNI_CLUSTER_TAG_PREFIX } from '../names';
import { RANGES } from '../policy/schema';

const CONDITIONAL_CHECK_FAILED = 'ConditionalCheckFailedException';
const LOCK_SK = 'INFLIGHT';
/** How long action records are kept. */
export const ACTION_RECORD_TTL_DAYS = 90;

/** The action kinds, as records name them (lib/policy/types.ts). */
export { ACTION_KINDS };

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'is not a time');
const outcomeStatus = z.enum(['started', 'in-progress', 'succeeded', 'failed', 'skipped', 'quarantined']);
const recordStatus = z.enum(['in-progress', 'succeeded', 'failed', 'skipped', 'quarantined']);
const stringMap = z.record(z.string(), z.string());

const changeSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('addon-env'), set: stringMap, previous: stringMap, target: z.literal('aws-node').optional() }),
  z.looseObject({
    type: z.literal('tag-subnets'),
    subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, 'is not a subnet id')),
    tag: z.object({ key: z.string(), value: z.string() }),
    exclude: z
      .array(z.object({ subnetId: z.string().regex(/^subnet-[0-9a-f]+$/, 'is not a subnet id'), key: z.string().startsWith(CNI_CLUSTER_TAG_PREFIX), value: z.string() }))
      .optional(),
  }),
  z.looseObject({
    type: z.literal('replace-nodegroup'),
    nodegroup: z.string().min(1),
    newNodegroup: z.string().min(1),
    fromInstanceTypes: z.array(z.string()),
    toInstanceTypes: z.array(z.string()),
    scaling: z.object({ minSize: z.number().int().min(0), maxSize: z.number().int().min(0), desiredSize: z.number().int().min(0) }),
  }),
  z.looseObject({
    type: z.literal('reserve-prefixes'),
    subnetId: z.string().regex(/^subnet-[0-9a-f]+$/, 'is not a subnet id'),
    vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, 'is not a VPC id'),
    subnetCidr: z.string(),
    // No more than the policy ever allows one action (its maxReservationsPerAction range).
    cidrs: z.array(z.string()).min(1).max(RANGES.maxReservationsPerAction.max),
    description: z.string(),
  }),
  z.looseObject({
    type: z.literal('delete-enis'),
    clusterTag: z.string().min(1),
    minAgeMinutes: z.number().int().min(0),
    enis: z.array(
      z.looseObject({
        networkInterfaceId: z.string().regex(/^eni-[0-9a-f]+$/, 'is not an ENI id'),
        subnetId: z.string().regex(/^subnet-[0-9a-f]+$/, 'is not a subnet id'),
        instanceId: z.string().min(1),
      }),
    ),
  }),
  // Karpenter: a node class's subnet terms, a NodePool's requirements.
  z.looseObject({
    type: z.literal('karpenter-subnet-terms'),
    nodeClass: z.string().min(1),
    previousTerms: z.array(z.looseObject({ id: z.string().optional(), tags: stringMap.optional() })),
    terms: z.array(z.object({ id: z.string().regex(/^subnet-[0-9a-f]+$/, 'is not a subnet id') })).min(1),
    removed: z.array(z.string()),
    added: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, 'is not a subnet id')),
  }),
  z.looseObject({
    type: z.literal('karpenter-requirements'),
    nodePool: z.string().min(1),
    previous: z.array(z.looseObject({ key: z.string(), operator: z.string() })),
    requirements: z.array(z.looseObject({ key: z.string(), operator: z.string() })).min(1),
    widened: z.object({ key: z.string(), added: z.array(z.string()) }),
    increasePercent: z.number(),
  }),
  z.looseObject({
    type: z.literal('eni-configs'),
    vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, 'is not a VPC id'),
    eniConfigs: z
      .array(
        z.looseObject({
          // An ENIConfig named after a zone (`eu-west-1a`): a Kubernetes object name.
          name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'is not an Availability Zone name'),
          subnet: z.string().regex(/^subnet-[0-9a-f]+$/, 'is not a subnet id'),
          securityGroups: z.array(z.string().regex(/^sg-[0-9a-f]+$/, 'is not a security group id')).min(1),
        }),
      )
      .min(1),
    env: z.looseObject({ type: z.literal('addon-env'), set: stringMap, previous: stringMap, target: z.literal('aws-node').optional() }),
  }),
]);

/** What an action record must be before anything is done with it. */
const actionRecordSchema = z.looseObject({
  actionId: z.string().min(1),
  cluster: z.string().min(1),
  kind: z.enum(ACTION_KINDS),
  change: changeSchema,
  predicted: z.looseObject({ text: z.string() }),
  reason: z.string(),
  startedAt: isoTime,
  updatedAt: isoTime,
  status: recordStatus,
  step: z.string().min(1),
  reference: z.string().optional(),
  intent: z
    .looseObject({ step: z.string(), operation: z.string(), target: z.string(), token: z.string().optional(), at: isoTime })
    .optional(),
  wrote: z.boolean().optional(),
  notified: recordStatus.optional(),
  history: z.array(z.looseObject({ at: isoTime, status: outcomeStatus, step: z.string().optional(), detail: z.string() })),
  version: z.number().int().min(1),
  // The policy it was started under (lib/act/types.ts ActionRecord.policy); absent in records older than it.
  policy: z.looseObject({ from: z.string(), version: z.string() }).optional(),
});

/** A record read from the table, checked; the table's own attributes removed. */
function parseRecord(sk: string, item: Record<string, unknown>): ActionRecord {
  const { pk: _pk, sk: _sk, type, [LEDGER_TTL_ATTRIBUTE]: _ttl, ...rest } = item;
  const problems: string[] = [];
  if (type !== 'action') problems.push(`type: is ${JSON.stringify(type)}, not "action"`);
  const parsed = actionRecordSchema.safeParse(rest);
  if (!parsed.success) problems.push(...zodProblems(parsed.error).map((p) => `${p.field}: ${p.problem}`));
  else if (actionRecordSk(parsed.data) !== sk) problems.push(`its sort key ${sk} is not the one its startedAt and actionId make (${actionRecordSk(parsed.data)})`);
  if (problems.length > 0) throw new ActionRecordInvalidError(sk, problems, item);
  return rest as unknown as ActionRecord;
}

/** Whether a record changed, or may have changed, something: it counts for cooldowns and stale plans. */
function mayHaveChanged(item: Record<string, unknown>): boolean {
  return item.wrote === true || (item.status !== 'skipped' && item.status !== 'quarantined');
}

export function createActionLedger(client: DynamoDBDocumentClient, tableName: string): ActionLedger {
  const pk = (cluster: string) => `${ACTIONS_PK_PREFIX}${cluster}`;
  const fail = (operation: string, about: string, err: unknown): AwsCallError => awsCallError(operation, `on table ${tableName} ${about}`, err);
  const expires = (iso: string, days: number) => Math.floor(Date.parse(iso) / 1000) + days * 86_400;
  const lockItem = (cluster: string, lock: ActionLock) => ({
    pk: pk(cluster),
    sk: LOCK_SK,
    type: 'lock',
    ...lock,
    // A lock outlives any invocation (TTL deletes it after 30 days at the latest).
    [LEDGER_TTL_ATTRIBUTE]: expires(lock.since, 30),
  });

  const ledger: ActionLedger = {
    async getActionHistory(cluster) {
      const history: LedgerHistory = { lastStartedByKind: {} };
      try {
        for await (const page of paginateQuery(
          { client },
          {
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': pk(cluster), ':prefix': ACTION_SK_PREFIX },
            ConsistentRead: true,
          },
        )) {
          for (const item of page.Items ?? []) {
            // A start that changed nothing (already as wanted, or could not begin) starts no cooldown.
            if (!mayHaveChanged(item)) continue;
            const kind = item.kind as ActionKind;
            const started = String(item.startedAt);
            const last = history.lastStartedByKind[kind];
            if (ACTION_KINDS.includes(kind) && (!last || started > last)) history.lastStartedByKind[kind] = started;
            const updated = String(item.updatedAt);
            if (!history.lastChangeAt || updated > history.lastChangeAt) history.lastChangeAt = updated;
          }
        }
        const lock = await client.send(new GetCommand({ TableName: tableName, Key: { pk: pk(cluster), sk: LOCK_SK }, ConsistentRead: true }));
        if (lock.Item) {
          const l: ActionLock = {
            actionId: String(lock.Item.actionId),
            kind: lock.Item.kind as ActionKind,
            recordSk: String(lock.Item.recordSk),
            since: String(lock.Item.since),
            owner: String(lock.Item.owner ?? ''),
            leaseUntil: typeof lock.Item.leaseUntil === 'number' ? lock.Item.leaseUntil : 0,
          };
          history.lock = l;
          let step = 'unknown';
          try {
            const record = await ledger.getActionRecord(cluster, l.recordSk);
            if (record) {
              history.lockRecord = record;
              step = record.step;
            }
          } catch (err) {
            if (!(err instanceof ActionRecordInvalidError)) throw err;
            history.lockRecordProblems = err.problems;
            step = 'invalid record';
          }
          history.inFlight = { actionId: l.actionId, kind: l.kind, since: l.since, step };
        }
      } catch (err) {
        throw fail('dynamodb:Query', `for the actions of cluster ${cluster}`, err);
      }
      return history;
    },

    async acquireLock(cluster, lock) {
      try {
        await client.send(new PutCommand({ TableName: tableName, Item: lockItem(cluster, lock), ConditionExpression: 'attribute_not_exists(pk)' }));
        return true;
      } catch (err) {
        if (awsErrorCode(err) === CONDITIONAL_CHECK_FAILED) return false;
        throw fail('dynamodb:PutItem', `taking the change lock of cluster ${cluster}`, err);
      }
    },

    async takeLease(cluster, lock, owner, leaseUntil, now) {
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: lockItem(cluster, { ...lock, owner, leaseUntil }),
            ConditionExpression: 'actionId = :id AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now OR #owner = :owner)',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':id': lock.actionId, ':now': now.getTime(), ':owner': owner },
          }),
        );
        return true;
      } catch (err) {
        if (awsErrorCode(err) === CONDITIONAL_CHECK_FAILED) return false;
        throw fail('dynamodb:PutItem', `taking the lease of the change lock of cluster ${cluster}`, err);
      }
    },

    async releaseLease(cluster, lock, owner) {
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: lockItem(cluster, { ...lock, owner, leaseUntil: 0 }),
            ConditionExpression: 'actionId = :id AND #owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':id': lock.actionId, ':owner': owner },
          }),
        );
      } catch (err) {
        if (awsErrorCode(err) === CONDITIONAL_CHECK_FAILED) return;
        throw fail('dynamodb:PutItem', `giving back the lease of the change lock of cluster ${cluster}`, err);
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

    async saveActionRecord(cluster, record, expectedVersion, sk) {
      const wanted = (expectedVersion ?? 0) + 1;
      if (record.version !== wanted) throw new Error(`saveActionRecord ${record.actionId}: version ${record.version} must be ${wanted}`);
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              pk: pk(cluster),
              sk: sk ?? actionRecordSk(record),
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

    async quarantineRecord(cluster, sk, reason, at) {
      try {
        const out = await client.send(new GetCommand({ TableName: tableName, Key: { pk: pk(cluster), sk }, ConsistentRead: true }));
        const item = out.Item ?? {};
        const version = typeof item.version === 'number' && Number.isInteger(item.version) ? item.version + 1 : 1;
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              ...item,
              pk: pk(cluster),
              sk,
              type: 'action',
              status: 'quarantined',
              quarantinedAt: at.toISOString(),
              quarantineReason: reason,
              version,
              [LEDGER_TTL_ATTRIBUTE]: expires(at.toISOString(), ACTION_RECORD_TTL_DAYS),
            },
          }),
        );
      } catch (err) {
        throw fail('dynamodb:PutItem', `quarantining action record ${sk} of cluster ${cluster}`, err);
      }
    },

    async getActionRecord(cluster, recordSk) {
      let item: Record<string, unknown> | undefined;
      try {
        const out = await client.send(new GetCommand({ TableName: tableName, Key: { pk: pk(cluster), sk: recordSk }, ConsistentRead: true }));
        item = out.Item;
      } catch (err) {
        throw fail('dynamodb:GetItem', `reading action ${recordSk} of cluster ${cluster}`, err);
      }
      return item ? parseRecord(recordSk, item) : undefined;
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

    async releaseCycle(cluster, name, now) {
      try {
        await client.send(
          new DeleteCommand({
            TableName: tableName,
            Key: { pk: pk(cluster), sk: `CYCLE#${name}` },
            ConditionExpression: '#at = :at',
            ExpressionAttributeNames: { '#at': 'at' },
            ExpressionAttributeValues: { ':at': now.toISOString() },
          }),
        );
      } catch (err) {
        if (awsErrorCode(err) === CONDITIONAL_CHECK_FAILED) return;
        throw fail('dynamodb:DeleteItem', `giving back a ${name} cycle of cluster ${cluster}`, err);
      }
    },
  };
  return ledger;
}
