/**
 * The leaked-enis executor on the emulated demo account: one DescribeNetworkInterfaces of all
 * planned ENIs before the deletes, each deleted only while still available, in the record's subnet,
 * the CNI's for the planned instance, tagged with the cluster and old enough; NotFound is done;
 * an attach racing the delete (InUse) leaves it alone; a throttled delete is a retryable failure
 * naming what was deleted before it.
 */
import type { NetworkInterface } from '@aws-sdk/client-ec2';
import { leakedEnisExecutor } from '../../lib/act/execute-enis';
import type { ActionRecord, ExecuteDeps } from '../../lib/act/types';
import type { DeleteEnisChange, PlannedAction } from '../../lib/plan/types';
import { ec2Error, emulateAccount } from '../../tools/mock-aws';
import { useTestHarness } from '../support/harness';
import { accountFromSnapshot, DEMO_SNAPSHOT } from '../support/snapshot-account';

const harness = useTestHarness();
const CLUSTER = 'payments-prod';
const NOW = new Date('2026-11-26T12:00:00Z');

const tag = (e: NetworkInterface, key: string): string | undefined => e.TagSet?.find((t) => t.Key === key)?.Value;

function world() {
  const account = accountFromSnapshot(DEMO_SNAPSHOT);
  const aws = emulateAccount(account);
  harness.track(aws);
  const leaked = account.networkInterfaces.filter((e) => e.Status === 'available' && tag(e, 'cluster.k8s.amazonaws.com/name') === CLUSTER);
  const deps: ExecuteDeps = { ec2: aws.ec2, eks: aws.eks, now: () => NOW, sleep: async () => {}, followForMs: 0 };
  const change = (enis: NetworkInterface[], minAgeMinutes = 60): DeleteEnisChange => ({
    type: 'delete-enis',
    clusterTag: CLUSTER,
    minAgeMinutes,
    enis: enis.map((e) => ({ networkInterfaceId: e.NetworkInterfaceId ?? '', subnetId: e.SubnetId ?? '', instanceId: tag(e, 'node.k8s.amazonaws.com/instance_id') ?? '', ips: e.PrivateIpAddresses?.length ?? 0 })),
  });
  const action = (c: DeleteEnisChange): PlannedAction => ({
    id: `${CLUSTER}/leaked-enis/vpc-05cb6340ff1bbcd88`,
    cluster: CLUSTER,
    kind: 'leaked-enis',
    subject: 'vpc-05cb6340ff1bbcd88',
    reason: 'leaked',
    findingIds: [],
    change: c,
    predicted: { text: 'frees addresses' },
    blockers: [],
    state: 'apply',
    blockedBy: [],
  });
  const exists = (e: NetworkInterface): boolean => account.networkInterfaces.some((x) => x.NetworkInterfaceId === e.NetworkInterfaceId);
  return { account, aws, leaked, deps, change, action, exists };
}

describe('the leaked-enis executor', () => {
  it('deletes each planned ENI once, after one read of them all, and frees its addresses', async () => {
    const w = world();
    expect(w.leaked).toHaveLength(3);
    const subnet = w.account.subnets.find((s) => s.SubnetId === w.leaked[0]?.SubnetId);
    const before = subnet?.AvailableIpAddressCount ?? 0;
    const outcome = await leakedEnisExecutor.start(w.action(w.change(w.leaked)), w.deps);
    expect(outcome).toMatchObject({ status: 'succeeded', step: 'deleted' });
    expect(w.leaked.some(w.exists)).toBe(false);
    expect(w.aws.calls['DescribeNetworkInterfaces']).toBe(1);
    expect(w.aws.changes.map((c) => c.op)).toEqual(['DeleteNetworkInterface', 'DeleteNetworkInterface', 'DeleteNetworkInterface']);
    expect(subnet?.AvailableIpAddressCount).toBe(before + w.leaked.reduce((sum, e) => sum + (e.PrivateIpAddresses?.length ?? 0), 0));
  });

  it('is idempotent: a re-run (a crash after some deletes) takes the ENIs already gone as done', async () => {
    const w = world();
    const [first] = w.leaked;
    await leakedEnisExecutor.start(w.action(w.change([first as NetworkInterface])), w.deps);
    const record = { actionId: `${CLUSTER}/leaked-enis/vpc-05cb6340ff1bbcd88`, change: w.change(w.leaked) } as ActionRecord;
    const outcome = await leakedEnisExecutor.follow(record, w.deps);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.detail).toContain(`gone already ${first?.NetworkInterfaceId}`);
    expect(w.aws.changes).toHaveLength(3);
  });

  it('leaves alone an ENI attached since the plan, one retagged with another cluster, and one too young, whatever the record says', async () => {
    const w = world();
    const [attached, retagged, young] = w.leaked as [NetworkInterface, NetworkInterface, NetworkInterface];
    Object.assign(attached, { Status: 'in-use', Attachment: { InstanceId: 'i-0new', DeviceIndex: 1, Status: 'attached' } });
    retagged.TagSet = (retagged.TagSet ?? []).map((t) => (t.Key === 'cluster.k8s.amazonaws.com/name' ? { ...t, Value: 'batch-dev' } : t));
    young.TagSet = (young.TagSet ?? []).map((t) => (t.Key === 'node.k8s.amazonaws.com/createdAt' ? { ...t, Value: '2026-11-26T11:30:00Z' } : t));
    // A record that says 10 minutes: the hour is a floor.
    const outcome = await leakedEnisExecutor.start(w.action(w.change(w.leaked, 10)), w.deps);
    expect(outcome.status).toBe('skipped');
    expect(outcome.detail).toContain(`${attached.NetworkInterfaceId} is in-use, attached to i-0new`);
    expect(outcome.detail).toContain(`${retagged.NetworkInterfaceId} is tagged cluster.k8s.amazonaws.com/name=batch-dev, not payments-prod`);
    expect(outcome.detail).toContain(`${young.NetworkInterfaceId} is not known to be 60 minutes old`);
    expect(w.aws.writes).toEqual([]);
    expect(w.leaked.every(w.exists)).toBe(true);
  });

  it('leaves alone an ENI not in the subnet the record names', async () => {
    const w = world();
    const [moved, other] = w.leaked as [NetworkInterface, NetworkInterface];
    const c = w.change([moved, other]);
    const named = { ...c, enis: c.enis.map((e) => (e.networkInterfaceId === moved.NetworkInterfaceId ? { ...e, subnetId: 'subnet-0ffffffffffffffff' } : e)) };
    const outcome = await leakedEnisExecutor.start(w.action(named), w.deps);
    expect(outcome.detail).toContain(`${moved.NetworkInterfaceId} is in ${moved.SubnetId}, not subnet-0ffffffffffffffff as the record says`);
    expect(w.exists(moved)).toBe(true);
    expect(w.exists(other)).toBe(false);
  });

  it('holds to the record’s minimum age when it is above the floor', async () => {
    const w = world();
    const [one] = w.leaked as [NetworkInterface];
    one.TagSet = (one.TagSet ?? []).map((t) => (t.Key === 'node.k8s.amazonaws.com/createdAt' ? { ...t, Value: '2026-11-26T10:30:00Z' } : t));
    const outcome = await leakedEnisExecutor.start(w.action(w.change([one], 120)), w.deps);
    expect(outcome.status).toBe('skipped');
    expect(outcome.detail).toContain(`${one.NetworkInterfaceId} is not known to be 120 minutes old`);
    expect(w.aws.writes).toEqual([]);
  });

  it('leaves alone an ENI attached between its read and its delete (InvalidNetworkInterface.InUse)', async () => {
    const w = world();
    const [racing, other] = w.leaked as [NetworkInterface, NetworkInterface];
    w.aws.faults['DeleteNetworkInterface'] = (input) => {
      if ((input as { NetworkInterfaceId?: string }).NetworkInterfaceId === racing.NetworkInterfaceId) {
        Object.assign(racing, { Status: 'in-use', Attachment: { InstanceId: 'i-0new', DeviceIndex: 1, Status: 'attached' } });
      }
      return undefined;
    };
    const outcome = await leakedEnisExecutor.start(w.action(w.change([racing, other])), w.deps);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.detail).toContain(`${racing.NetworkInterfaceId} was attached since it was read`);
    expect(w.exists(racing)).toBe(true);
    expect(w.exists(other)).toBe(false);
  });

  it('fails retryably on a throttled delete, naming what it deleted before', async () => {
    const w = world();
    const [first, second] = w.leaked as [NetworkInterface, NetworkInterface];
    w.aws.faults['DeleteNetworkInterface'] = (input) =>
      (input as { NetworkInterfaceId?: string }).NetworkInterfaceId === second.NetworkInterfaceId ? ec2Error('RequestLimitExceeded', 'Request limit exceeded.') : undefined;
    const outcome = await leakedEnisExecutor.start(w.action(w.change([first, second])), w.deps);
    expect(outcome).toMatchObject({ status: 'failed', retryable: true });
    expect(outcome.detail).toContain('ec2:DeleteNetworkInterface');
    expect(outcome.detail).toContain(`before it: deleted ${first.NetworkInterfaceId}`);
  });

  it('refuses a change without ENIs, deleting nothing', async () => {
    const w = world();
    expect((await leakedEnisExecutor.start(w.action({ ...w.change([]) }), w.deps)).status).toBe('failed');
    expect(w.aws.writes).toEqual([]);
  });
});
