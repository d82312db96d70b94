/**
 * The subnet adapters of the cni-subnets action against aws-sdk-client-mock, with DescribeSubnets
 * and CreateTags in the shapes EC2 returns.
 */
import {
  CreateTagsCommand,
  DescribeSubnetsCommand,
  EC2Client,
  type DescribeSubnetsCommandInput,
  type Subnet,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { describeSubnetsById, tagSubnetsForCni } from '../../lib/aws/subnet-tags';
import { AwsCallError } from '../../lib/errors';
import { ec2Error } from '../../tools/mock-aws';

const ec2Mock = mockClient(EC2Client);
const ec2 = (): EC2Client => new EC2Client({});

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

describe('describeSubnetsById', () => {
  it('filters on subnet-id (an unknown id is left out, not an error) and reads every page', async () => {
    ec2Mock
      .on(DescribeSubnetsCommand)
      .resolvesOnce({ Subnets: [describedSubnet('subnet-1')], NextToken: 'page-2' })
      .resolvesOnce({ Subnets: [describedSubnet('subnet-2')] });
    const out = await describeSubnetsById(ec2(), ['subnet-1', 'subnet-2', 'subnet-gone', 'subnet-1']);
    expect(out.map((s) => s.SubnetId)).toEqual(['subnet-1', 'subnet-2']);
    const calls = ec2Mock.commandCalls(DescribeSubnetsCommand).map((c) => c.args[0].input as DescribeSubnetsCommandInput);
    // Two requests (the paginator reuses one input object, so both show the last NextToken).
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual({ Filters: [{ Name: 'subnet-id', Values: ['subnet-1', 'subnet-2', 'subnet-gone'] }], MaxResults: 1000, NextToken: 'page-2' });
    expect(calls[0]?.SubnetIds).toBeUndefined();
  });

  it('asks for at most 200 ids per filter (EC2 FilterLimitExceeded above)', async () => {
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [] });
    await describeSubnetsById(ec2(), Array.from({ length: 201 }, (_, i) => `subnet-${i}`));
    const sizes = ec2Mock.commandCalls(DescribeSubnetsCommand).map((c) => c.args[0].input.Filters?.[0]?.Values?.length);
    expect(sizes).toEqual([200, 1]);
  });

  it('makes no call for no id', async () => {
    expect(await describeSubnetsById(ec2(), [])).toEqual([]);
    expect(ec2Mock.commandCalls(DescribeSubnetsCommand)).toHaveLength(0);
  });

  it('turns UnauthorizedOperation into an AwsCallError naming ec2:DescribeSubnets and the subnets', async () => {
    const denied = ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.');
    ec2Mock.on(DescribeSubnetsCommand).rejects(denied);
    const err = await describeSubnetsById(ec2(), ['subnet-1']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    expect(err).toMatchObject({ operation: 'ec2:DescribeSubnets', code: 'UnauthorizedOperation', cause: denied });
    expect((err as Error).message).toBe('ec2:DescribeSubnets for subnet-1: UnauthorizedOperation: You are not authorized to perform this operation.');
  });
});

describe('tagSubnetsForCni', () => {
  it('sets the tag on the subnets in one CreateTags call', async () => {
    ec2Mock.on(CreateTagsCommand).resolves({});
    await tagSubnetsForCni(ec2(), ['subnet-1', 'subnet-2', 'subnet-1'], { key: 'kubernetes.io/role/cni', value: '1' });
    expect(ec2Mock.commandCalls(CreateTagsCommand).map((c) => c.args[0].input)).toEqual([
      { Resources: ['subnet-1', 'subnet-2'], Tags: [{ Key: 'kubernetes.io/role/cni', Value: '1' }] },
    ]);
  });

  it('makes no call for no subnet', async () => {
    await tagSubnetsForCni(ec2(), [], { key: 'kubernetes.io/role/cni', value: '1' });
    expect(ec2Mock.commandCalls(CreateTagsCommand)).toHaveLength(0);
  });

  it.each([
    [
      'UnauthorizedOperation',
      'You are not authorized to perform this operation. User: arn:aws:sts::111122223333:assumed-role/eks-ip-responder-prod-respond/fn is not authorized to perform: ec2:CreateTags on resource: arn:aws:ec2:eu-west-1:111122223333:subnet/subnet-1 because no identity-based policy allows the ec2:CreateTags action.',
    ],
    ['InvalidSubnetID.NotFound', "The subnet ID 'subnet-1' does not exist"],
  ])('turns %s into an AwsCallError naming ec2:CreateTags and the subnets', async (code, message) => {
    ec2Mock.on(CreateTagsCommand).rejects(ec2Error(code, message));
    const err = await tagSubnetsForCni(ec2(), ['subnet-1', 'subnet-2'], { key: 'kubernetes.io/role/cni', value: '1' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AwsCallError', operation: 'ec2:CreateTags', code });
    expect((err as Error).message).toBe(`ec2:CreateTags kubernetes.io/role/cni=1 on subnet-1, subnet-2: ${code}: ${message}`);
  });
});
