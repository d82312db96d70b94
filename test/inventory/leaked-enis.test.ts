/**
 * Issue 13, collect: the instances named by available VPC CNI ENIs are confirmed gone with one
 * DescribeInstances by the `instance-id` filter per cluster (never per ENI, never the InstanceIds
 * parameter, which fails the whole call for a missing id), the same from the live account, its
 * capture and the snapshot; a failure of that read is a problem, and nothing is called leaked.
 */
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LiveSource } from '../../lib/aws/live-source';
import { RecordingSource, writeSnapshot } from '../../lib/inventory/capture';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import type { InventorySource } from '../../lib/inventory/types';
import { measure } from '../../lib/measure/measure';
import { ec2Error, emulateAccount } from '../../tools/mock-aws';
import { useTestHarness } from '../support/harness';
import { accountFromSnapshot, DEMO_SNAPSHOT } from '../support/snapshot-account';

const harness = useTestHarness();
const NOW = new Date('2026-11-26T10:00:00Z');
const collect = (source: InventorySource, clusterNames: string[] = []) => collectInventory(source, { clusterNames, concurrency: 1, now: NOW });

function live() {
  const account = accountFromSnapshot(DEMO_SNAPSHOT);
  const aws = emulateAccount(account);
  harness.track(aws);
  const requests: Record<string, unknown>[] = [];
  aws.faults['DescribeInstances'] = (input) => {
    requests.push(input);
    return undefined;
  };
  return { account, aws, requests, source: new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1', 'measured') };
}

const byIdRequests = (requests: Record<string, unknown>[]) =>
  requests.filter((r) => (r['Filters'] as { Name?: string }[] | undefined)?.some((f) => f.Name === 'instance-id'));

describe('the instances of available CNI ENIs, confirmed once per cluster', () => {
  it('asks once, by the instance-id filter, for the four instances of the leaked ENIs of payments-prod', async () => {
    const w = live();
    const inv = await collect(w.source, ['payments-prod']);
    const c = inv.clusters[0];
    expect(c?.problems).toEqual([]);
    expect(byIdRequests(w.requests)).toHaveLength(1);
    expect(w.requests.some((r) => r['InstanceIds'] !== undefined)).toBe(false);
    expect(c?.eniInstances?.asked).toHaveLength(4);
    // One still answered (terminated); three EC2 no longer knows: left out, not an error.
    expect(c?.eniInstances?.found.map((i) => i.State?.Name)).toEqual(['terminated']);
    const usage = measure(inv).clusters[0];
    expect(usage?.leakedEnis?.map((e) => e.instanceState).sort()).toEqual(['missing', 'missing', 'missing', 'terminated']);
    expect(usage?.leakedEnisUnconfirmed).toBeUndefined();
  });

  it('makes no such call for a cluster without available CNI ENIs', async () => {
    const w = live();
    await collect(w.source, ['batch-dev']);
    expect(byIdRequests(w.requests)).toEqual([]);
  });

  it('the InstanceIds parameter would have failed the whole call (the emulator answers as EC2 does)', async () => {
    const w = live();
    await expect(w.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] }))).rejects.toThrow(/InvalidInstanceID.NotFound|does not exist/);
  });

  it('a failed read is a problem on the cluster; the ENIs are unconfirmed, never leaked', async () => {
    const w = live();
    w.aws.faults['DescribeInstances'] = (input) =>
      (input['Filters'] as { Name?: string }[] | undefined)?.some((f) => f.Name === 'instance-id') ? ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.') : undefined;
    const inv = await collect(w.source, ['payments-prod']);
    const c = inv.clusters[0];
    expect(c?.problems).toMatchObject([{ source: 'ec2:DescribeInstances', code: 'UnauthorizedOperation', unread: { part: 'eni-instances' } }]);
    expect(c?.eniInstances).toBeUndefined();
    const usage = measure(inv).clusters[0];
    expect(usage?.complete).toBe(false);
    expect(usage?.leakedEnis).toBeUndefined();
    expect(usage?.leakedEnisUnconfirmed).toBe(4);
  });

  it('gives the same leaked ENIs and shares from the live account, its capture and the shipped snapshot', async () => {
    const w = live();
    const recording = new RecordingSource(w.source);
    const fromLive = measure(await collect(recording));
    const dir = await mkdtemp(path.join(tmpdir(), 'leaked-'));
    try {
      await writeSnapshot(dir, recording, { region: 'eu-west-1', capturedAt: NOW.toISOString() });
      const written = JSON.parse(await readFile(path.join(dir, 'ec2', 'describe-instances.json'), 'utf8')) as { Reservations: { Instances: { State: { Name: string } }[] }[] };
      expect(written.Reservations.flatMap((r) => r.Instances).filter((i) => i.State.Name === 'terminated')).toHaveLength(1);
      const fromCapture = measure(await collect(await readSnapshot(dir)));
      const fromDemo = measure(await collect(await readSnapshot(DEMO_SNAPSHOT)));
      const view = (u: ReturnType<typeof measure>) =>
        u.clusters.map((c) => ({ name: c.name, leaked: c.leakedEnis, shares: c.subnets.map((s) => [s.subnetId, s.clusterShare, s.leaked]) }));
      expect(view(fromCapture)).toEqual(view(fromLive));
      expect(view(fromDemo)).toEqual(view(fromLive));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
