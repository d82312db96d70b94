/**
 * The cni-subnets executor's steering on the emulated account (the demo snapshot as a live
 * account): the spare subnet tagged first, then this cluster's cni.networking.k8s.aws/cluster/<name>
 * tag removed from the shared subnet, the other clusters' kept; a re-run after a crash between the
 * two finishes with DeleteTags alone; a removal that would open the subnet to every cluster is
 * refused, as is one from a node subnet of the cluster now; one that did open it (another cluster
 * steering away at once) is undone; the detail says what was set and removed, and how to undo it.
 */
import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { cniSubnetsExecutor, EXCLUDED_STEP } from '../../lib/act/execute-subnets';
import { policyProblems, type ActContext } from '../../lib/act/act';
import type { ActionRecord, ExecuteDeps } from '../../lib/act/types';
import type { CniSubnetsChange, PlannedAction } from '../../lib/plan/types';
import { describeChange } from '../../lib/output/notify/action-message';
import { ec2Error, emulateAccount } from '../../tools/mock-aws';
import { accountFromSnapshot, DEMO_SNAPSHOT } from '../support/snapshot-account';
import { useTestHarness } from '../support/harness';

const harness = useTestHarness();
const CLUSTER = 'payments-prod';
const SCOPE = 'vpc-05cb6340ff1bbcd88/eu-west-1a';
const SPARE = 'subnet-0c55317ef17156075';
const SHARED = 'subnet-0cb3f597078dde6c4';
const KEY = `cni.networking.k8s.aws/cluster/${CLUSTER}`;
const OTHER = 'cni.networking.k8s.aws/cluster/batch-dev';

function setup(sharedTags: { Key: string; Value: string }[] = [{ Key: 'kubernetes.io/role/cni', Value: '1' }, { Key: KEY, Value: 'shared' }, { Key: OTHER, Value: 'shared' }]) {
  const account = accountFromSnapshot(DEMO_SNAPSHOT);
  const spare = account.subnets.find((s) => s.SubnetId === SPARE);
  if (spare) spare.Tags = (spare.Tags ?? []).filter((t) => t.Key !== 'kubernetes.io/role/cni');
  const shared = account.subnets.find((s) => s.SubnetId === SHARED);
  if (shared) shared.Tags = [...(shared.Tags ?? []), ...sharedTags];
  const aws = emulateAccount(account);
  harness.track(aws);
  const deps: ExecuteDeps = { ec2: aws.ec2, eks: aws.eks, now: () => new Date('2026-12-03T10:00:00Z'), sleep: async () => {}, followForMs: 0 };
  const tags = (id: string): Record<string, string> =>
    Object.fromEntries((account.subnets.find((s) => s.SubnetId === id)?.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  return { account, aws, deps, tags };
}

const change = (subnetIds: string[] = [SPARE]): CniSubnetsChange => ({
  type: 'tag-subnets',
  subnetIds,
  tag: { key: 'kubernetes.io/role/cni', value: '1' },
  exclude: [{ subnetId: SHARED, key: KEY, value: 'shared' }],
});

function action(c: CniSubnetsChange = change()): PlannedAction {
  return {
    id: `${CLUSTER}/cni-subnets/${SCOPE}`,
    cluster: CLUSTER,
    kind: 'cni-subnets',
    subject: SCOPE,
    reason: 'Pods in eu-west-1a are short of addresses.',
    findingIds: [],
    change: c,
    predicted: { text: 'steer' },
    blockers: [],
    state: 'apply',
    blockedBy: [],
  };
}

function record(c: CniSubnetsChange = change()): ActionRecord {
  const a = action(c);
  return {
    actionId: a.id,
    cluster: a.cluster,
    kind: a.kind,
    change: a.change,
    predicted: a.predicted,
    reason: a.reason,
    startedAt: '2026-12-03T09:55:00.000Z',
    status: 'in-progress',
    step: 'tagged',
    updatedAt: '2026-12-03T09:55:01.000Z',
  } as ActionRecord;
}

describe('cni-subnets steering on the emulated account', () => {
  it('tags the spare subnet, then removes only this cluster tag from the shared one, and says how to undo it', async () => {
    const { aws, deps, tags } = setup();
    const out = await cniSubnetsExecutor.start(action(), deps);
    expect(out).toMatchObject({ status: 'succeeded', step: EXCLUDED_STEP });
    expect(out.detail).toContain(`removed ${KEY}=shared from ${SHARED} (to undo: CreateTags with the same key and value)`);
    expect(aws.changes.map((c) => c.op)).toEqual(['CreateTags', 'DeleteTags']);
    expect(aws.changes[1]?.input).toEqual({ Resources: [SHARED], Tags: [{ Key: KEY }] });
    expect(tags(SPARE)['kubernetes.io/role/cni']).toBe('1');
    expect(tags(SHARED)).toMatchObject({ 'kubernetes.io/role/cni': '1', [OTHER]: 'shared' });
    expect(tags(SHARED)[KEY]).toBeUndefined();
    // The read before the writes, and the one after the DeleteTags.
    expect(aws.calls['DescribeSubnets']).toBe(2);
  });

  it('puts its key back, failing, when the other cluster removed its own key between the read and the DeleteTags', async () => {
    const { account, aws, deps, tags } = setup();
    const intents: { operation: string; target: string }[] = [];
    deps.intend = async (i) => {
      intents.push({ operation: i.operation, target: i.target });
      return '';
    };
    // batch-dev's executor, steering away from the same subnet at the same time, deletes its key.
    aws.faults['DeleteTags'] = () => {
      const shared = account.subnets.find((x) => x.SubnetId === SHARED);
      if (shared) shared.Tags = (shared.Tags ?? []).filter((t) => t.Key !== OTHER);
      return undefined;
    };
    const out = await cniSubnetsExecutor.start(action(), deps);
    expect(out.status).toBe('failed');
    expect(out.detail).toContain(`${SHARED} named no cluster after ${KEY} was removed`);
    expect(out.detail).toContain(`put ${KEY}=shared back`);
    expect(tags(SHARED)[KEY]).toBe('shared');
    expect(aws.changes.map((c) => c.op)).toEqual(['CreateTags', 'DeleteTags', 'CreateTags']);
    expect(aws.changes[2]?.input).toEqual({ Resources: [SHARED], Tags: [{ Key: KEY, Value: 'shared' }] });
    expect(intents.at(-1)).toEqual({ operation: 'ec2:CreateTags', target: SHARED });
  });

  it('a follow of a record that left the subnet with no cluster tag (a crash before the put-back) puts the key back', async () => {
    const { aws, deps, tags } = setup([{ Key: 'kubernetes.io/role/cni', Value: '1' }]);
    const out = await cniSubnetsExecutor.follow(record(), deps);
    expect(out.status).toBe('failed');
    expect(out.detail).toContain(`put ${KEY}=shared back`);
    expect(tags(SHARED)[KEY]).toBe('shared');
    expect(aws.changes.map((c) => c.op)).toEqual(['CreateTags']);
  });

  it('after a crash between the two writes, the follow removes the tag still there and tags nothing again', async () => {
    const { aws, deps, tags } = setup();
    // The crashed run's CreateTags, made.
    const spare = tags(SPARE);
    expect(spare['kubernetes.io/role/cni']).toBeUndefined();
    await aws.ec2.send(new CreateTagsCommand({ Resources: [SPARE], Tags: [{ Key: 'kubernetes.io/role/cni', Value: '1' }] }));
    aws.changes.length = 0;
    const out = await cniSubnetsExecutor.follow(record(), deps);
    expect(out).toMatchObject({ status: 'succeeded', step: EXCLUDED_STEP });
    expect(aws.changes.map((c) => c.op)).toEqual(['DeleteTags']);
    expect(tags(SHARED)[KEY]).toBeUndefined();
  });

  it('changes nothing when both are already done (a re-run)', async () => {
    const { aws, deps } = setup([{ Key: 'kubernetes.io/role/cni', Value: '1' }, { Key: OTHER, Value: 'shared' }]);
    await aws.ec2.send(new CreateTagsCommand({ Resources: [SPARE], Tags: [{ Key: 'kubernetes.io/role/cni', Value: '1' }] }));
    aws.changes.length = 0;
    const out = await cniSubnetsExecutor.start(action(), deps);
    expect(out).toMatchObject({ status: 'succeeded', step: EXCLUDED_STEP });
    expect(out.detail).toContain(`${SHARED} already without ${KEY}`);
    expect(aws.changes).toEqual([]);
  });

  it('refuses, changing nothing, when the shared subnet names no other cluster now (removing the tag would open it to all)', async () => {
    const { aws, deps, tags } = setup([{ Key: 'kubernetes.io/role/cni', Value: '1' }, { Key: KEY, Value: 'shared' }]);
    const out = await cniSubnetsExecutor.start(action(), deps);
    expect(out.status).toBe('failed');
    expect(out.detail).toContain('would open it to every cluster');
    expect(aws.changes).toEqual([]);
    expect(tags(SHARED)[KEY]).toBe('shared');
  });

  it('refuses, changing nothing, a subnet that is a node subnet of the cluster now (a stale record)', async () => {
    const { account, aws, deps, tags } = setup();
    const node = account.instances.find((i) => (i.Tags ?? []).some((t) => t.Key === `kubernetes.io/cluster/${CLUSTER}`) && i.State?.Name === 'running');
    if (!node) throw new Error('no running node of the cluster in the demo account');
    node.SubnetId = SHARED;
    const out = await cniSubnetsExecutor.start(action(), deps);
    expect(out.status).toBe('failed');
    expect(out.detail).toContain(`${SHARED} is a node subnet of ${CLUSTER} now (${node.InstanceId})`);
    expect(aws.changes).toEqual([]);
    expect(tags(SHARED)[KEY]).toBe('shared');
  });

  it('steers without a spare subnet to open (a roomy subnet already serves the AZ)', async () => {
    const { aws, deps } = setup();
    const out = await cniSubnetsExecutor.start(action(change([])), deps);
    expect(out).toMatchObject({ status: 'succeeded', step: EXCLUDED_STEP });
    expect(aws.changes.map((c) => c.op)).toEqual(['DeleteTags']);
  });

  it('fails naming ec2:DeleteTags when the role may not remove the tag, the spare subnet tagged already', async () => {
    const { aws, deps, tags } = setup();
    aws.faults['DeleteTags'] = () => ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.');
    const out = await cniSubnetsExecutor.start(action(), deps);
    expect(out).toMatchObject({ status: 'failed', retryable: false });
    expect(out.detail).toContain('ec2:DeleteTags');
    expect(tags(SPARE)['kubernetes.io/role/cni']).toBe('1');
    expect(tags(SHARED)[KEY]).toBe('shared');
  });
});

describe('policyProblems: the record checked against the policy before it runs', () => {
  const ctx = (excludable: string[]): ActContext => ({
    dataAt: new Date(),
    allowedKinds: new Set(['cni-subnets']),
    allowedSubnets: new Set([SPARE]),
    excludableSubnets: new Set(excludable),
    regate: (a) => a,
  });

  it('names an exclusion of a subnet the policy does not list, and a key that is not the cluster own', () => {
    expect(policyProblems(CLUSTER, record(), ctx([SHARED]))).toEqual([]);
    expect(policyProblems(CLUSTER, record(), ctx([]))).toEqual([
      `it excludes ${CLUSTER} from ${SHARED}, which the policy does not list as excludable subnets of ${CLUSTER}`,
    ]);
    const foreign = record({ ...change(), exclude: [{ subnetId: SHARED, key: OTHER, value: 'shared' }] });
    expect(policyProblems(CLUSTER, foreign, ctx([SHARED]))).toEqual([`it removes ${OTHER}, which is not ${CLUSTER}'s cluster tag`]);
  });
});

describe('describeChange: what a steering action says it does', () => {
  it('names the tag removed with the value that puts it back, after the spare subnet tagged', () => {
    expect(describeChange(change())).toBe(
      `tag ${SPARE} kubernetes.io/role/cni=1 for VPC CNI subnet discovery; then remove ${KEY}=shared from ${SHARED} (steering: that subnet stops serving the cluster)`,
    );
    expect(describeChange(change([]))).toBe(`remove ${KEY}=shared from ${SHARED} (steering: that subnet stops serving the cluster)`);
  });
});
