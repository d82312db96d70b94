/**
 * Subnet CIDR reservations collected live (the emulated account) and from a snapshot: one
 * GetSubnetCidrReservations per subnet, every page; a subnet whose read fails leaves the others
 * and marks its holders unknown; the snapshot file answers as the API does.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EC2Client, GetSubnetCidrReservationsCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { LiveSource } from '../../lib/aws/live-source';
import { subnetCidrReservationsOf } from '../../lib/aws/subnet-cidr-reservations';
import { RecordingSource, writeSnapshot } from '../../lib/inventory/capture';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import { snapshotPaths } from '../../lib/inventory/snapshot-schemas';
import { measure } from '../../lib/measure/measure';
import { trustedFigures } from '../../lib/measure/trusted';
import { ec2Error, emulateAccount } from '../../tools/mock-aws';
import { buildAccount, writeSyntheticSnapshot, type AccountSpec } from '../../tools/synthetic-account';

const NOW = new Date('2026-11-26T12:00:00Z');

/** Three /24s: one with an explicit and a prefix reservation (the prefix nodes' prefixes go there first), one with none. */
const SPEC: AccountSpec = {
  seed: 7,
  clusters: [
    {
      name: 'prod',
      version: '1.31',
      mode: 'prefix',
      addon: { version: 'v1.19.2-eksbuild.1', configurationValues: { env: { ENABLE_PREFIX_DELEGATION: 'true' } } },
      subnets: [
        {
          name: 'a',
          az: 0,
          prefixLength: 24,
          reservations: [
            { type: 'prefix', prefixLength: 26, description: 'prefixes' },
            { type: 'explicit', prefixLength: 28, description: 'appliances' },
          ],
        },
        { name: 'b', az: 1, prefixLength: 24 },
        { name: 'c', az: 2, prefixLength: 24, reservations: [{ type: 'explicit', prefixLength: 27 }] },
      ],
      nodegroups: [{ name: 'general', instanceTypes: ['m5.large'], nodes: 3, subnets: ['a', 'b', 'c'] }],
    },
  ],
};

async function collectLive(faults?: (aws: ReturnType<typeof emulateAccount>) => void) {
  const account = buildAccount(SPEC);
  const aws = emulateAccount(account, { instancesOnly: true });
  try {
    faults?.(aws);
    const inventory = await collectInventory(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1'), { clusterNames: [], concurrency: 1, now: NOW });
    return { account, inventory, calls: { ...aws.calls } };
  } finally {
    aws.restore();
  }
}

describe('the synthetic account', () => {
  it('places the reservations aligned in their subnet, the prefix nodes\' prefixes in the prefix one first, and leaves the unused out of AvailableIpAddressCount', () => {
    const account = buildAccount(SPEC);
    const [a, , c] = account.subnets;
    const own = (id: string | undefined) => (account.subnetCidrReservations ?? []).filter((r) => r.SubnetId === id);
    expect(own(a?.SubnetId).map((r) => [r.ReservationType, r.Cidr?.split('/')[1]])).toEqual([['prefix', '26'], ['explicit', '28']]);
    const usage = measure({ region: 'eu-west-1', collectedAt: NOW.toISOString(), clusters: [{ ...inventoryOf(account), problems: [] }], failedClusters: [], instanceTypes: {}, unknownInstanceTypes: [] });
    const sa = usage.clusters[0]!.subnets.find((s) => s.subnetId === a?.SubnetId)!;
    // The node in subnet a holds its prefixes inside the /26: fewer than 64 of it unused.
    expect(sa.reservations?.prefix.addresses).toBe(64);
    expect(sa.reservations?.prefix.unused).toBeLessThan(64);
    expect(sa.held.Unaccounted).toBe(0);
    expect(sa.held.Reserved).toBe(sa.reservations!.prefix.unused + 16);
    const sc = usage.clusters[0]!.subnets.find((s) => s.subnetId === c?.SubnetId)!;
    expect(sc.held).toMatchObject({ Reserved: 32, Unaccounted: 0 });
  });
});

/** The account's one cluster as an inventory, straight from the generated resources. */
function inventoryOf(account: ReturnType<typeof buildAccount>) {
  const cluster = account.clusters[0]!;
  return {
    name: cluster.name ?? '',
    cluster,
    nodegroups: account.nodegroups[cluster.name ?? ''] ?? [],
    cni: { kind: 'self-managed' as const },
    subnets: account.subnets,
    subnetRoles: Object.fromEntries(account.subnets.map((s) => [s.SubnetId ?? '', ['node' as const]])),
    networkInterfaces: account.networkInterfaces,
    instances: account.instances,
    subnetCidrReservations: account.subnetCidrReservations ?? [],
  };
}

describe('collected live', () => {
  it('reads every subnet\'s reservations with one call per subnet, and measures them as Reserved', async () => {
    const { account, inventory, calls } = await collectLive();
    const c = inventory.clusters[0]!;
    expect(c.problems).toEqual([]);
    expect(calls['GetSubnetCidrReservations']).toBe(3);
    expect(c.subnetCidrReservations?.map((r) => r.SubnetCidrReservationId).sort()).toEqual(
      (account.subnetCidrReservations ?? []).map((r) => r.SubnetCidrReservationId).sort(),
    );
    const usage = measure(inventory).clusters[0]!;
    expect(usage.subnets.every((s) => s.held.Unaccounted === 0)).toBe(true);
    expect(usage.subnets.reduce((sum, s) => sum + s.held.Reserved, 0)).toBeGreaterThan(0);
  });

  it('a subnet whose read is denied leaves the others read, and its holders unknown (not Unaccounted)', async () => {
    const account = buildAccount(SPEC);
    const denied = account.subnets[2]?.SubnetId;
    const { inventory } = await collectLive((aws) => {
      aws.faults['GetSubnetCidrReservations'] = (input) =>
        input['SubnetId'] === denied ? ec2Error('UnauthorizedOperation', 'You are not authorized to perform: ec2:GetSubnetCidrReservations') : undefined;
    });
    const c = inventory.clusters[0]!;
    expect(c.problems).toEqual([
      expect.objectContaining({ source: 'ec2:GetSubnetCidrReservations', code: 'UnauthorizedOperation', unread: { part: 'cidr-reservations', ids: [denied] } }),
    ]);
    // The other subnets' reservations were kept.
    expect(c.subnetCidrReservations?.some((r) => r.SubnetId === account.subnets[0]?.SubnetId)).toBe(true);
    const usage = measure(inventory).clusters[0]!;
    expect(usage.complete).toBe(false);
    expect(trustedFigures(usage).holders).toBe(false);
  });

  it('every subnet denied: one problem naming all of them', async () => {
    const { inventory } = await collectLive((aws) => {
      aws.faults['GetSubnetCidrReservations'] = () => ec2Error('UnauthorizedOperation', 'denied');
    });
    const [p] = inventory.clusters[0]!.problems;
    expect(p?.unread?.part).toBe('cidr-reservations');
    expect(p?.unread?.ids).toHaveLength(3);
  });
});

describe('subnetCidrReservationsOf', () => {
  const ec2Mock = mockClient(EC2Client);
  afterAll(() => ec2Mock.restore());

  it('asks one subnet at MaxResults 1000 and follows NextToken over three pages', async () => {
    ec2Mock.reset();
    const r = (n: number) => ({ SubnetCidrReservationId: `scr-${n}`, SubnetId: 'subnet-a', Cidr: `10.0.${n}.0/28`, ReservationType: 'prefix' as const });
    ec2Mock
      .on(GetSubnetCidrReservationsCommand)
      .resolvesOnce({ SubnetIpv4CidrReservations: [r(1)], NextToken: 't1' })
      .resolvesOnce({ SubnetIpv4CidrReservations: [r(2)], SubnetIpv6CidrReservations: [{ SubnetCidrReservationId: 'scr-v6' }], NextToken: 't2' })
      .resolvesOnce({ SubnetIpv4CidrReservations: [r(3)] });
    const got = await subnetCidrReservationsOf(new EC2Client({}), 'subnet-a');
    expect(got.map((x) => x.SubnetCidrReservationId)).toEqual(['scr-1', 'scr-2', 'scr-3']);
    const inputs = ec2Mock.commandCalls(GetSubnetCidrReservationsCommand).map((c) => c.args[0].input);
    expect(inputs).toEqual([
      { SubnetId: 'subnet-a', MaxResults: 1000 },
      { SubnetId: 'subnet-a', MaxResults: 1000, NextToken: 't1' },
      { SubnetId: 'subnet-a', MaxResults: 1000, NextToken: 't2' },
    ]);
  });
});

describe('from a snapshot', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'reservations-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('reads the reservations the synthetic account wrote, as the live read gave them', async () => {
    const account = buildAccount(SPEC);
    await writeSyntheticSnapshot(account, dir);
    const source = await readSnapshot(dir);
    const inventory = await collectInventory(source, { clusterNames: [], concurrency: 1, now: NOW });
    expect(inventory.clusters[0]?.problems).toEqual([]);
    expect(inventory.clusters[0]?.subnetCidrReservations).toEqual(account.subnetCidrReservations);
  });

  it('without the file (an older snapshot) reads none', async () => {
    await writeSyntheticSnapshot(buildAccount(SPEC), dir);
    await fs.rm(path.join(dir, ...snapshotPaths.subnetCidrReservations.split('/')));
    const inventory = await collectInventory(await readSnapshot(dir), { clusterNames: [], concurrency: 1, now: NOW });
    expect(inventory.clusters[0]?.subnetCidrReservations).toEqual([]);
  });

  it('a malformed record spoils only its subnet\'s read', async () => {
    const account = buildAccount(SPEC);
    await writeSyntheticSnapshot(account, dir);
    const file = path.join(dir, ...snapshotPaths.subnetCidrReservations.split('/'));
    const json = JSON.parse(await fs.readFile(file, 'utf8')) as { SubnetIpv4CidrReservations: Record<string, unknown>[] };
    const bad = json.SubnetIpv4CidrReservations.find((r) => r['SubnetId'] === account.subnets[2]?.SubnetId)!;
    bad['ReservationType'] = 'sometimes';
    await fs.writeFile(file, JSON.stringify(json));
    const inventory = await collectInventory(await readSnapshot(dir), { clusterNames: [], concurrency: 1, now: NOW });
    const c = inventory.clusters[0]!;
    expect(c.problems).toEqual([
      expect.objectContaining({ source: 'ec2:GetSubnetCidrReservations', unread: { part: 'cidr-reservations', ids: [account.subnets[2]?.SubnetId] } }),
    ]);
    expect(c.subnetCidrReservations?.filter((r) => r.SubnetId === account.subnets[0]?.SubnetId)).toHaveLength(2);
  });

  it('a read denied at capture is denied in the replay too (failed-reads.json), for the same subnet', async () => {
    const account = buildAccount(SPEC);
    const denied = account.subnets[1]?.SubnetId;
    const aws = emulateAccount(account, { instancesOnly: true });
    try {
      aws.faults['GetSubnetCidrReservations'] = (input) => (input['SubnetId'] === denied ? ec2Error('UnauthorizedOperation', 'denied') : undefined);
      const recording = new RecordingSource(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1'));
      const live = await collectInventory(recording, { clusterNames: [], concurrency: 1, now: NOW });
      await writeSnapshot(dir, recording, { region: 'eu-west-1', capturedAt: NOW.toISOString() });
      const replay = await collectInventory(await readSnapshot(dir), { clusterNames: [], concurrency: 1, now: NOW });
      const unread = (inv: typeof live) => inv.clusters[0]?.problems.map((p) => [p.source, p.code, p.unread]);
      expect(unread(replay)).toEqual(unread(live));
      expect(unread(live)).toEqual([['ec2:GetSubnetCidrReservations', 'UnauthorizedOperation', { part: 'cidr-reservations', ids: [denied] }]]);
    } finally {
      aws.restore();
    }
  });

  it('a capture of the live account writes the file, and its replay reads the same reservations', async () => {
    const account = buildAccount(SPEC);
    const aws = emulateAccount(account, { instancesOnly: true });
    try {
      const recording = new RecordingSource(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1'));
      const live = await collectInventory(recording, { clusterNames: [], concurrency: 1, now: NOW });
      const written = await writeSnapshot(dir, recording, { region: 'eu-west-1', capturedAt: NOW.toISOString() });
      expect(written).toContain(snapshotPaths.subnetCidrReservations);
      const replay = await collectInventory(await readSnapshot(dir), { clusterNames: [], concurrency: 1, now: NOW });
      const ids = (inv: typeof live) => (inv.clusters[0]?.subnetCidrReservations ?? []).map((r) => r.SubnetCidrReservationId).sort();
      expect(ids(replay)).toEqual(ids(live));
      expect(ids(live)).toHaveLength(3);
    } finally {
      aws.restore();
    }
  });
});
