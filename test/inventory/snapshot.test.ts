import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AwsCallError } from '../../lib/errors';
import { readSnapshot, type SnapshotSource } from '../../lib/inventory/snapshot';
import { SnapshotError } from '../../lib/inventory/snapshot-schemas';
import { PartialReadError, type NetworkInterface, type Subnet } from '../../lib/inventory/types';
import { generateAccount, writeSyntheticSnapshot } from '../../tools/synthetic-account';

const DEMO = path.join(__dirname, '..', '..', 'events', 'demo-snapshot');

async function readJsonFile<T>(dir: string, file: string): Promise<T> {
  return JSON.parse(await fs.readFile(path.join(dir, file), 'utf8')) as T;
}

async function writeJsonFile(dir: string, file: string, body: unknown): Promise<void> {
  await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
  await fs.writeFile(path.join(dir, file), JSON.stringify(body, null, 2));
}

const tmpDirs: string[] = [];
async function tmpDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'snapshot-test-'));
  tmpDirs.push(dir);
  return dir;
}
async function copyOfDemo(): Promise<string> {
  const dir = await tmpDir();
  await fs.cp(DEMO, dir, { recursive: true });
  return dir;
}
afterAll(async () => {
  await Promise.all(tmpDirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});

/** Independent of the generator: parses the dotted quad and prefix length. */
function cidrRange(cidr: string): { first: number; size: number; prefix: number } {
  const [ip, prefix] = cidr.split('/');
  const first = (ip ?? '').split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  return { first, size: 2 ** (32 - Number(prefix)), prefix: Number(prefix) };
}
function ipNumber(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

/** usable − available − what the visible ENIs hold, per subnet (the design's "unaccounted"). */
function unaccountedBySubnet(subnets: Subnet[], enis: NetworkInterface[]): Map<string, number> {
  const heldBy = new Map<string, number>();
  for (const eni of enis) {
    const held = (eni.PrivateIpAddresses?.length ?? 0) + 16 * (eni.Ipv4Prefixes?.length ?? 0);
    heldBy.set(eni.SubnetId ?? '', (heldBy.get(eni.SubnetId ?? '') ?? 0) + held);
  }
  return new Map(
    subnets.map((s) => {
      const usable = cidrRange(s.CidrBlock ?? '').size - 5;
      return [s.SubnetId ?? '', usable - (s.AvailableIpAddressCount ?? 0) - (heldBy.get(s.SubnetId ?? '') ?? 0)];
    }),
  );
}

function tag(tags: { Key?: string; Value?: string }[] | undefined, key: string): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

describe('the demo snapshot', () => {
  let source: SnapshotSource;
  let subnets: Subnet[];
  let enis: NetworkInterface[];
  beforeAll(async () => {
    source = await readSnapshot(DEMO);
    subnets = (await readJsonFile<{ Subnets: Subnet[] }>(DEMO, 'ec2/describe-subnets.json')).Subnets;
    enis = (await readJsonFile<{ NetworkInterfaces: NetworkInterface[] }>(DEMO, 'ec2/describe-network-interfaces.json'))
      .NetworkInterfaces;
  });

  it('loads with its region, capture time and six clusters', async () => {
    expect(source.region).toBe('eu-west-1');
    expect(source.capturedAt).toBe('2026-11-26T10:00:00Z');
    expect(await source.listClusters()).toEqual(['payments-prod', 'batch-dev', 'search-auto', 'events-karpenter', 'ml-ipv6', 'events-consumers']);
  });

  it('describes both clusters, their nodegroups and their vpc-cni add-ons', async () => {
    const payments = await source.describeCluster('payments-prod');
    expect(payments.version).toBe('1.31');
    expect(payments.resourcesVpcConfig?.subnetIds).toHaveLength(4);
    const ngs = await source.describeNodegroups('payments-prod');
    expect(ngs.map((n) => n.nodegroupName)).toEqual(['api-m5l', 'arm-c6g', 'general-m5xl']);
    expect(new Set(ngs.flatMap((n) => n.instanceTypes ?? []))).toEqual(new Set(['m5.large', 'c6g.2xlarge', 'm5.xlarge']));
    const addon = await source.describeVpcCniAddon('payments-prod');
    expect(addon?.addonVersion).toMatch(/^v1\.19\./);
    expect(JSON.parse(addon?.configurationValues ?? '')).toEqual({ env: { WARM_IP_TARGET: '5', MINIMUM_IP_TARGET: '10' } });

    const batchAddon = await source.describeVpcCniAddon('batch-dev');
    expect(JSON.parse(batchAddon?.configurationValues ?? '')).toEqual({
      env: { ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1' },
    });
    expect((await source.describeNodegroups('batch-dev')).flatMap((n) => n.instanceTypes)).toContain('t3.medium');
  });

  it('has 20 to 60 nodes, all of known instance types, from the snapshot file', async () => {
    const instances = [
      ...(await source.describeClusterInstances('payments-prod')),
      ...(await source.describeClusterInstances('batch-dev')),
      // Auto Mode nodes carry eks:eks-cluster-name, not kubernetes.io/cluster/<name> (lib/names.ts).
      ...(await source.describeClusterInstances('search-auto', { autoMode: true })),
      ...(await source.describeClusterInstances('events-karpenter')),
      ...(await source.describeClusterInstances('ml-ipv6')),
    ];
    expect(instances.length).toBeGreaterThanOrEqual(20);
    expect(instances.length).toBeLessThanOrEqual(60);
    const types = [...new Set(instances.map((i) => i.InstanceType ?? ''))];
    const fileTypes = (await readJsonFile<{ InstanceTypes: { InstanceType: string }[] }>(DEMO, 'ec2/describe-instance-types.json'))
      .InstanceTypes.map((t) => t.InstanceType);
    expect(new Set(fileTypes)).toEqual(new Set(types));
    const { found, unknown } = await source.describeInstanceTypes(types);
    expect(unknown).toEqual([]);
    expect(found).toHaveLength(types.length);
  });

  it('keeps AvailableIpAddressCount = usable − held by ENIs in every subnet, but the one shared through RAM', () => {
    const unaccounted = unaccountedBySubnet(subnets, enis);
    const byCidr = new Map(subnets.map((s) => [s.CidrBlock, unaccounted.get(s.SubnetId ?? '')]));
    expect(byCidr.get('10.20.2.0/23')).toBe(12);
    // batch-dev-pods-e: the unused addresses of its reservations (a /25 and a /27) are not available.
    expect(byCidr.get('10.30.36.0/23')).toBe(128 + 32);
    for (const [cidr, n] of byCidr) if (cidr !== '10.20.2.0/23' && cidr !== '10.30.36.0/23') expect([cidr, n]).toEqual([cidr, 0]);
  });

  it('gives every ENI addresses inside its subnet, unique, with aligned /28 prefixes clear of the reserved ones', () => {
    const bySubnet = new Map(subnets.map((s) => [s.SubnetId, cidrRange(s.CidrBlock ?? '')]));
    const seen = new Set<number>();
    for (const eni of enis) {
      const range = bySubnet.get(eni.SubnetId);
      expect(range).toBeDefined();
      if (!range) continue;
      const blocks: Array<[number, number]> = (eni.PrivateIpAddresses ?? []).map((a) => [ipNumber(a.PrivateIpAddress ?? ''), 1]);
      for (const p of eni.Ipv4Prefixes ?? []) {
        const { first, size } = cidrRange(p.Ipv4Prefix ?? '');
        expect(size).toBe(16);
        expect(first % 16).toBe(0);
        blocks.push([first, size]);
      }
      for (const [first, size] of blocks) {
        expect(first).toBeGreaterThanOrEqual(range.first + 4);
        expect(first + size - 1).toBeLessThan(range.first + range.size - 1);
        for (let ip = first; ip < first + size; ip++) {
          expect(seen.has(ip)).toBe(false);
          seen.add(ip);
        }
      }
    }
  });

  it('has one subnet close to exhaustion: the /24 in eu-west-1a with 7 free, and a spare CNI subnet in the same AZ', async () => {
    const low = subnets.filter((s) => (s.AvailableIpAddressCount ?? 0) < 16);
    expect(low.map((s) => [s.CidrBlock, s.AvailabilityZone, s.AvailableIpAddressCount])).toEqual([
      ['10.20.0.0/24', 'eu-west-1a', 7],
      // ml-ipv6: IPv6 pods take none of it; its nodes and Lambda functions share the /27.
      ['10.73.0.0/27', 'eu-west-1a', 10],
    ]);
    const vpcId = (await source.describeCluster('payments-prod')).resourcesVpcConfig?.vpcId ?? '';
    const cni = await source.describeSubnetsByTagKey(vpcId, 'kubernetes.io/role/cni');
    expect(cni.map((s) => [s.AvailabilityZone, s.AvailableIpAddressCount])).toEqual([['eu-west-1a', 8187]]);
  });

  it('has nodes at their ENI limit, nodes with /28 prefixes, control-plane ENIs and ENIs that belong to nothing in EKS', async () => {
    const types = new Map(
      (await source.describeInstanceTypes(['m5.large', 'm5.xlarge', 'c6g.2xlarge', 'r6i.4xlarge', 't3.medium'])).found.map(
        (t) => [t.InstanceType, t.NetworkInfo],
      ),
    );
    const instances = [
      ...(await source.describeClusterInstances('payments-prod')),
      ...(await source.describeClusterInstances('batch-dev')),
    ];
    const atLimit = instances.filter((i) => {
      const mine = enis.filter((e) => e.Attachment?.InstanceId === i.InstanceId);
      const info = types.get(i.InstanceType);
      return (
        mine.length === info?.MaximumNetworkInterfaces &&
        mine.every((e) => (e.PrivateIpAddresses?.length ?? 0) === info.Ipv4AddressesPerInterface)
      );
    });
    expect(atLimit.length).toBeGreaterThanOrEqual(1);
    // One of them outside the exhausted subnet, so the ENI limit shows on its own.
    expect(atLimit.some((i) => i.PrivateIpAddress?.startsWith('10.20.2.'))).toBe(true);
    expect(enis.filter((e) => (e.Ipv4Prefixes?.length ?? 0) > 0).length).toBeGreaterThan(0);
    expect(enis.filter((e) => e.Description === 'Amazon EKS payments-prod' && e.Attachment?.InstanceId === undefined)).toHaveLength(4);
    expect(new Set(enis.map((e) => e.InterfaceType))).toEqual(new Set(['interface', 'nat_gateway', 'vpc_endpoint', 'lambda']));
    expect(enis.some((e) => e.Description?.startsWith('ELB app/'))).toBe(true);
  });

  it("lists every node ENI both on the instance and in describe-network-interfaces, CNI ENIs described aws-K8S-<instance>", async () => {
    const instances = await source.describeClusterInstances('payments-prod');
    const eniById = new Map(enis.map((e) => [e.NetworkInterfaceId, e]));
    for (const instance of instances) {
      expect(tag(instance.Tags, 'eks:cluster-name')).toBe('payments-prod');
      expect(tag(instance.Tags, 'kubernetes.io/cluster/payments-prod')).toBe('owned');
      for (const ni of instance.NetworkInterfaces ?? []) {
        const eni = eniById.get(ni.NetworkInterfaceId);
        expect(eni?.Attachment?.InstanceId).toBe(instance.InstanceId);
        if (ni.Attachment?.DeviceIndex === 0) {
          expect(eni?.Description).toBe('');
          expect(eni?.PrivateIpAddress).toBe(instance.PrivateIpAddress);
        } else {
          expect(eni?.Description).toBe(`aws-K8S-${instance.InstanceId}`);
          expect(tag(eni?.TagSet, 'node.k8s.amazonaws.com/instance_id')).toBe(instance.InstanceId);
        }
      }
    }
  });
});

describe('SnapshotSource filters', () => {
  let source: SnapshotSource;
  let subnets: Subnet[];
  beforeAll(async () => {
    source = await readSnapshot(DEMO);
    subnets = (await readJsonFile<{ Subnets: Subnet[] }>(DEMO, 'ec2/describe-subnets.json')).Subnets;
  });

  it('returns the known subnets by id, in the order asked, leaving out unknown ids', async () => {
    const [a, b] = subnets;
    const got = await source.describeSubnetsById([b?.SubnetId ?? '', 'subnet-0000000000000000', a?.SubnetId ?? '', b?.SubnetId ?? '']);
    expect(got.map((s) => s.SubnetId)).toEqual([b?.SubnetId, a?.SubnetId]);
  });

  it('finds subnets by tag key only in the VPC asked for', async () => {
    const payments = await source.describeCluster('payments-prod');
    const batch = await source.describeCluster('batch-dev');
    // batch-dev's VPC holds its /25 tagged kubernetes.io/role/cni=0 and its /23 tagged 1 (batch-dev-pods-e,
    // with the subnet CIDR reservations), not payments-prod's /19 tagged 1.
    const cni = await source.describeSubnetsByTagKey(batch.resourcesVpcConfig?.vpcId ?? '', 'kubernetes.io/role/cni');
    expect(cni.map((s) => s.CidrBlock).sort()).toEqual(['10.30.34.0/25', '10.30.36.0/23']);
    const elb = await source.describeSubnetsByTagKey(payments.resourcesVpcConfig?.vpcId ?? '', 'kubernetes.io/role/elb');
    expect(elb.map((s) => s.CidrBlock)).toEqual(['10.20.8.0/24']);
    expect(await source.describeSubnetsByTagKey(payments.resourcesVpcConfig?.vpcId ?? '', 'no-such-key')).toEqual([]);
  });

  it('returns the ENIs of the subnets asked for, whoever owns them', async () => {
    const low = subnets.find((s) => s.CidrBlock === '10.20.0.0/24');
    const enis = await source.describeNetworkInterfaces([low?.SubnetId ?? '']);
    expect(enis.length).toBeGreaterThan(0);
    expect(enis.every((e) => e.SubnetId === low?.SubnetId)).toBe(true);
    expect(enis.some((e) => e.InterfaceType === 'lambda')).toBe(true);
    expect(await source.describeNetworkInterfaces(['subnet-unknown'])).toEqual([]);
  });

  it('returns only pending or running instances tagged kubernetes.io/cluster/<name>', async () => {
    const dir = await copyOfDemo();
    const file = 'ec2/describe-instances.json';
    const body = await readJsonFile<{ Reservations: { Instances: Record<string, unknown>[] }[] }>(dir, file);
    const instances = body.Reservations[0]?.Instances ?? [];
    const first = instances[0] as { State: { Name: string }; InstanceId: string };
    first.State = { Name: 'stopped' };
    const second = instances[1] as { State: { Name: string }; InstanceId: string };
    second.State = { Name: 'pending' };
    // A terminated instance has no SubnetId; it must not fail the file.
    instances.push({ InstanceId: 'i-0terminated', InstanceType: 'm5.large', State: { Name: 'terminated' }, Tags: [] });
    await writeJsonFile(dir, file, body);

    const source2 = await readSnapshot(dir);
    const got = await source2.describeClusterInstances('payments-prod');
    const ids = got.map((i) => i.InstanceId);
    expect(ids).not.toContain(first.InstanceId);
    expect(ids).toContain(second.InstanceId);
    expect(got).toHaveLength(19);
    expect(await source2.describeClusterInstances('no-such-cluster')).toEqual([]);
  });

  it('answers instance types from the file first, then the bundled data, and names the unknown', async () => {
    const dir = await copyOfDemo();
    await writeJsonFile(dir, 'ec2/describe-instance-types.json', {
      InstanceTypes: [{ InstanceType: 'm5.large', NetworkInfo: { MaximumNetworkInterfaces: 2, Ipv4AddressesPerInterface: 4 } }],
    });
    const s = await readSnapshot(dir);
    const { found, unknown } = await s.describeInstanceTypes(['m5.large', 'r6i.4xlarge', 'x9.nonexistent', 'm5.large']);
    expect(found.map((t) => [t.InstanceType, t.NetworkInfo?.MaximumNetworkInterfaces])).toEqual([
      ['m5.large', 2],
      ['r6i.4xlarge', 8],
    ]);
    expect(unknown).toEqual(['x9.nonexistent']);

    await fs.rm(path.join(dir, 'ec2/describe-instance-types.json'));
    const bundledOnly = await readSnapshot(dir);
    expect((await bundledOnly.describeInstanceTypes(['m5.large'])).found[0]?.NetworkInfo?.MaximumNetworkInterfaces).toBe(3);
  });

  it('reads an ec2 file that is an array of pages, keeping a repeated resource once', async () => {
    const dir = await copyOfDemo();
    const all = (await readJsonFile<{ Subnets: Subnet[] }>(dir, 'ec2/describe-subnets.json')).Subnets;
    await writeJsonFile(dir, 'ec2/describe-subnets.json', [
      { Subnets: all.slice(0, 3), NextToken: 'abc' },
      { Subnets: all.slice(2) },
    ]);
    const s = await readSnapshot(dir);
    const got = await s.describeSubnetsById(all.map((x) => x.SubnetId ?? ''));
    expect(got.map((x) => x.SubnetId)).toEqual(all.map((x) => x.SubnetId));
  });

  it('answers no nodegroups when the directory is absent, and no add-on when its file is absent', async () => {
    const dir = await copyOfDemo();
    await fs.rm(path.join(dir, 'eks/clusters/batch-dev/nodegroups'), { recursive: true });
    await fs.rm(path.join(dir, 'eks/clusters/batch-dev/addon-vpc-cni.json'));
    const s = await readSnapshot(dir);
    expect(await s.describeNodegroups('batch-dev')).toEqual([]);
    expect(await s.describeVpcCniAddon('batch-dev')).toBeUndefined();
  });

  it('passes fields it does not check through untouched', async () => {
    const cluster = await source.describeCluster('payments-prod');
    expect(cluster.kubernetesNetworkConfig?.serviceIpv4Cidr).toBe('172.20.0.0/16');
    // Dates stay the ISO strings the CLI prints.
    expect(typeof cluster.createdAt).toBe('string');
  });
});

describe('bad snapshots name the file and the field', () => {
  async function rejection(p: Promise<unknown>): Promise<SnapshotError> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SnapshotError);
    return err as SnapshotError;
  }

  it('a missing eks/list-clusters.json fails the whole snapshot', async () => {
    const dir = await copyOfDemo();
    await fs.rm(path.join(dir, 'eks/list-clusters.json'));
    const err = await rejection(readSnapshot(dir));
    expect(err.name).toBe('SnapshotError');
    expect(err.file).toBe('eks/list-clusters.json');
    expect(err.message).toBe('eks/list-clusters.json: file is missing (make it with: aws eks list-clusters)');
  });

  it('a directory that does not exist is an error, not an empty account', async () => {
    const err = await rejection(readSnapshot(path.join(os.tmpdir(), 'no-such-snapshot-dir-xyz')));
    expect(err.message).toContain('no-such-snapshot-dir-xyz');
  });

  it('malformed JSON names the file and keeps the parser error as cause; other files still read', async () => {
    const dir = await copyOfDemo();
    await fs.writeFile(path.join(dir, 'ec2/describe-subnets.json'), '{"Subnets": [ {"SubnetId": ');
    const s = await readSnapshot(dir);
    const err = await rejection(s.describeSubnetsById(['subnet-x']));
    expect(err.message).toMatch(/^ec2\/describe-subnets\.json: malformed JSON: /);
    expect(err.cause).toBeInstanceOf(SyntaxError);
    // The same error for every call that needs subnets...
    expect((await rejection(s.describeSubnetsByTagKey('vpc-x', 'k'))).message).toBe(err.message);
    // ...but ENIs and instances come from other files.
    expect((await s.describeClusterInstances('payments-prod')).length).toBe(20);
  });

  /** The answer in part of a read that met a bad record. */
  async function partial<T>(p: Promise<T>): Promise<PartialReadError<T>> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PartialReadError);
    return err as PartialReadError<T>;
  }

  it('a wrong type in one subnet record spoils only the reads that ask for that subnet', async () => {
    const dir = await copyOfDemo();
    const body = await readJsonFile<{ Subnets: Record<string, unknown>[] }>(dir, 'ec2/describe-subnets.json');
    const bad = body.Subnets[3]?.SubnetId as string;
    const good = body.Subnets[0]?.SubnetId as string;
    (body.Subnets[3] as Record<string, unknown>).AvailableIpAddressCount = '12';
    await writeJsonFile(dir, 'ec2/describe-subnets.json', body);
    const s = await readSnapshot(dir);
    // Asked with another: that one is answered, the bad one is named with the file and the field.
    const err = await partial(s.describeSubnetsById([good, bad]));
    expect(err.message).toBe('ec2/describe-subnets.json: Subnets[3].AvailableIpAddressCount: expected number, received string');
    expect(err.operation).toBe('ec2:DescribeSubnets');
    expect(err.unread).toEqual([bad]);
    expect(err.partial.map((x) => x.SubnetId)).toEqual([good]);
    expect(err.cause).toBeInstanceOf(SnapshotError);
    expect((err.cause as SnapshotError).field).toBe('Subnets[3].AvailableIpAddressCount');
    // A read that does not ask for it does not see it.
    expect((await s.describeSubnetsById([good])).map((x) => x.SubnetId)).toEqual([good]);
    expect(await s.describeSubnetsById([])).toEqual([]);
  });

  it('a subnet record whose id cannot be read spoils every read of a subnet not found', async () => {
    const dir = await copyOfDemo();
    const body = await readJsonFile<{ Subnets: Record<string, unknown>[] }>(dir, 'ec2/describe-subnets.json');
    const lost = body.Subnets[3]?.SubnetId as string;
    const good = body.Subnets[0]?.SubnetId as string;
    delete body.Subnets[3]?.SubnetId;
    await writeJsonFile(dir, 'ec2/describe-subnets.json', body);
    const s = await readSnapshot(dir);
    expect((await s.describeSubnetsById([good])).map((x) => x.SubnetId)).toEqual([good]);
    const err = await partial(s.describeSubnetsById([good, lost]));
    expect(err.unread).toEqual([lost]);
    expect(err.message).toBe('ec2/describe-subnets.json: Subnets[3].SubnetId: expected string, received undefined');
  });

  it('a bad ENI record of a page of an array names the page, and spoils only the reads of its subnet', async () => {
    const dir = await copyOfDemo();
    const body = await readJsonFile<{ NetworkInterfaces: Record<string, unknown>[] }>(dir, 'ec2/describe-network-interfaces.json');
    const eni = body.NetworkInterfaces[1] as { SubnetId: string; PrivateIpAddresses: Record<string, unknown>[] };
    delete eni.PrivateIpAddresses[0]?.Primary;
    const other = (body.NetworkInterfaces as { SubnetId: string }[]).find((e) => e.SubnetId !== eni.SubnetId)?.SubnetId ?? '';
    await writeJsonFile(dir, 'ec2/describe-network-interfaces.json', [{ NetworkInterfaces: [] }, body]);
    const s = await readSnapshot(dir);
    const err = await partial(s.describeNetworkInterfaces([eni.SubnetId]));
    expect(err.message).toBe(
      'ec2/describe-network-interfaces.json: [1].NetworkInterfaces[1].PrivateIpAddresses[0].Primary: expected boolean, received undefined',
    );
    expect(err.unread).toEqual([eni.SubnetId]);
    expect(err.partial.length).toBeGreaterThan(0);
    expect((await s.describeNetworkInterfaces([other])).length).toBeGreaterThan(0);
  });

  it('a page without the structure fails the whole file', async () => {
    const dir = await copyOfDemo();
    await writeJsonFile(dir, 'ec2/describe-network-interfaces.json', [{ NetworkInterfaces: [] }, { NetworkInterfaces: 'none' }]);
    const err = await rejection((await readSnapshot(dir)).describeNetworkInterfaces([]));
    expect(err.message).toBe('ec2/describe-network-interfaces.json: [1].NetworkInterfaces: expected array, received string');
  });

  it('a missing required ec2 file names the file and the CLI command that makes it', async () => {
    const dir = await copyOfDemo();
    await fs.rm(path.join(dir, 'ec2/describe-instances.json'));
    const err = await rejection((await readSnapshot(dir)).describeClusterInstances('payments-prod'));
    expect(err.message).toMatch(/^ec2\/describe-instances\.json: file is missing \(make it with: aws ec2 describe-instances /);
  });

  it('a running instance without a subnet is set aside with its path, for its cluster only', async () => {
    const dir = await copyOfDemo();
    const body = await readJsonFile<{ Reservations: { Instances: Record<string, unknown>[] }[] }>(dir, 'ec2/describe-instances.json');
    const instance = body.Reservations[0]?.Instances[2] as { InstanceId: string; Tags: { Key: string }[] };
    expect(instance.Tags.some((t) => t.Key === 'kubernetes.io/cluster/payments-prod')).toBe(true);
    delete body.Reservations[0]?.Instances[2]?.SubnetId;
    await writeJsonFile(dir, 'ec2/describe-instances.json', body);
    const s = await readSnapshot(dir);
    const err = await partial(s.describeClusterInstances('payments-prod'));
    expect(err.message).toBe(
      'ec2/describe-instances.json: Reservations[0].Instances[2].SubnetId: expected string for a running instance, received undefined',
    );
    expect(err.unread).toEqual([instance.InstanceId]);
    expect(err.partial).toHaveLength(19);
    expect(await s.describeClusterInstances('batch-dev')).toHaveLength(18);
  });

  it('an instance record whose tags cannot be read spoils every cluster\'s instances', async () => {
    const dir = await copyOfDemo();
    const body = await readJsonFile<{ Reservations: { Instances: Record<string, unknown>[] }[] }>(dir, 'ec2/describe-instances.json');
    (body.Reservations[0]?.Instances[0] as Record<string, unknown>).Tags = 'owned';
    await writeJsonFile(dir, 'ec2/describe-instances.json', body);
    const s = await readSnapshot(dir);
    for (const c of ['payments-prod', 'batch-dev']) {
      expect((await partial(s.describeClusterInstances(c))).message).toMatch(/^ec2\/describe-instances\.json: Reservations\[0\]\.Instances\[0\]\.Tags: expected array/);
    }
  });

  it('a cluster listed without describe-cluster.json fails only that cluster', async () => {
    const dir = await copyOfDemo();
    await writeJsonFile(dir, 'eks/list-clusters.json', { clusters: ['payments-prod', 'ghost', 'batch-dev'] });
    const s = await readSnapshot(dir);
    expect(await s.listClusters()).toEqual(['payments-prod', 'ghost', 'batch-dev']);
    const err = await rejection(s.describeCluster('ghost'));
    expect(err.file).toBe('eks/clusters/ghost/describe-cluster.json');
    expect(err.message).toContain('aws eks describe-cluster --name ghost');
    expect((await s.describeCluster('payments-prod')).name).toBe('payments-prod');
    expect(await s.describeNodegroups('ghost')).toEqual([]);
  });

  it('a bad describe-cluster.json fails only that cluster, naming the nested field', async () => {
    const dir = await copyOfDemo();
    const file = 'eks/clusters/batch-dev/describe-cluster.json';
    const body = await readJsonFile<{ cluster: { resourcesVpcConfig: Record<string, unknown> } }>(dir, file);
    body.cluster.resourcesVpcConfig.subnetIds = 'subnet-1,subnet-2';
    await writeJsonFile(dir, file, body);
    const s = await readSnapshot(dir);
    const err = await rejection(s.describeCluster('batch-dev'));
    expect(err.message).toBe(`${file}: cluster.resourcesVpcConfig.subnetIds: expected array, received string`);
    await expect(s.describeCluster('payments-prod')).resolves.toBeDefined();
  });

  it('a describe-cluster.json of another cluster is caught', async () => {
    const dir = await copyOfDemo();
    await fs.copyFile(
      path.join(dir, 'eks/clusters/payments-prod/describe-cluster.json'),
      path.join(dir, 'eks/clusters/batch-dev/describe-cluster.json'),
    );
    const err = await rejection((await readSnapshot(dir)).describeCluster('batch-dev'));
    expect(err.message).toBe(
      'eks/clusters/batch-dev/describe-cluster.json: cluster.name: expected "batch-dev" (the directory name), received "payments-prod"',
    );
  });

  it('a bad nodegroup file names the nodegroup file and the field', async () => {
    const dir = await copyOfDemo();
    const file = 'eks/clusters/batch-dev/nodegroups/spot-mixed.json';
    const body = await readJsonFile<{ nodegroup: { scalingConfig: Record<string, unknown> } }>(dir, file);
    body.nodegroup.scalingConfig.desiredSize = '5';
    await writeJsonFile(dir, file, body);
    const err = await rejection((await readSnapshot(dir)).describeNodegroups('batch-dev'));
    expect(err.message).toBe(`${file}: nodegroup.scalingConfig.desiredSize: expected number, received string`);
  });

  it('a bad add-on file names the field', async () => {
    const dir = await copyOfDemo();
    const file = 'eks/clusters/payments-prod/addon-vpc-cni.json';
    const body = await readJsonFile<{ addon: Record<string, unknown> }>(dir, file);
    body.addon.configurationValues = { env: { WARM_IP_TARGET: '5' } };
    await writeJsonFile(dir, file, body);
    const err = await rejection((await readSnapshot(dir)).describeVpcCniAddon('payments-prod'));
    expect(err.message).toBe(`${file}: addon.configurationValues: expected string, received object`);
  });

  it('a malformed record of describe-instance-types.json is an error for its type, not a silent fallback to the bundled data', async () => {
    const dir = await copyOfDemo();
    await writeJsonFile(dir, 'ec2/describe-instance-types.json', { InstanceTypes: [{ InstanceType: 'm5.large', NetworkInfo: {} }] });
    const s = await readSnapshot(dir);
    const err = await partial(s.describeInstanceTypes(['m5.large', 'm5.xlarge']));
    expect(err.message).toBe(
      'ec2/describe-instance-types.json: InstanceTypes[0].NetworkInfo.MaximumNetworkInterfaces: expected number, received undefined; ' +
        'InstanceTypes[0].NetworkInfo.Ipv4AddressesPerInterface: expected number, received undefined',
    );
    expect(err.unread).toEqual(['m5.large']);
    // m5.xlarge is not in the file: the bundled data answers it.
    expect(err.partial).toEqual({ found: [expect.objectContaining({ InstanceType: 'm5.xlarge' })], unknown: [] });
  });

  it('needs a region from meta.json or the caller, and refuses a contradiction', async () => {
    const dir = await copyOfDemo();
    await expect(readSnapshot(dir, { region: 'us-east-1' })).rejects.toThrow(
      'meta.json: region: the snapshot was captured in eu-west-1, but region us-east-1 was asked for',
    );
    await fs.rm(path.join(dir, 'meta.json'));
    await expect(readSnapshot(dir)).rejects.toThrow(/^meta\.json: region: no region/);
    const s = await readSnapshot(dir, { region: 'eu-west-1' });
    expect(s.region).toBe('eu-west-1');
    expect(s.capturedAt).toBeUndefined();
  });

  it('a cluster name that would leave the snapshot directory is refused', async () => {
    const s = await readSnapshot(DEMO);
    await expect(s.describeCluster('../../etc')).rejects.toBeInstanceOf(SnapshotError);
    const dir = await copyOfDemo();
    await writeJsonFile(dir, 'eks/list-clusters.json', { clusters: ['ok', '../x'] });
    await expect(readSnapshot(dir)).rejects.toThrow('eks/list-clusters.json: clusters[1]: expected an EKS cluster name');
  });
});

describe('synthetic accounts', () => {
  // How long it takes is a figure of `npm run bench` (generate ms), not a test.
  it('makes 5,000 nodes and 15,000 ENIs, with every subnet consistent', () => {
    const account = generateAccount({
      clusters: 10,
      nodes: 5000,
      subnetsPerCluster: 3,
      seed: 42,
      enisPerNode: 4,
      instanceTypes: ['m5.xlarge', 'c6g.2xlarge', 'r6i.4xlarge'],
    });
    expect(account.instances).toHaveLength(5000);
    expect(account.networkInterfaces.length).toBeGreaterThanOrEqual(15000);
    const unaccounted = unaccountedBySubnet(account.subnets, account.networkInterfaces);
    for (const s of account.subnets) {
      const n = unaccounted.get(s.SubnetId ?? '') ?? -1;
      expect(n).toBeGreaterThanOrEqual(0);
      expect(n).toBeLessThanOrEqual(20);
      expect(s.AvailableIpAddressCount).toBeGreaterThan(0);
    }
  });

  it('is deterministic for a seed and different for another', () => {
    const a = generateAccount({ clusters: 2, nodes: 40, subnetsPerCluster: 3, seed: 9 });
    const b = generateAccount({ clusters: 2, nodes: 40, subnetsPerCluster: 3, seed: 9 });
    const c = generateAccount({ clusters: 2, nodes: 40, subnetsPerCluster: 3, seed: 10 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
  });

  it('reads back a large synthetic snapshot through the same source', async () => {
    const account = generateAccount({ clusters: 4, nodes: 2000, subnetsPerCluster: 3, seed: 3 });
    const dir = await tmpDir();
    await writeSyntheticSnapshot(account, dir);
    const s = await readSnapshot(dir);
    const names = await s.listClusters();
    expect(names).toHaveLength(4);
    let nodes = 0;
    for (const name of names) {
      const cluster = await s.describeCluster(name);
      const subnetIds = cluster.resourcesVpcConfig?.subnetIds ?? [];
      expect(await s.describeSubnetsById(subnetIds)).toHaveLength(3);
      const instances = await s.describeClusterInstances(name);
      nodes += instances.length;
      const enis = await s.describeNetworkInterfaces(subnetIds);
      expect(enis.filter((e) => e.Description === `Amazon EKS ${name}`)).toHaveLength(2);
    }
    expect(nodes).toBe(2000);
  });
});

describe('failed-reads.json', () => {
  it('replays a read that failed as the same AWS error, and only that read', async () => {
    const dir = await copyOfDemo();
    await writeJsonFile(dir, 'failed-reads.json', {
      failedReads: [
        {
          call: 'eks:DescribeAddon',
          request: { clusterName: 'batch-dev' },
          error: { operation: 'eks:DescribeAddon', code: 'AccessDeniedException', message: 'eks:DescribeAddon vpc-cni for cluster batch-dev: AccessDeniedException: denied' },
        },
        {
          call: 'ec2:DescribeNetworkInterfaces',
          request: { subnetIds: ['subnet-b', 'subnet-a', 'subnet-a'] },
          error: { code: 'RequestLimitExceeded', message: 'throttled' },
        },
      ],
    });
    const s = await readSnapshot(dir);
    const err = await s.describeVpcCniAddon('batch-dev').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    expect(err).toMatchObject({ operation: 'eks:DescribeAddon', code: 'AccessDeniedException', message: 'eks:DescribeAddon vpc-cni for cluster batch-dev: AccessDeniedException: denied' });
    expect((await s.describeVpcCniAddon('payments-prod'))?.addonName).toBe('vpc-cni');
    // The same request, whatever the order of its ids.
    await expect(s.describeNetworkInterfaces(['subnet-a', 'subnet-b'])).rejects.toMatchObject({ operation: 'ec2:DescribeNetworkInterfaces', code: 'RequestLimitExceeded' });
    await expect(s.describeNetworkInterfaces(['subnet-a'])).resolves.toEqual([]);
  });

  it('replays a read that answered in part with the answer of the files and what it did not read', async () => {
    const dir = await copyOfDemo();
    await writeJsonFile(dir, 'failed-reads.json', {
      failedReads: [{ call: 'ec2:DescribeInstances', request: { clusterName: 'batch-dev' }, error: { message: 'one record bad', code: 'SnapshotError', unread: ['i-0123'] } }],
    });
    const err = await (await readSnapshot(dir)).describeClusterInstances('batch-dev').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartialReadError);
    expect(err).toMatchObject({ operation: 'ec2:DescribeInstances', unread: ['i-0123'], message: 'one record bad', code: 'SnapshotError' });
    expect((err as PartialReadError<unknown[]>).partial).toHaveLength(18);
  });

  it('keeps an instance type EC2 did not know unknown, rather than taking it from the bundled data', async () => {
    const dir = await copyOfDemo();
    await fs.rm(path.join(dir, 'ec2/describe-instance-types.json'));
    await writeJsonFile(dir, 'failed-reads.json', { unknownInstanceTypes: ['m5.large'] });
    const answer = await (await readSnapshot(dir)).describeInstanceTypes(['m5.large', 'm5.xlarge']);
    expect(answer.unknown).toEqual(['m5.large']);
    expect(answer.found.map((t) => t.InstanceType)).toEqual(['m5.xlarge']);
  });

  it('a malformed failed-reads.json fails the whole snapshot, naming the field', async () => {
    const dir = await copyOfDemo();
    await writeJsonFile(dir, 'failed-reads.json', { failedReads: [{ call: 'eks:DescribeAddon', request: {}, error: { message: 'x' } }] });
    await expect(readSnapshot(dir)).rejects.toThrow(/^failed-reads\.json: failedReads\[0\]\.request\.clusterName: /);
  });
});

describe('clusters', () => {
  it('a describe-cluster.json without resourcesVpcConfig.vpcId is read, as the SDK types allow', async () => {
    const dir = await copyOfDemo();
    const file = 'eks/clusters/batch-dev/describe-cluster.json';
    const body = await readJsonFile<{ cluster: { resourcesVpcConfig: Record<string, unknown> } }>(dir, file);
    delete body.cluster.resourcesVpcConfig.vpcId;
    await writeJsonFile(dir, file, body);
    const cluster = await (await readSnapshot(dir)).describeCluster('batch-dev');
    expect(cluster.resourcesVpcConfig?.vpcId).toBeUndefined();
    expect(cluster.resourcesVpcConfig?.subnetIds?.length).toBeGreaterThan(0);
  });

  it('names a cluster the snapshot does not hold as such, not as a missing file', async () => {
    const err = await (await readSnapshot(DEMO)).describeCluster('nosuch').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotError);
    expect((err as Error).message).toBe('eks/list-clusters.json: no cluster "nosuch" in this snapshot (it holds "payments-prod", "batch-dev", "search-auto", "events-karpenter", "ml-ipv6", "events-consumers")');
  });
});
