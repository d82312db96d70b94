/**
 * A cycle's view of the LiveSource (forCycle): bound by the cycle's deadline (no read and no
 * further page once it has passed, the abort signal on every call) and reporting every page to
 * the progress. The deadline's clock is a variable the answers move, so no test waits.
 */
import {
  DescribeInstanceTypesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  EC2Client,
  type InstanceTypeInfo,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { LiveSource, type ReadProgress } from '../../lib/aws/live-source';
import { CYCLE_DEADLINE_CODE, CycleDeadline, CycleDeadlineError } from '../../lib/deadline';
import { AwsCallError } from '../../lib/errors';
import { ec2Error } from '../../tools/mock-aws';

const ec2Mock = mockClient(EC2Client);
const eksMock = mockClient(EKSClient);

beforeEach(() => {
  ec2Mock.reset();
  eksMock.reset();
});
afterAll(() => {
  ec2Mock.restore();
  eksMock.restore();
});

const base = () => new LiveSource({ ec2: new EC2Client({}), eks: new EKSClient({}) }, 'eu-west-1', 'measured');

/** A deadline 10 s after t = 0 on a clock the test moves. */
function clock() {
  const c = { t: 0, deadline: undefined as unknown as CycleDeadline };
  c.deadline = new CycleDeadline(10_000, () => c.t, 'the test deadline');
  return c;
}

const eni = (n: number, subnetId: string): NetworkInterface => ({
  NetworkInterfaceId: `eni-${n.toString(16).padStart(17, '0')}`,
  SubnetId: subnetId,
  InterfaceType: 'interface',
  PrivateIpAddress: `10.0.${Math.floor(n / 250)}.${(n % 250) + 4}`,
  PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: `10.0.${Math.floor(n / 250)}.${(n % 250) + 4}` }],
  Status: 'in-use',
});
const enis = (from: number, count: number, subnetId: string) => Array.from({ length: count }, (_, i) => eni(from + i, subnetId));

const typeInfo = (name: string): InstanceTypeInfo => ({
  InstanceType: name as InstanceTypeInfo['InstanceType'],
  NetworkInfo: { MaximumNetworkInterfaces: 3, Ipv4AddressesPerInterface: 10, DefaultNetworkCardIndex: 0 },
});

describe('a cycle view bound by a deadline', () => {
  it('asks for no further page once the deadline has passed, and names the read it cut', async () => {
    const c = clock();
    ec2Mock.on(DescribeNetworkInterfacesCommand).callsFake(() => {
      // The first page takes the cycle past its deadline.
      c.t = 12_000;
      return { NetworkInterfaces: enis(0, 1000, 'subnet-a'), NextToken: 'page-2' };
    });
    const view = base().forCycle({ deadline: c.deadline });

    const err: unknown = await view.describeNetworkInterfaces(['subnet-a']).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(CycleDeadlineError);
    expect(err).toBeInstanceOf(AwsCallError);
    expect(err).toMatchObject({
      operation: 'ec2:DescribeNetworkInterfaces',
      code: CYCLE_DEADLINE_CODE,
      message: 'ec2:DescribeNetworkInterfaces for 1 subnet(s): page 2 and later not read: the test deadline',
    });
    expect(ec2Mock.commandCalls(DescribeNetworkInterfacesCommand)).toHaveLength(1);
    expect(c.deadline.cutReads).toEqual(['ec2:DescribeNetworkInterfaces for 1 subnet(s) (page 2 and later not read)']);
  });

  it('starts no read once the deadline has passed', async () => {
    const c = clock();
    c.t = 10_000;
    const view = base().forCycle({ deadline: c.deadline });

    await expect(view.describeCluster('prod')).rejects.toMatchObject({ code: CYCLE_DEADLINE_CODE, message: 'eks:DescribeCluster for cluster prod: not started: the test deadline' });
    await expect(view.listClusters()).rejects.toThrow(CycleDeadlineError);
    await expect(view.describeInstanceTypes(['m5.large'])).rejects.toThrow(CycleDeadlineError);
    expect(eksMock.calls()).toHaveLength(0);
    expect(ec2Mock.calls()).toHaveLength(0);
    expect(c.deadline.cutReads).toHaveLength(3);
  });

  it("passes the deadline's abort signal to every call, so that a read in flight is aborted when it passes", async () => {
    const c = clock();
    eksMock.on(ListClustersCommand).resolves({ clusters: ['prod'] });
    eksMock.on(DescribeClusterCommand).resolves({ cluster: { name: 'prod', resourcesVpcConfig: { vpcId: 'vpc-1', subnetIds: ['subnet-a'] } } });
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolves({ NetworkInterfaces: enis(0, 2, 'subnet-a') });
    const view = base().forCycle({ deadline: c.deadline });

    await view.listClusters();
    await view.describeCluster('prod');
    await view.describeNetworkInterfaces(['subnet-a']);

    for (const call of [...eksMock.calls(), ...ec2Mock.calls()]) expect((call.args as unknown[])[1]).toEqual({ abortSignal: c.deadline.signal });
    expect(eksMock.calls().length + ec2Mock.calls().length).toBe(3);
    expect(c.deadline.cutReads).toEqual([]);
  });

  it('keeps a failure the service answered as itself, not as a cut', async () => {
    const c = clock();
    ec2Mock.on(DescribeNetworkInterfacesCommand).rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'));
    const view = base().forCycle({ deadline: c.deadline });

    await expect(view.describeNetworkInterfaces(['subnet-a'])).rejects.toMatchObject({ code: 'UnauthorizedOperation', operation: 'ec2:DescribeNetworkInterfaces' });
    expect(c.deadline.cutReads).toEqual([]);
  });

  it('asks for no further batch of a subnet read through the subnet provider once the deadline has passed', async () => {
    const c = clock();
    ec2Mock.on(DescribeSubnetsCommand).callsFake(() => {
      c.t = 12_000;
      return { Subnets: [{ SubnetId: 'subnet-0', VpcId: 'vpc-1', AvailableIpAddressCount: 12 }] };
    });
    const ids = Array.from({ length: 201 }, (_, i) => `subnet-${i}`);
    const view = base().forCycle({ deadline: c.deadline });

    const err: unknown = await view.describeSubnetsById(ids).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(CycleDeadlineError);
    expect(err).toMatchObject({ operation: 'ec2:DescribeSubnets', code: CYCLE_DEADLINE_CODE });
    expect((err as Error).message).toBe(`ec2:DescribeSubnets for ${ids.join(', ')}: page 2 and later not read: the test deadline`);
    expect(ec2Mock.commandCalls(DescribeSubnetsCommand)).toHaveLength(1);
    expect((ec2Mock.calls()[0]?.args as unknown[])[1]).toEqual({ abortSignal: c.deadline.signal });
  });

  it("shares its source's instance type cache", async () => {
    ec2Mock.on(DescribeInstanceTypesCommand).resolves({ InstanceTypes: [typeInfo('m5.large')] });
    const source = base();
    await source.describeInstanceTypes(['m5.large']);
    const { found } = await source.forCycle({ deadline: clock().deadline }).describeInstanceTypes(['m5.large']);
    expect(found.map((t) => t.InstanceType)).toEqual(['m5.large']);
    expect(ec2Mock.commandCalls(DescribeInstanceTypesCommand)).toHaveLength(1);
  });
});

describe('progress of a cycle view', () => {
  it('reports every page with the running item count, for the cluster whose subnets are read', async () => {
    eksMock.on(DescribeClusterCommand).resolves({ cluster: { name: 'payments-prod', resourcesVpcConfig: { vpcId: 'vpc-1', subnetIds: ['subnet-a', 'subnet-b'] } } });
    ec2Mock
      .on(DescribeNetworkInterfacesCommand)
      .resolvesOnce({ NetworkInterfaces: enis(0, 1000, 'subnet-a'), NextToken: 'p2' })
      .resolvesOnce({ NetworkInterfaces: enis(1000, 1000, 'subnet-b'), NextToken: 'p3' })
      .resolvesOnce({ NetworkInterfaces: enis(2000, 5, 'subnet-b') });
    ec2Mock.on(DescribeInstanceTypesCommand).resolves({ InstanceTypes: [typeInfo('m5.large')] });
    const seen: ReadProgress[] = [];
    const view = base().forCycle({ onProgress: (p) => seen.push(p) });

    await view.describeCluster('payments-prod');
    await view.describeNetworkInterfaces(['subnet-a', 'subnet-b']);
    await view.describeInstanceTypes(['m5.large']);

    expect(seen).toEqual([
      { subject: 'payments-prod', operation: 'DescribeCluster' },
      { subject: 'payments-prod', operation: 'DescribeNetworkInterfaces', page: 1, items: 1000, unit: 'ENIs' },
      { subject: 'payments-prod', operation: 'DescribeNetworkInterfaces', page: 2, items: 2000, unit: 'ENIs' },
      { subject: 'payments-prod', operation: 'DescribeNetworkInterfaces', page: 3, items: 2005, unit: 'ENIs' },
      { subject: 'eu-west-1', operation: 'DescribeInstanceTypes', page: 1, items: 1, unit: 'instance types' },
    ]);
  });
});
