/**
 * collectInventory over the live source against an emulated account: per-cluster isolation,
 * problems, subnet roles and the add-on's configurationValues.
 */
import type { Filter, Instance, NetworkInterface, Subnet } from '@aws-sdk/client-ec2';
import type { Addon, Cluster, Nodegroup } from '@aws-sdk/client-eks';
import { LiveSource } from '../../lib/aws/live-source';
import { cniInstallOf, collectInventory } from '../../lib/inventory/collect';
import { mapLimit } from '../../lib/map-limit';
import { PartialReadError, type Inventory } from '../../lib/inventory/types';
import { ec2Error, eksError, emulateAccount, type EmulatedAccount } from '../../tools/mock-aws';
import { generateAccount, type SyntheticAccount } from '../../tools/synthetic-account';

const NOW = new Date('2026-11-26T12:00:00Z');
const VPC = 'vpc-0a1b2c3d4e5f60718';
const ids = {
  clusterA: 'subnet-0a00000000000000a', // cluster + nodegroup
  clusterB: 'subnet-0b00000000000000b', // cluster only
  nodeC: 'subnet-0c00000000000000c', // nodegroup only
  podD: 'subnet-0d00000000000000d', // custom networking: only a node's secondary ENI is here
  cniE: 'subnet-0e00000000000000e', // tagged kubernetes.io/role/cni
  devA: 'subnet-0f00000000000000f',
};

function subnet(id: string, az: string, cidr: string, available: number, tags: Record<string, string> = {}): Subnet {
  return {
    SubnetId: id,
    SubnetArn: `arn:aws:ec2:eu-west-1:111122223333:subnet/${id}`,
    VpcId: VPC,
    AvailabilityZone: `eu-west-1${az}`,
    AvailabilityZoneId: `euw1-az${'abc'.indexOf(az) + 1}`,
    CidrBlock: cidr,
    AvailableIpAddressCount: available,
    DefaultForAz: false,
    MapPublicIpOnLaunch: false,
    State: 'available',
    OwnerId: '111122223333',
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  };
}

function eni(id: string, subnetId: string, ip: string, description: string, instanceId?: string): NetworkInterface {
  return {
    NetworkInterfaceId: id,
    SubnetId: subnetId,
    VpcId: VPC,
    AvailabilityZone: 'eu-west-1a',
    Description: description,
    InterfaceType: 'interface',
    Status: 'in-use',
    PrivateIpAddress: ip,
    PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: ip }],
    RequesterManaged: description.startsWith('Amazon EKS'),
    ...(instanceId ? { Attachment: { InstanceId: instanceId, DeviceIndex: 0, Status: 'attached' } } : {}),
  };
}

function cluster(name: string, subnetIds: string[]): Cluster {
  return {
    name,
    arn: `arn:aws:eks:eu-west-1:111122223333:cluster/${name}`,
    version: '1.31',
    status: 'ACTIVE',
    resourcesVpcConfig: { vpcId: VPC, subnetIds, endpointPublicAccess: false, endpointPrivateAccess: true },
    kubernetesNetworkConfig: { ipFamily: 'ipv4', serviceIpv4Cidr: '172.20.0.0/16' },
  };
}

function nodegroup(clusterName: string, name: string, subnets: string[]): Nodegroup {
  return {
    clusterName,
    nodegroupName: name,
    status: 'ACTIVE',
    capacityType: 'ON_DEMAND',
    instanceTypes: ['m5.large'],
    subnets,
    scalingConfig: { minSize: 1, maxSize: 5, desiredSize: 1 },
  };
}

function addon(clusterName: string, configurationValues?: string): Addon {
  return {
    addonName: 'vpc-cni',
    clusterName,
    addonVersion: 'v1.19.2-eksbuild.1',
    status: 'ACTIVE',
    ...(configurationValues === undefined ? {} : { configurationValues }),
  };
}

function node(id: string, clusterName: string, subnetId: string, extraEniSubnets: string[] = [], type = 'm5.large'): Instance {
  return {
    InstanceId: id,
    InstanceType: type as Instance['InstanceType'],
    SubnetId: subnetId,
    VpcId: VPC,
    State: { Code: 16, Name: 'running' },
    Tags: [{ Key: `kubernetes.io/cluster/${clusterName}`, Value: 'owned' }],
    NetworkInterfaces: [
      { NetworkInterfaceId: `eni-p${id.slice(2)}`, SubnetId: subnetId, Attachment: { DeviceIndex: 0, NetworkCardIndex: 0, Status: 'attached' } },
      ...extraEniSubnets.map((s, k) => ({
        NetworkInterfaceId: `eni-s${k}${id.slice(3)}`,
        SubnetId: s,
        Attachment: { DeviceIndex: k + 1, NetworkCardIndex: 0, Status: 'attached' as const },
      })),
    ],
  };
}

const YAML_VALUES = 'env:\n  WARM_IP_TARGET: "5"\n  MINIMUM_IP_TARGET: "10"\n';
const JSON_VALUES = '{"env":{"WARM_IP_TARGET":"5","MINIMUM_IP_TARGET":"10"}}';

/** Two clusters in one VPC: `prod` uses every subnet role, `dev` is plain. */
function account(): SyntheticAccount {
  const m5 = generateAccount({ clusters: 1, nodes: 1, subnetsPerCluster: 1, instanceTypes: ['m5.large'] }).instanceTypes;
  return {
    region: 'eu-west-1',
    accountId: '111122223333',
    capturedAt: '2026-11-26T10:00:00Z',
    clusters: [cluster('prod', [ids.clusterA, ids.clusterB]), cluster('dev', [ids.devA])],
    nodegroups: {
      prod: [nodegroup('prod', 'ng-1', [ids.clusterA, ids.nodeC])],
      dev: [nodegroup('dev', 'ng-dev', [ids.devA])],
    },
    addons: { prod: addon('prod', YAML_VALUES), dev: addon('dev', JSON_VALUES) },
    subnets: [
      subnet(ids.clusterA, 'a', '10.0.0.0/24', 200),
      subnet(ids.clusterB, 'b', '10.0.1.0/24', 240),
      subnet(ids.nodeC, 'c', '10.0.2.0/24', 230),
      subnet(ids.podD, 'a', '100.64.0.0/20', 4000),
      subnet(ids.cniE, 'b', '10.0.3.0/24', 250, { 'kubernetes.io/role/cni': '1' }),
      subnet(ids.devA, 'a', '10.0.9.0/24', 240),
    ],
    networkInterfaces: [
      eni('eni-0000000000000a001', ids.clusterA, '10.0.0.10', 'Amazon EKS prod'),
      eni('eni-0000000000000a002', ids.clusterA, '10.0.0.20', '', 'i-0000000000000a001'),
      eni('eni-0000000000000d001', ids.podD, '100.64.0.10', 'aws-K8S-i-0000000000000a001', 'i-0000000000000a001'),
      eni('eni-0000000000000e001', ids.cniE, '10.0.3.10', 'aws-K8S-i-0000000000000c001', 'i-0000000000000c001'),
      eni('eni-0000000000000f001', ids.devA, '10.0.9.10', '', 'i-0000000000000f001'),
    ],
    instances: [
      node('i-0000000000000a001', 'prod', ids.clusterA, [ids.podD]),
      node('i-0000000000000c001', 'prod', ids.nodeC, [ids.cniE]),
      node('i-0000000000000f001', 'dev', ids.devA),
    ],
    instanceTypes: m5,
  };
}

async function collect(acc: SyntheticAccount, setup?: (aws: EmulatedAccount) => void, clusterNames: string[] = []) {
  const aws = emulateAccount(acc);
  try {
    setup?.(aws);
    const inventory = await collectInventory(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, acc.region), {
      clusterNames,
      concurrency: 4,
      now: NOW,
    });
    return { inventory, calls: { ...aws.calls } };
  } finally {
    aws.restore();
  }
}

const byName = (inv: Inventory, name: string) => {
  const c = inv.clusters.find((x) => x.name === name);
  if (!c) throw new Error(`no cluster ${name} in the inventory`);
  return c;
};

/** Records a copy of each input of an operation (the emulator's fault hook sees every call). */
function recordInputs(aws: EmulatedAccount, op: string): Array<Record<string, unknown>> {
  const seen: Array<Record<string, unknown>> = [];
  aws.faults[op] = (input) => {
    seen.push(structuredClone(input));
    return undefined;
  };
  return seen;
}

describe('collectInventory', () => {
  it('collects every role of subnet, the ENIs in them and the nodes of a complete account', async () => {
    const { inventory } = await collect(account());

    expect(inventory.failedClusters).toEqual([]);
    expect(inventory.collectedAt).toBe('2026-11-26T12:00:00.000Z');
    expect(inventory.unknownInstanceTypes).toEqual([]);
    expect(Object.keys(inventory.instanceTypes)).toEqual(['m5.large']);
    const prod = byName(inventory, 'prod');
    expect(prod.problems).toEqual([]);
    expect(prod.subnetRoles).toEqual({
      [ids.clusterA]: ['cluster', 'node'],
      [ids.clusterB]: ['cluster'],
      [ids.nodeC]: ['node'],
      [ids.podD]: ['node'],
      [ids.cniE]: ['node', 'cni-discovery'],
    });
    expect(prod.subnets.map((s) => s.SubnetId).sort()).toEqual([ids.clusterA, ids.clusterB, ids.nodeC, ids.podD, ids.cniE].sort());
    expect(prod.networkInterfaces.map((e) => e.NetworkInterfaceId).sort()).toEqual([
      'eni-0000000000000a001',
      'eni-0000000000000a002',
      'eni-0000000000000d001',
      'eni-0000000000000e001',
    ]);
    expect(prod.instances).toHaveLength(2);
    // CNI subnet discovery is per VPC: dev, in the same VPC, may place pods in the tagged subnet too.
    expect(byName(inventory, 'dev').subnetRoles).toEqual({ [ids.devA]: ['cluster', 'node'], [ids.cniE]: ['cni-discovery'] });
  });

  it('finds a custom-networking pod subnet only through the nodes ENIs', async () => {
    const { inventory } = await collect(account());
    const prod = byName(inventory, 'prod');

    // podD is in no cluster or nodegroup subnet list: only Instance.NetworkInterfaces[].SubnetId names it.
    expect(prod.cluster.resourcesVpcConfig?.subnetIds).not.toContain(ids.podD);
    expect(prod.nodegroups.flatMap((n) => n.subnets ?? [])).not.toContain(ids.podD);
    expect(prod.subnetRoles[ids.podD]).toEqual(['node']);
    expect(prod.subnets.find((s) => s.SubnetId === ids.podD)?.CidrBlock).toBe('100.64.0.0/20');
    expect(prod.networkInterfaces.some((e) => e.SubnetId === ids.podD)).toBe(true);
  });

  it('does not describe CNI-discovery subnets a second time by id', async () => {
    let describeSubnets: Array<Record<string, unknown>> = [];
    const { inventory } = await collect(account(), (aws) => {
      describeSubnets = recordInputs(aws, 'DescribeSubnets');
    }, ['prod']);

    expect(byName(inventory, 'prod').subnetRoles[ids.cniE]).toContain('cni-discovery');
    const byId = describeSubnets
      .map((i) => (i.Filters as Filter[]).find((f) => f.Name === 'subnet-id')?.Values)
      .filter((v): v is string[] => v !== undefined);
    expect(byId).toHaveLength(1);
    expect(byId[0]).not.toContain(ids.cniE);
    expect(byId[0]?.sort()).toEqual([ids.clusterA, ids.clusterB, ids.nodeC, ids.podD].sort());
  });

  it('does not call ListClusters when cluster names are given', async () => {
    const { inventory, calls } = await collect(account(), undefined, ['dev']);

    expect(calls['ListClusters']).toBeUndefined();
    expect(inventory.clusters.map((c) => c.name)).toEqual(['dev']);
  });

  it('reports a listed cluster whose DescribeCluster answers ResourceNotFound as failed, and collects the rest', async () => {
    const acc = account();
    acc.clusters.push(cluster('deleted', [ids.devA]));
    const { inventory } = await collect(acc, (aws) => {
      // Deleted between ListClusters and DescribeCluster.
      aws.faults['DescribeCluster'] = (input) =>
        input['name'] === 'deleted' ? eksError('ResourceNotFoundException', 'No cluster found for name: deleted.') : undefined;
    });

    expect(inventory.failedClusters).toEqual([
      {
        name: 'deleted',
        problem: expect.objectContaining({ source: 'eks:DescribeCluster', code: 'ResourceNotFoundException' }),
      },
    ]);
    expect(inventory.failedClusters[0]?.problem.message).toContain('deleted');
    expect(inventory.clusters.map((c) => c.name).sort()).toEqual(['dev', 'prod']);
    expect(inventory.clusters.every((c) => c.problems.length === 0)).toBe(true);
  });

  it('parses configurationValues in YAML and in JSON to the same document', async () => {
    const { inventory } = await collect(account());
    const prod = byName(inventory, 'prod').cni;
    const dev = byName(inventory, 'dev').cni;

    expect(prod.kind).toBe('managed');
    expect(dev.kind).toBe('managed');
    if (prod.kind !== 'managed' || dev.kind !== 'managed') return;
    expect(prod.configurationValues).toEqual({ env: { WARM_IP_TARGET: '5', MINIMUM_IP_TARGET: '10' } });
    expect(dev.configurationValues).toEqual(prod.configurationValues);
  });

  it('marks the CNI unknown and records a problem naming the cluster for malformed configurationValues', async () => {
    const acc = account();
    acc.addons['prod'] = addon('prod', '{"env": {"WARM_IP_TARGET": "5"');
    const { inventory } = await collect(acc);
    const prod = byName(inventory, 'prod');

    expect(prod.cni.kind).toBe('unknown');
    expect(prod.problems).toEqual([expect.objectContaining({ source: 'eks:DescribeAddon', message: expect.stringContaining('cluster prod') })]);
    expect(byName(inventory, 'dev').problems).toEqual([]);
  });

  it.each([
    ['a YAML list', '- WARM_IP_TARGET: "5"'],
    ['a bare string', 'WARM_IP_TARGET'],
  ])('treats configurationValues that are %s as unknown', (_what, values) => {
    const cni = cniInstallOf('prod', addon('prod', values));
    expect(cni).toEqual({ kind: 'unknown', reason: expect.stringContaining('cluster prod') });
  });

  it('treats a missing add-on as self-managed and empty configurationValues as an empty document', () => {
    expect(cniInstallOf('prod', undefined)).toEqual({ kind: 'self-managed' });
    expect(cniInstallOf('prod', addon('prod', '  '))).toMatchObject({ kind: 'managed', configurationValues: {} });
    // A YAML null document is no configuration, as the add-on executor reads it (lib/aws/addon.ts).
    expect(cniInstallOf('prod', addon('prod', 'null'))).toMatchObject({ kind: 'managed', configurationValues: {} });
  });

  it('records a problem naming a nodegroup subnet that DescribeSubnets does not return', async () => {
    const acc = account();
    acc.nodegroups['prod'] = [nodegroup('prod', 'ng-1', [ids.clusterA, ids.nodeC, 'subnet-0deadbeefdeadbeef0'])];
    const { inventory } = await collect(acc);
    const prod = byName(inventory, 'prod');

    expect(prod.problems).toEqual([
      expect.objectContaining({ source: 'ec2:DescribeSubnets', message: expect.stringContaining('subnet-0deadbeefdeadbeef0') }),
    ]);
    // The subnets that exist are still collected, with their ENIs.
    expect(prod.subnets.map((s) => s.SubnetId)).toContain(ids.nodeC);
    expect(prod.networkInterfaces.length).toBeGreaterThan(0);
  });

  it('marks every cluster with nodes incomplete when DescribeInstanceTypes fails', async () => {
    const acc = account();
    acc.clusters.push(cluster('empty', [ids.devA]));
    acc.nodegroups['empty'] = [];
    const { inventory } = await collect(acc, (aws) => {
      aws.faults['DescribeInstanceTypes'] = () => ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.');
    });

    for (const name of ['prod', 'dev']) {
      expect(byName(inventory, name).problems).toEqual([
        expect.objectContaining({ source: 'ec2:DescribeInstanceTypes', code: 'UnauthorizedOperation' }),
      ]);
    }
    expect(byName(inventory, 'empty').instances).toEqual([]);
    expect(byName(inventory, 'empty').problems).toEqual([]);
    expect(inventory.instanceTypes).toEqual({});
  });

  it('collects a cluster without its ENIs when DescribeNetworkInterfaces is denied halfway through its pages, and the other clusters in full', async () => {
    // Three clusters of about 500 nodes each.
    const acc = generateAccount({ clusters: 3, nodes: 1500, subnetsPerCluster: 3, seed: 7 });
    const enisOf = (c: Cluster) => {
      const subnets = new Set(c.resourcesVpcConfig?.subnetIds ?? []);
      return acc.networkInterfaces.filter((e) => subnets.has(e.SubnetId ?? '')).length;
    };
    // The first cluster is in secondary-IP mode: several ENIs per node, more than one page of them.
    const target = acc.clusters[0];
    expect(target && enisOf(target)).toBeGreaterThan(1000);
    const targetSubnets = new Set(target?.resourcesVpcConfig?.subnetIds ?? []);
    let pagesServed = 0;
    let denied = 0;
    const { inventory } = await collect(acc, (aws) => {
      aws.faults['DescribeNetworkInterfaces'] = (input) => {
        const values = (input['Filters'] as Filter[]).find((f) => f.Name === 'subnet-id')?.Values ?? [];
        if (!values.some((v) => targetSubnets.has(v))) return undefined;
        if (input['NextToken'] === undefined) {
          pagesServed++;
          return undefined;
        }
        denied++;
        return ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.');
      };
    });

    expect(pagesServed).toBe(1);
    expect(denied).toBe(1);
    const failed = byName(inventory, target?.name ?? '');
    expect(failed.problems).toEqual([
      expect.objectContaining({ source: 'ec2:DescribeNetworkInterfaces', code: 'UnauthorizedOperation' }),
    ]);
    // Page 1 is not kept: half a subnet's ENIs would understate what it holds.
    expect(failed.networkInterfaces).toEqual([]);
    expect(failed.subnets.length).toBeGreaterThan(0);
    expect(inventory.failedClusters).toEqual([]);
    for (const c of inventory.clusters.filter((x) => x.name !== target?.name)) {
      expect(c.problems).toEqual([]);
      const subnets = new Set(c.subnets.map((s) => s.SubnetId));
      const expected = acc.networkInterfaces.filter((e) => subnets.has(e.SubnetId)).length;
      expect(c.networkInterfaces).toHaveLength(expected);
    }
  });
});

describe('collectInventory on reads that fail', () => {
  it('takes the VPC from the cluster subnets when DescribeCluster gives none, and discovers the CNI subnets in it', async () => {
    const acc = account();
    delete acc.clusters[0]!.resourcesVpcConfig!.vpcId;
    const { inventory } = await collect(acc, undefined, ['prod']);
    const prod = byName(inventory, 'prod');

    expect(prod.cluster.resourcesVpcConfig?.vpcId).toBe(VPC);
    expect(prod.subnetRoles[ids.cniE]).toEqual(['node', 'cni-discovery']);
    // Still a problem (live and in replay): DescribeCluster's answer lacked it; nothing is unknown.
    expect(prod.problems).toEqual([
      { source: 'eks:DescribeCluster', message: `cluster prod: DescribeCluster gave no resourcesVpcConfig.vpcId; the VPC ${VPC} is taken from the cluster subnets` },
    ]);
    // The account's answer is not changed.
    expect(acc.clusters[0]!.resourcesVpcConfig!.vpcId).toBeUndefined();
  });

  it('without a VPC in DescribeCluster or in its subnets, says the CNI subnets are unknown', async () => {
    const acc = account();
    delete acc.clusters[0]!.resourcesVpcConfig!.vpcId;
    const { inventory } = await collect(acc, (aws) => {
      aws.faults['DescribeSubnets'] = () => ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.');
    }, ['prod']);
    const prod = byName(inventory, 'prod');
    expect(prod.problems.map((p) => p.unread)).toEqual([
      { part: 'subnets', ids: [ids.clusterA, ids.clusterB, ids.nodeC, ids.podD, ids.cniE] },
      { part: 'cni-discovery' },
    ]);
  });

  it('still reads the ENIs of subnets DescribeSubnets could not describe: the nodes rest on the ENIs, not on the subnets', async () => {
    const { inventory } = await collect(account(), (aws) => {
      aws.faults['DescribeSubnets'] = (input) =>
        (input['Filters'] as Filter[]).some((f) => f.Name === 'subnet-id') ? ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.') : undefined;
    }, ['prod']);
    const prod = byName(inventory, 'prod');
    expect(prod.problems).toEqual([
      expect.objectContaining({ source: 'ec2:DescribeSubnets', code: 'UnauthorizedOperation', unread: { part: 'subnets', ids: [ids.clusterA, ids.clusterB, ids.nodeC, ids.podD] } }),
    ]);
    // The discovered subnet came with its record; the others are unread, but their ENIs are read.
    expect(prod.subnets.map((s) => s.SubnetId)).toEqual([ids.cniE]);
    expect(prod.networkInterfaces).toHaveLength(4);
  });

  it('keeps what a read answered in part, and names what it did not read', async () => {
    const acc = account();
    const aws = emulateAccount(acc);
    try {
      const live = new LiveSource({ ec2: aws.ec2, eks: aws.eks }, acc.region);
      const source = Object.assign(Object.create(live) as LiveSource, {
        describeSubnetsById: async (subnetIds: string[]) => {
          const all = await live.describeSubnetsById(subnetIds);
          throw new PartialReadError('ec2:DescribeSubnets', all.filter((s) => s.SubnetId !== ids.nodeC), [ids.nodeC], 'one record is bad', 'SnapshotError');
        },
      });
      const inventory = await collectInventory(source, { clusterNames: ['prod'], concurrency: 1, now: NOW });
      const prod = byName(inventory, 'prod');
      expect(prod.subnets.map((s) => s.SubnetId).sort()).toEqual([ids.clusterA, ids.clusterB, ids.podD, ids.cniE].sort());
      // Named once, as unread, not a second time as "not returned".
      expect(prod.problems).toEqual([{ source: 'ec2:DescribeSubnets', message: 'one record is bad', code: 'SnapshotError', unread: { part: 'subnets', ids: [ids.nodeC] } }]);
    } finally {
      aws.restore();
    }
  });

  it('puts a DescribeInstanceTypes failure in part only on the clusters with nodes of the unread types', async () => {
    const acc = account();
    acc.instances[2]!.InstanceType = 'm5.xlarge' as Instance['InstanceType'];
    const aws = emulateAccount(acc);
    try {
      const live = new LiveSource({ ec2: aws.ec2, eks: aws.eks }, acc.region);
      const source = Object.assign(Object.create(live) as LiveSource, {
        describeInstanceTypes: async () => {
          throw new PartialReadError('ec2:DescribeInstanceTypes', { found: [], unknown: [] }, ['m5.xlarge'], 'bad record', 'SnapshotError');
        },
      });
      const inventory = await collectInventory(source, { clusterNames: [], concurrency: 1, now: NOW });
      expect(byName(inventory, 'prod').problems).toEqual([]);
      expect(byName(inventory, 'dev').problems).toEqual([expect.objectContaining({ unread: { part: 'instance-types', ids: ['m5.xlarge'] } })]);
    } finally {
      aws.restore();
    }
  });
});

describe('mapLimit', () => {
  it('keeps order and runs at most `limit` at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });
});
