/**
 * LiveSource against aws-sdk-client-mock: pagination, filter chunking, the DescribeInstanceTypes
 * special cases and failures. Answers are in the shapes the EC2 and EKS APIs return.
 */
import {
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  EC2Client,
  type DescribeInstanceTypesCommandInput,
  type Filter,
  type Instance,
  type InstanceTypeInfo,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import {
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  EKSClient,
  ListClustersCommand,
  ListNodegroupsCommand,
} from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { LiveSource, parseUnknownInstanceTypes } from '../../lib/aws/live-source';
import { AwsCallError } from '../../lib/errors';
import { ec2Error, eksError } from '../../tools/mock-aws';

const ec2Mock = mockClient(EC2Client);
const eksMock = mockClient(EKSClient);

function source(): LiveSource {
  return new LiveSource({ ec2: new EC2Client({}), eks: new EKSClient({}) }, 'eu-west-1');
}

beforeEach(() => {
  ec2Mock.reset();
  eksMock.reset();
});
afterAll(() => {
  ec2Mock.restore();
  eksMock.restore();
});

/** A pod ENI as DescribeNetworkInterfaces returns it. */
function eni(n: number, subnetId: string): NetworkInterface {
  const ip = `10.0.${Math.floor(n / 250)}.${(n % 250) + 4}`;
  return {
    AvailabilityZone: 'eu-west-1a',
    Description: 'aws-K8S-i-0123456789abcdef0',
    InterfaceType: 'interface',
    MacAddress: '0a:1b:2c:3d:4e:5f',
    NetworkInterfaceId: `eni-${n.toString(16).padStart(17, '0')}`,
    OwnerId: '111122223333',
    PrivateIpAddress: ip,
    PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: ip }],
    RequesterManaged: false,
    SourceDestCheck: true,
    Status: 'in-use',
    SubnetId: subnetId,
    VpcId: 'vpc-0a1b2c3d4e5f60718',
    Attachment: { AttachmentId: `eni-attach-${n}`, DeviceIndex: 1, InstanceId: 'i-0123456789abcdef0', Status: 'attached' },
  };
}

/** A node as DescribeInstances returns it. */
function instance(n: number): Instance {
  return {
    InstanceId: `i-${n.toString(16).padStart(17, '0')}`,
    InstanceType: 'm5.large',
    SubnetId: 'subnet-0aaaaaaaaaaaaaaa1',
    VpcId: 'vpc-0a1b2c3d4e5f60718',
    State: { Code: 16, Name: 'running' },
    PrivateIpAddress: `10.0.1.${n + 10}`,
    Tags: [{ Key: 'kubernetes.io/cluster/prod', Value: 'owned' }],
    NetworkInterfaces: [
      {
        NetworkInterfaceId: `eni-${(1000 + n).toString(16).padStart(17, '0')}`,
        SubnetId: 'subnet-0aaaaaaaaaaaaaaa1',
        Attachment: { DeviceIndex: 0, Status: 'attached', NetworkCardIndex: 0 },
      },
    ],
  };
}

function typeInfo(name: string): InstanceTypeInfo {
  return {
    InstanceType: name as InstanceTypeInfo['InstanceType'],
    CurrentGeneration: true,
    NetworkInfo: { MaximumNetworkInterfaces: 3, Ipv4AddressesPerInterface: 10, DefaultNetworkCardIndex: 0 },
  };
}

/**
 * Answers with `responses` in turn and records a copy of each input as sent: the SDK's paginators
 * reuse one input object and set NextToken on it, so `commandCalls` shows only its last state.
 */
function pages<O>(responses: O[]): { fake: (input: object) => O; inputs: unknown[] } {
  const inputs: unknown[] = [];
  return {
    inputs,
    fake: (input: object) => {
      inputs.push(structuredClone(input));
      const r = responses[inputs.length - 1];
      if (r === undefined) throw new Error(`unexpected request ${inputs.length}`);
      return r;
    },
  };
}

const filterValues = (filters: Filter[] | undefined, name: string): string[] =>
  filters?.find((f) => f.Name === name)?.Values ?? [];

describe('EKS reads', () => {
  it('follows ListClusters nextToken over three pages, asking 100 per page', async () => {
    const p = pages([
      { clusters: ['a', 'b'], nextToken: 't1' },
      { clusters: ['c'], nextToken: 't2' },
      { clusters: ['d'] },
    ]);
    eksMock.on(ListClustersCommand).callsFake(p.fake);

    await expect(source().listClusters()).resolves.toEqual(['a', 'b', 'c', 'd']);

    expect(p.inputs).toEqual([
      { maxResults: 100 },
      { maxResults: 100, nextToken: 't1' },
      { maxResults: 100, nextToken: 't2' },
    ]);
  });

  it('lists nodegroups over pages of 100 and describes each one', async () => {
    const p = pages([{ nodegroups: ['ng-1'], nextToken: 'n1' }, { nodegroups: ['ng-2'] }]);
    eksMock.on(ListNodegroupsCommand).callsFake(p.fake);
    eksMock.on(DescribeNodegroupCommand).callsFake((input: { clusterName?: string; nodegroupName?: string }) => ({
      nodegroup: { clusterName: input.clusterName, nodegroupName: input.nodegroupName, status: 'ACTIVE', subnets: ['subnet-1'] },
    }));

    const ngs = await source().describeNodegroups('prod');

    expect(ngs.map((n) => n.nodegroupName)).toEqual(['ng-1', 'ng-2']);
    expect(p.inputs).toEqual([
      { clusterName: 'prod', maxResults: 100 },
      { clusterName: 'prod', maxResults: 100, nextToken: 'n1' },
    ]);
    expect(eksMock.commandCalls(DescribeNodegroupCommand)).toHaveLength(2);
  });

  it('answers undefined when the vpc-cni add-on is not installed (self-managed aws-node)', async () => {
    eksMock
      .on(DescribeAddonCommand)
      .rejects(eksError('ResourceNotFoundException', 'No addon: vpc-cni found in cluster: prod'));

    await expect(source().describeVpcCniAddon('prod')).resolves.toBeUndefined();
    expect(eksMock.commandCalls(DescribeAddonCommand)[0]?.args[0].input).toEqual({ clusterName: 'prod', addonName: 'vpc-cni' });
  });

  it('turns an AccessDeniedException on DescribeAddon into an AwsCallError naming the operation and the cluster', async () => {
    const denied = eksError('AccessDeniedException', 'User: arn:aws:sts::111122223333:assumed-role/responder is not authorized to perform: eks:DescribeAddon');
    eksMock.on(DescribeAddonCommand).rejects(denied);

    const err = await source().describeVpcCniAddon('prod').catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AwsCallError);
    const e = err as AwsCallError;
    expect(e.operation).toBe('eks:DescribeAddon');
    expect(e.code).toBe('AccessDeniedException');
    expect(e.message).toContain('eks:DescribeAddon');
    expect(e.message).toContain('cluster prod');
    expect(e.message).toContain('AccessDeniedException');
    expect(e.cause).toBe(denied);
  });

  it('turns a DescribeCluster ResourceNotFoundException into an AwsCallError with that code', async () => {
    eksMock.on(DescribeClusterCommand).rejects(eksError('ResourceNotFoundException', 'No cluster found for name: gone.'));

    await expect(source().describeCluster('gone')).rejects.toMatchObject({
      name: 'AwsCallError',
      operation: 'eks:DescribeCluster',
      code: 'ResourceNotFoundException',
      message: expect.stringContaining('cluster gone'),
    });
  });
});

describe('EC2 describes by subnet', () => {
  it('follows DescribeNetworkInterfaces NextToken over three pages with MaxResults 1000', async () => {
    const subnet = 'subnet-0aaaaaaaaaaaaaaa1';
    const all = Array.from({ length: 2300 }, (_, i) => eni(i, subnet));
    const p = pages([
      { NetworkInterfaces: all.slice(0, 1000), NextToken: 'p2' },
      { NetworkInterfaces: all.slice(1000, 2000), NextToken: 'p3' },
      { NetworkInterfaces: all.slice(2000) },
    ]);
    ec2Mock.on(DescribeNetworkInterfacesCommand).callsFake(p.fake);

    const got = await source().describeNetworkInterfaces([subnet]);

    expect(got).toHaveLength(2300);
    expect(got.map((e) => e.NetworkInterfaceId)).toEqual(all.map((e) => e.NetworkInterfaceId));
    expect(p.inputs).toEqual([
      { Filters: [{ Name: 'subnet-id', Values: [subnet] }], MaxResults: 1000 },
      { Filters: [{ Name: 'subnet-id', Values: [subnet] }], MaxResults: 1000, NextToken: 'p2' },
      { Filters: [{ Name: 'subnet-id', Values: [subnet] }], MaxResults: 1000, NextToken: 'p3' },
    ]);
  });

  it('asks for 450 subnets in three requests of at most 200 filter values, each id once', async () => {
    const unique = Array.from({ length: 450 }, (_, i) => `subnet-${i.toString(16).padStart(17, '0')}`);
    const withDuplicates = [...unique, ...unique.slice(0, 50)];
    ec2Mock.on(DescribeNetworkInterfacesCommand).callsFake((input: { Filters?: Filter[] }) => ({
      NetworkInterfaces: filterValues(input.Filters, 'subnet-id').map((id, i) => eni(i, id)),
    }));

    const got = await source().describeNetworkInterfaces(withDuplicates);

    const sent = ec2Mock.commandCalls(DescribeNetworkInterfacesCommand).map((c) => filterValues(c.args[0].input.Filters, 'subnet-id'));
    expect(sent.map((v) => v.length)).toEqual([200, 200, 50]);
    expect(sent.flat().sort()).toEqual([...unique].sort());
    expect(got).toHaveLength(450);
  });

  it('reads a large cluster\'s subnets in lanes side by side, and gives the same ENIs as one filter', async () => {
    // 8 subnets of 1,200 ENIs (2 pages each): 9,600 ENIs, 10 pages in one filter, in a row.
    const subnets = Array.from({ length: 8 }, (_, i) => `subnet-${String(i).padStart(17, '0')}`);
    const all = subnets.flatMap((id, s) => Array.from({ length: 1200 }, (_, n) => eni(s * 1200 + n, id)));
    let inFlight = 0;
    let most = 0;
    ec2Mock.on(DescribeNetworkInterfacesCommand).callsFake(async (input: { Filters?: Filter[]; NextToken?: string; MaxResults?: number }) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      const wanted = new Set(filterValues(input.Filters, 'subnet-id'));
      const matching = all.filter((e) => wanted.has(e.SubnetId ?? ''));
      const from = Number(input.NextToken ?? 0);
      const to = from + (input.MaxResults ?? 1000);
      return { NetworkInterfaces: matching.slice(from, to), ...(to < matching.length ? { NextToken: String(to) } : {}) };
    });
    const expected = new Map(subnets.map((id) => [id, 1200]));

    const laned = await source().describeNetworkInterfaces(subnets, { enisExpected: expected });
    const lanedCalls = ec2Mock.commandCalls(DescribeNetworkInterfacesCommand).map((c) => filterValues(c.args[0].input.Filters, 'subnet-id'));
    const mostLaned = most;
    ec2Mock.resetHistory();
    most = 0;
    const single = await source().describeNetworkInterfaces(subnets);

    expect(mostLaned).toBe(4);
    expect(most).toBe(1);
    expect(new Set(lanedCalls.map((v) => v.join())).size).toBe(4);
    // Each subnet in one filter only, and no page more than 4 filters need (2 subnets x 1,200 = 3 pages each).
    expect(lanedCalls.filter((v, i, a) => a.findIndex((w) => w.join() === v.join()) === i).flat().sort()).toEqual(subnets);
    expect(lanedCalls).toHaveLength(12);
    expect(ec2Mock.commandCalls(DescribeNetworkInterfacesCommand)).toHaveLength(10);
    const ids = (enis: NetworkInterface[]) => enis.map((e) => e.NetworkInterfaceId).sort();
    expect(ids(laned)).toEqual(ids(single));
    expect(laned).toHaveLength(9600);
  });

  it('keeps a small cluster\'s read in one filter, whatever its subnets\' addresses say', async () => {
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: [] });
    await source().describeNetworkInterfaces(['subnet-1', 'subnet-2', 'subnet-3'], { enisExpected: new Map([['subnet-1', 600], ['subnet-2', 600], ['subnet-3', 600]]) });
    expect(ec2Mock.commandCalls(DescribeNetworkInterfacesCommand)).toHaveLength(1);
  });

  it('makes no call for no subnets', async () => {
    const s = source();
    await expect(s.describeNetworkInterfaces([])).resolves.toEqual([]);
    await expect(s.describeSubnetsById([])).resolves.toEqual([]);
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it('describes subnets by a subnet-id filter, not SubnetIds (an unknown id must not fail the request)', async () => {
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [{ SubnetId: 'subnet-1', VpcId: 'vpc-1', AvailableIpAddressCount: 12 }] });

    const got = await source().describeSubnetsById(['subnet-1', 'subnet-gone']);

    expect(got.map((s) => s.SubnetId)).toEqual(['subnet-1']);
    const input = ec2Mock.commandCalls(DescribeSubnetsCommand)[0]?.args[0].input;
    expect(input).toEqual({ Filters: [{ Name: 'subnet-id', Values: ['subnet-1', 'subnet-gone'] }], MaxResults: 1000 });
  });

  it('finds CNI-discovery subnets by vpc-id and tag-key', async () => {
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [] });

    await source().describeSubnetsByTagKey('vpc-1', 'kubernetes.io/role/cni');

    expect(ec2Mock.commandCalls(DescribeSubnetsCommand)[0]?.args[0].input).toEqual({
      Filters: [
        { Name: 'vpc-id', Values: ['vpc-1'] },
        { Name: 'tag-key', Values: ['kubernetes.io/role/cni'] },
      ],
      MaxResults: 1000,
    });
  });

  it('fails with an AwsCallError when page 2 is denied after page 1 answered, keeping the cause', async () => {
    const denied = ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.');
    ec2Mock
      .on(DescribeNetworkInterfacesCommand)
      .resolvesOnce({ NetworkInterfaces: [eni(1, 'subnet-1')], NextToken: 'p2' })
      .rejectsOnce(denied);

    const err = await source().describeNetworkInterfaces(['subnet-1']).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AwsCallError);
    expect(err).toMatchObject({ operation: 'ec2:DescribeNetworkInterfaces', code: 'UnauthorizedOperation', cause: denied });
    expect((err as Error).message).toMatch(/^ec2:DescribeNetworkInterfaces for 1 subnet\(s\): UnauthorizedOperation: /);
    expect(ec2Mock.commandCalls(DescribeNetworkInterfacesCommand)).toHaveLength(2);
  });
});

describe('describeClusterInstances', () => {
  it('follows NextToken over three pages and flattens reservations of several instances', async () => {
    const nodes = Array.from({ length: 7 }, (_, i) => instance(i));
    const reservation = (id: string, items: Instance[]) => ({ ReservationId: id, OwnerId: '111122223333', Instances: items });
    const p = pages([
      { Reservations: [reservation('r-1', nodes.slice(0, 3)), reservation('r-2', nodes.slice(3, 4))], NextToken: 'p2' },
      { Reservations: [reservation('r-3', nodes.slice(4, 6))], NextToken: 'p3' },
      { Reservations: [reservation('r-4', nodes.slice(6)), { ReservationId: 'r-5' }] },
    ]);
    ec2Mock.on(DescribeInstancesCommand).callsFake(p.fake);

    const got = await source().describeClusterInstances('prod');

    expect(got.map((i) => i.InstanceId)).toEqual(nodes.map((i) => i.InstanceId));
    const filters = [
      { Name: 'tag-key', Values: ['kubernetes.io/cluster/prod'] },
      { Name: 'instance-state-name', Values: ['pending', 'running'] },
    ];
    expect(p.inputs).toEqual([
      { Filters: filters, MaxResults: 1000 },
      { Filters: filters, MaxResults: 1000, NextToken: 'p2' },
      { Filters: filters, MaxResults: 1000, NextToken: 'p3' },
    ]);
  });
});

describe('describeInstanceTypes', () => {
  /** Answers like EC2: InvalidInstanceType naming every unknown type, else the types asked for. */
  function answerTypes(known: Set<string>) {
    ec2Mock.on(DescribeInstanceTypesCommand).callsFake((input: DescribeInstanceTypesCommandInput) => {
      const asked = (input.InstanceTypes ?? []) as string[];
      const unknown = asked.filter((t) => !known.has(t));
      if (unknown.length > 0) {
        throw ec2Error('InvalidInstanceType', `The following supplied instance types do not exist: [${unknown.join(', ')}]`);
      }
      return { InstanceTypes: asked.map(typeInfo) };
    });
  }
  const asked = () => ec2Mock.commandCalls(DescribeInstanceTypesCommand).map((c) => (c.args[0].input.InstanceTypes ?? []) as string[]);

  it('asks for 230 types in three requests of at most 100', async () => {
    const types = Array.from({ length: 230 }, (_, i) => `m${i}.large`);
    answerTypes(new Set(types));

    const { found, unknown } = await source().describeInstanceTypes(types);

    expect(asked().map((a) => a.length)).toEqual([100, 100, 30]);
    expect(found).toHaveLength(230);
    expect(unknown).toEqual([]);
    expect(ec2Mock.commandCalls(DescribeInstanceTypesCommand)[0]?.args[0].input.MaxResults).toBe(100);
  });

  it('asks again without the types an InvalidInstanceType error names, and returns them as unknown', async () => {
    answerTypes(new Set(['m5.large', 'c6g.2xlarge']));

    const { found, unknown } = await source().describeInstanceTypes(['m5.large', 'x9.huge', 'c6g.2xlarge', 'y1.tiny']);

    expect(found.map((t) => t.InstanceType).sort()).toEqual(['c6g.2xlarge', 'm5.large']);
    expect(unknown.sort()).toEqual(['x9.huge', 'y1.tiny']);
    expect(asked()).toEqual([
      ['m5.large', 'x9.huge', 'c6g.2xlarge', 'y1.tiny'],
      ['m5.large', 'c6g.2xlarge'],
    ]);
  });

  it('asks nothing for types it has already seen, known or unknown', async () => {
    answerTypes(new Set(['m5.large']));
    const s = source();
    await s.describeInstanceTypes(['m5.large', 'x9.huge']);
    const before = ec2Mock.commandCalls(DescribeInstanceTypesCommand).length;

    const again = await s.describeInstanceTypes(['x9.huge', 'm5.large', 'm5.large']);
    expect(ec2Mock.commandCalls(DescribeInstanceTypesCommand)).toHaveLength(before);
    expect(again.found.map((t) => t.InstanceType)).toEqual(['m5.large']);
    expect(again.unknown).toEqual(['x9.huge']);

    answerTypes(new Set(['m5.large', 'r6i.4xlarge']));
    await s.describeInstanceTypes(['m5.large', 'r6i.4xlarge']);
    expect(asked().at(-1)).toEqual(['r6i.4xlarge']);
  });

  it('reads every page of the answer instead of taking types on a later page for unknown', async () => {
    ec2Mock
      .on(DescribeInstanceTypesCommand)
      .resolvesOnce({ InstanceTypes: [typeInfo('m5.large')], NextToken: 'p2' })
      .resolvesOnce({ InstanceTypes: [typeInfo('c6g.2xlarge')] });

    const { found, unknown } = await source().describeInstanceTypes(['m5.large', 'c6g.2xlarge']);

    expect(found.map((t) => t.InstanceType)).toEqual(['m5.large', 'c6g.2xlarge']);
    expect(unknown).toEqual([]);
  });

  it('turns UnauthorizedOperation into an AwsCallError naming ec2:DescribeInstanceTypes and the code', async () => {
    ec2Mock.on(DescribeInstanceTypesCommand).rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'));

    const err = await source().describeInstanceTypes(['m5.large']).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AwsCallError);
    expect(err).toMatchObject({ operation: 'ec2:DescribeInstanceTypes', code: 'UnauthorizedOperation' });
    expect((err as Error).message).toContain('ec2:DescribeInstanceTypes');
    expect((err as Error).message).toContain('UnauthorizedOperation');
    expect((err as Error).message).toContain('m5.large');
  });

  it('does not remember types as unknown when the request failed', async () => {
    ec2Mock.on(DescribeInstanceTypesCommand).rejectsOnce(ec2Error('UnauthorizedOperation', 'denied'));
    const s = source();
    await expect(s.describeInstanceTypes(['m5.large'])).rejects.toThrow(AwsCallError);

    answerTypes(new Set(['m5.large']));
    await expect(s.describeInstanceTypes(['m5.large'])).resolves.toEqual({ found: [typeInfo('m5.large')], unknown: [] });
  });
});

describe('parseUnknownInstanceTypes', () => {
  it.each([
    ['The following supplied instance types do not exist: [x9.huge, y1.tiny]', ['x9.huge', 'y1.tiny']],
    ['The following supplied instance types do not exist: [x9.huge]', ['x9.huge']],
    ['Something else went wrong', []],
  ])('reads %j', (message, expected) => {
    expect(parseUnknownInstanceTypes(message)).toEqual(expected);
  });
});
