/**
 * The partition-key prefixes of the ledger table: one per writer, so that IAM can tell them
 * apart. The stack's roles are scoped on them (resources/roles.yml): the sampler may PutItem only
 * where every leading key begins with {@link FINDING_PK_PREFIX} (`dynamodb:LeadingKeys`), so only
 * the responder writes action records, the change lock, its cycle throttle and event claims.
 *
 * Design: docs/responder.md#libawsledger-keysts-partition-keys-per-writer
 */

/** Partition-key prefix of finding states: the only items the sampler may write. */
export const FINDING_PK_PREFIX = 'CLUSTER#';

/**
 * Partition-key prefix of action records, the change lock and the cycle throttle: the responder's own.
 * `dynamodb:LeadingKeys` is the partition key of the item a request names ("Using IAM policy
 * conditions for fine-grained access control", DynamoDB developer guide:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html),
 * so a prefix is all IAM can match on: the sort key is invisible to it. That is why the action
 * items cannot share the finding states' partition.
 */
export const ACTIONS_PK_PREFIX = 'ACTIONS#';

/** Partition-key prefix of event claims: the responder's own. */
export const EVENT_PK_PREFIX = 'EVENT#';

/** The partition key of a cluster's finding states. */
export function findingPk(cluster: string): string {
  return `${FINDING_PK_PREFIX}${cluster}`;
}

/** The partition key of a cluster's action records, change lock and cycle throttle. */
export function actionsPk(cluster: string): string {
  return `${ACTIONS_PK_PREFIX}${cluster}`;
}

/** The partition key of an event claim. */
export function eventPk(eventId: string): string {
  return `${EVENT_PK_PREFIX}${eventId}`;
}
