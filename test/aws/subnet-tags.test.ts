/**
 * The subnet write of the cni-subnets action against aws-sdk-client-mock, CreateTags in the
 * shapes EC2 returns (its read, DescribeSubnets, is the subnet provider's: test/aws/subnets.test.ts).
 */
import { CreateTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { tagSubnetsForCni } from '../../lib/aws/subnet-tags';
import { ec2Error } from '../../tools/mock-aws';

const ec2Mock = mockClient(EC2Client);
const ec2 = (): EC2Client => new EC2Client({});

beforeEach(() => ec2Mock.reset());
afterAll(() => ec2Mock.restore());

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
