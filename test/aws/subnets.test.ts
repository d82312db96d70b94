/**
 * The subnet provider against aws-sdk-client-mock, DescribeSubnets in the shapes EC2 returns:
 * by id (filter, batches of 200, every page), by tag key, the hooks a cycle view passes (progress,
 * deadline, failure), and no cache (every ask is a read: the free addresses are the measurement).
 */
import { DescribeSubnetsCommand, EC2Client, type DescribeSubnetsCommandInput, type Subnet } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { Ec2SubnetProvider } from '../../lib/aws/subnets';
import { AwsCallError } from '../../lib/errors';
import { ec2Error } from '../../tools/mock-aws';

const ec2Mock = mockClient(EC2Client);
const ec2 = (): EC2Client => new EC2Client({});
const subnets = () => new Ec2SubnetProvider(ec2());

beforeEach(() => ec2Mock.reset());
afterAll(() => ec2Mock.restore());

/** A subnet as DescribeSubnets returns it. */
function describedSubnet(id: string, az = 'eu-west-1a', tags: { Key: string; Value: string }[] = []): Subnet {
  return {
    AvailabilityZone: az,
    AvailabilityZoneId: 'euw1-az1',
    AvailableIpAddressCount: 8187,
    CidrBlock: '100.64.0.0/19',
    DefaultForAz: false,
    MapPublicIpOnLaunch: false,
    State: 'available',
    SubnetId: id,
    VpcId: 'vpc-05cb6340ff1bbcd88',
    OwnerId: '111122223333',
    AssignIpv6AddressOnCreation: false,
    Ipv6CidrBlockAssociationSet: [],
    Tags: [{ Key: 'Name', Value: `cni-${id}` }, ...tags],
    SubnetArn: `arn:aws:ec2:eu-west-1:111122223333:subnet/${id}`,
    EnableDns64: false,
    Ipv6Native: false,
    PrivateDnsNameOptionsOnLaunch: { HostnameType: 'ip-name', EnableResourceNameDnsARecord: false, EnableResourceNameDnsAAAARecord: false },
  };
}

describe('byId', () => {
  it('filters on subnet-id (an unknown id is left out, not an error) and reads every page', async () => {
    ec2Mock
      .on(DescribeSubnetsCommand)
      .resolvesOnce({ Subnets: [describedSubnet('subnet-1')], NextToken: 'page-2' })
      .resolvesOnce({ Subnets: [describedSubnet('subnet-2')] });
    const out = await subnets().byId(['subnet-1', 'subnet-2', 'subnet-gone', 'subnet-1']);
    expect(out.map((s) => s.SubnetId)).toEqual(['subnet-1', 'subnet-2']);
    const calls = ec2Mock.commandCalls(DescribeSubnetsCommand).map((c) => c.args[0].input as DescribeSubnetsCommandInput);
    // Two requests (the paginator reuses one input object, so both show the last NextToken).
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual({ Filters: [{ Name: 'subnet-id', Values: ['subnet-1', 'subnet-2', 'subnet-gone'] }], MaxResults: 1000, NextToken: 'page-2' });
    expect(calls[0]?.SubnetIds).toBeUndefined();
  });

  it('asks for at most 200 ids per filter (EC2 FilterLimitExceeded above)', async () => {
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [] });
    await subnets().byId(Array.from({ length: 201 }, (_, i) => `subnet-${i}`));
    const sizes = ec2Mock.commandCalls(DescribeSubnetsCommand).map((c) => c.args[0].input.Filters?.[0]?.Values?.length);
    expect(sizes).toEqual([200, 1]);
  });

  it('makes no call for no id', async () => {
    expect(await subnets().byId([])).toEqual([]);
    expect(ec2Mock.commandCalls(DescribeSubnetsCommand)).toHaveLength(0);
  });

  it('turns UnauthorizedOperation into an AwsCallError naming ec2:DescribeSubnets and the subnets', async () => {
    const denied = ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.');
    ec2Mock.on(DescribeSubnetsCommand).rejects(denied);
    const err = await subnets().byId(['subnet-1']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    expect(err).toMatchObject({ operation: 'ec2:DescribeSubnets', code: 'UnauthorizedOperation', cause: denied });
    expect((err as Error).message).toBe('ec2:DescribeSubnets for subnet-1: UnauthorizedOperation: You are not authorized to perform this operation.');
  });
});

describe('byTagKey', () => {
  it('filters on vpc-id and tag-key and reads every page', async () => {
    ec2Mock
      .on(DescribeSubnetsCommand)
      .resolvesOnce({ Subnets: [describedSubnet('subnet-1', 'eu-west-1a', [{ Key: 'kubernetes.io/role/cni', Value: '1' }])], NextToken: 'page-2' })
      .resolvesOnce({ Subnets: [describedSubnet('subnet-2', 'eu-west-1b', [{ Key: 'kubernetes.io/role/cni', Value: '0' }])] });

    const out = await subnets().byTagKey('vpc-05cb6340ff1bbcd88', 'kubernetes.io/role/cni');

    expect(out.map((s) => s.SubnetId)).toEqual(['subnet-1', 'subnet-2']);
    const calls = ec2Mock.commandCalls(DescribeSubnetsCommand).map((c) => c.args[0].input as DescribeSubnetsCommandInput);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual({
      Filters: [
        { Name: 'vpc-id', Values: ['vpc-05cb6340ff1bbcd88'] },
        { Name: 'tag-key', Values: ['kubernetes.io/role/cni'] },
      ],
      MaxResults: 1000,
      NextToken: 'page-2',
    });
  });

  it('names the VPC and tag key in an AwsCallError', async () => {
    ec2Mock.on(DescribeSubnetsCommand).rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'));
    const err = await subnets().byTagKey('vpc-1', 'kubernetes.io/role/cni').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    expect((err as Error).message).toBe('ec2:DescribeSubnets tagged kubernetes.io/role/cni in vpc-1: UnauthorizedOperation: You are not authorized to perform this operation.');
  });
});

describe('the hooks of a read', () => {
  it('tells each page, and says another request follows after a page with a NextToken and after a batch with another to come', async () => {
    ec2Mock.on(DescribeSubnetsCommand).callsFake((input: DescribeSubnetsCommandInput) => {
      const ids = input.Filters?.[0]?.Values ?? [];
      // The first batch answers in two pages, the second in one.
      if (ids.length === 200 && !input.NextToken) return { Subnets: [describedSubnet(ids[0]!)], NextToken: 'page-2' };
      return { Subnets: [describedSubnet(ids.at(-1)!)] };
    });
    const pages: { items: number; more: boolean }[] = [];
    const ids = Array.from({ length: 201 }, (_, i) => `subnet-${i}`);

    await subnets().byId(ids, { onPage: ({ items, more }) => pages.push({ items, more }) });

    expect(pages).toEqual([
      { items: 1, more: true },
      { items: 1, more: true },
      { items: 1, more: false },
    ]);
    expect(ec2Mock.commandCalls(DescribeSubnetsCommand)).toHaveLength(3);
  });

  it('sends no further request once a hook refuses it, and throws what the hooks make of the failure', async () => {
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [describedSubnet('subnet-1')], NextToken: 'page-2' });
    const stop = new Error('stop here');
    const err = await subnets()
      .byId(['subnet-1'], {
        onPage: ({ more }) => {
          if (more) throw stop;
        },
        failure: (about, e) => new Error(`failed ${about}`, { cause: e }),
      })
      .catch((e: unknown) => e);

    expect(ec2Mock.commandCalls(DescribeSubnetsCommand)).toHaveLength(1);
    expect(err).toMatchObject({ message: 'failed for subnet-1', cause: stop });
  });

  it('starts nothing when beforeRequest refuses, and passes the abort signal to every call', async () => {
    await expect(
      subnets().byTagKey('vpc-1', 'kubernetes.io/role/cni', {
        beforeRequest: (about) => {
          throw new Error(`not started: ${about}`);
        },
      }),
    ).rejects.toThrow('not started: tagged kubernetes.io/role/cni in vpc-1');
    expect(ec2Mock.calls()).toHaveLength(0);

    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [] });
    const abortSignal = new AbortController().signal;
    await subnets().byId(['subnet-1'], { abortSignal });
    expect((ec2Mock.calls()[0]?.args as unknown[])[1]).toEqual({ abortSignal });
  });
});

describe('no cache', () => {
  it('reads again on every ask: the free addresses are what is measured, and the executor checks them just before it tags', async () => {
    ec2Mock
      .on(DescribeSubnetsCommand)
      .resolvesOnce({ Subnets: [{ ...describedSubnet('subnet-1'), AvailableIpAddressCount: 10 }] })
      .resolvesOnce({ Subnets: [{ ...describedSubnet('subnet-1'), AvailableIpAddressCount: 3 }] });
    const provider = subnets();

    const first = await provider.byId(['subnet-1']);
    const second = await provider.byId(['subnet-1']);

    expect([first[0]?.AvailableIpAddressCount, second[0]?.AvailableIpAddressCount]).toEqual([10, 3]);
    expect(ec2Mock.commandCalls(DescribeSubnetsCommand)).toHaveLength(2);
  });
});
