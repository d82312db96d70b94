/**
 * The cni-subnets executor against aws-sdk-client-mock: DescribeSubnets first, CreateTags only
 * for what is not tagged yet, every refusal and AWS error as a 'failed' outcome naming it.
 */
import { CreateTagsCommand, DescribeSubnetsCommand, EC2Client, type Subnet } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { cniSubnetsExecutor } from '../../lib/act/execute-subnets';
import type { ActionRecord, ExecuteDeps } from '../../lib/act/types';
import type { PlannedAction } from '../../lib/plan/types';
import { ec2Error } from '../../tools/mock-aws';

const ec2Mock = mockClient(EC2Client);
beforeEach(() => ec2Mock.reset());
afterAll(() => ec2Mock.restore());

const VPC = 'vpc-05cb6340ff1bbcd88';
const AZ = 'eu-west-1a';
const S1 = 'subnet-0c55317ef17156075';
const S2 = 'subnet-0a1b2c3d4e5f60718';
const CNI_TAG = { Key: 'kubernetes.io/role/cni', Value: '1' };

function deps(): ExecuteDeps {
  return {
    ec2: new EC2Client({}),
    eks: new EKSClient({}),
    now: () => new Date('2026-11-26T10:00:00Z'),
    sleep: () => Promise.resolve(),
    followForMs: 0,
  };
}

/** A subnet as DescribeSubnets returns it. */
function described(id: string, o: { az?: string; vpc?: string; tags?: { Key: string; Value: string }[] } = {}): Subnet {
  return {
    AvailabilityZone: o.az ?? AZ,
    AvailabilityZoneId: 'euw1-az1',
    AvailableIpAddressCount: 4091,
    CidrBlock: '100.64.0.0/20',
    DefaultForAz: false,
    MapPublicIpOnLaunch: false,
    State: 'available',
    SubnetId: id,
    VpcId: o.vpc ?? VPC,
    OwnerId: '111122223333',
    AssignIpv6AddressOnCreation: false,
    Ipv6CidrBlockAssociationSet: [],
    Tags: [{ Key: 'Name', Value: 'payments-prod-cni-a' }, ...(o.tags ?? [])],
    SubnetArn: `arn:aws:ec2:eu-west-1:111122223333:subnet/${id}`,
    EnableDns64: false,
    Ipv6Native: false,
  };
}

function action(subnetIds: string[]): PlannedAction {
  return {
    id: `payments-prod/cni-subnets/${VPC}/${AZ}`,
    cluster: 'payments-prod',
    kind: 'cni-subnets',
    subject: `${VPC}/${AZ}`,
    reason: 'Pods in eu-west-1a are short of addresses.',
    findingIds: ['payments-prod/subnet-exhaustion/subnet-0e59dfd0c9e3779b1'],
    change: { type: 'tag-subnets', subnetIds, tag: { key: 'kubernetes.io/role/cni', value: '1' } },
    predicted: { ipsFreed: 8182, text: 'Tagging ...' },
    blockers: [],
    state: 'apply',
    blockedBy: [],
  };
}

function record(subnetIds: string[]): ActionRecord {
  const a = action(subnetIds);
  return {
    actionId: a.id,
    cluster: a.cluster,
    kind: a.kind,
    change: a.change,
    predicted: a.predicted,
    reason: a.reason,
    startedAt: '2026-11-26T09:55:00.000Z',
    updatedAt: '2026-11-26T09:55:00.000Z',
    status: 'in-progress',
    step: 'started',
    history: [{ at: '2026-11-26T09:55:00.000Z', status: 'started', detail: 'started' }],
    version: 1,
  };
}

const createTagsInputs = () => ec2Mock.commandCalls(CreateTagsCommand).map((c) => c.args[0].input);

describe('cniSubnetsExecutor.start', () => {
  it('changes nothing when every subnet is already tagged kubernetes.io/role/cni=1', async () => {
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [described(S1, { tags: [CNI_TAG] }), described(S2, { tags: [CNI_TAG] })] });
    ec2Mock.on(CreateTagsCommand).resolves({});
    const out = await cniSubnetsExecutor.start(action([S1, S2]), deps());
    expect(out).toEqual({
      actionId: `payments-prod/cni-subnets/${VPC}/${AZ}`,
      status: 'succeeded',
      step: 'tagged',
      reference: `${S1},${S2}`,
      detail: `already tagged kubernetes.io/role/cni=1: ${S1} and ${S2}; nothing changed`,
    });
    expect(createTagsInputs()).toEqual([]);
    // It did read them, by filter.
    expect(ec2Mock.commandCalls(DescribeSubnetsCommand)[0]?.args[0].input.Filters).toEqual([{ Name: 'subnet-id', Values: [S1, S2] }]);
  });

  it('tags only the subnet that is not tagged yet', async () => {
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [described(S1, { tags: [CNI_TAG] }), described(S2)] });
    ec2Mock.on(CreateTagsCommand).resolves({});
    const out = await cniSubnetsExecutor.start(action([S1, S2]), deps());
    expect(createTagsInputs()).toEqual([{ Resources: [S2], Tags: [CNI_TAG] }]);
    expect(out).toMatchObject({
      status: 'succeeded',
      step: 'tagged',
      detail: `tagged ${S2} kubernetes.io/role/cni=1 (${S1} already tagged): new pod ENIs in eu-west-1a may go there`,
    });
  });

  it('overwrites another value of the key with 1 (only 1 opts a subnet in)', async () => {
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [described(S1, { tags: [{ Key: 'kubernetes.io/role/cni', Value: '' }] })] });
    ec2Mock.on(CreateTagsCommand).resolves({});
    expect(await cniSubnetsExecutor.start(action([S1]), deps())).toMatchObject({ status: 'succeeded' });
    expect(createTagsInputs()).toEqual([{ Resources: [S1], Tags: [CNI_TAG] }]);
  });

  it('fails naming ec2:CreateTags and UnauthorizedOperation when the role may not tag', async () => {
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [described(S1), described(S2)] });
    ec2Mock
      .on(CreateTagsCommand)
      .rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation. Encoded authorization failure message: AbC123'));
    const out = await cniSubnetsExecutor.start(action([S1, S2]), deps());
    expect(out).toEqual({
      actionId: `payments-prod/cni-subnets/${VPC}/${AZ}`,
      status: 'failed',
      // Not transient: the role lacks the permission.
      retryable: false,
      reference: `${S1},${S2}`,
      detail: `ec2:CreateTags kubernetes.io/role/cni=1 on ${S1}, ${S2}: UnauthorizedOperation: You are not authorized to perform this operation. Encoded authorization failure message: AbC123`,
    });
  });

  it('fails naming ec2:DescribeSubnets when it cannot read them, and tags nothing', async () => {
    ec2Mock.on(DescribeSubnetsCommand).rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'));
    const out = await cniSubnetsExecutor.start(action([S1]), deps());
    expect(out).toMatchObject({ status: 'failed', detail: `ec2:DescribeSubnets for ${S1}: UnauthorizedOperation: You are not authorized to perform this operation.` });
    expect(ec2Mock.commandCalls(CreateTagsCommand)).toHaveLength(0);
  });

  it('fails when a subnet was deleted between the read and the tag (InvalidSubnetID.NotFound)', async () => {
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [described(S1)] });
    ec2Mock.on(CreateTagsCommand).rejects(ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${S1}' does not exist`));
    expect(await cniSubnetsExecutor.start(action([S1]), deps())).toMatchObject({
      status: 'failed',
      detail: `ec2:CreateTags kubernetes.io/role/cni=1 on ${S1}: InvalidSubnetID.NotFound: The subnet ID '${S1}' does not exist`,
    });
  });

  it.each<[string, Subnet[], string]>([
    ['a subnet has vanished', [described(S1)], `${S2} no longer exists (DescribeSubnets does not find it): nothing tagged`],
    ['a subnet is in another AZ', [described(S1), described(S2, { az: 'eu-west-1b' })], `${S2} is in ${VPC}/eu-west-1b, not ${VPC}/${AZ} where the pods need room: nothing tagged`],
    ['a subnet is in another VPC', [described(S1), described(S2, { vpc: 'vpc-0ffff0000ffff0000' })], `${S2} is in vpc-0ffff0000ffff0000/${AZ}, not ${VPC}/${AZ} where the pods need room: nothing tagged`],
    ['a subnet was tagged 0 since the plan', [described(S1), described(S2, { tags: [{ Key: 'kubernetes.io/role/cni', Value: '0' }] })], `${S2} has been tagged kubernetes.io/role/cni=0 (excluded on purpose) since the plan: nothing tagged`],
  ])('fails, tagging nothing, when %s', async (_name, subnets, detail) => {
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: subnets });
    ec2Mock.on(CreateTagsCommand).resolves({});
    expect(await cniSubnetsExecutor.start(action([S1, S2]), deps())).toEqual({
      actionId: `payments-prod/cni-subnets/${VPC}/${AZ}`,
      status: 'failed',
      detail,
    });
    expect(ec2Mock.commandCalls(CreateTagsCommand)).toHaveLength(0);
  });

  it('fails without a call on a change that is not a subnet tag', async () => {
    const a: PlannedAction = { ...action([S1]), change: { type: 'addon-env', set: { WARM_IP_TARGET: '5' }, previous: { WARM_IP_TARGET: '' } } };
    expect(await cniSubnetsExecutor.start(a, deps())).toMatchObject({ status: 'failed', detail: 'not a tag-subnets change (addon-env): nothing tagged' });
    expect(ec2Mock.calls()).toHaveLength(0);
  });
});

describe('cniSubnetsExecutor.follow', () => {
  it('confirms the tag on a record left in progress', async () => {
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [described(S1, { tags: [CNI_TAG] })] });
    ec2Mock.on(CreateTagsCommand).resolves({});
    expect(await cniSubnetsExecutor.follow(record([S1]), deps())).toEqual({
      actionId: `payments-prod/cni-subnets/${VPC}/${AZ}`,
      status: 'succeeded',
      step: 'tagged',
      reference: S1,
      detail: `confirmed: ${S1} tagged kubernetes.io/role/cni=1`,
    });
    expect(ec2Mock.commandCalls(CreateTagsCommand)).toHaveLength(0);
  });

  it('sets the tag still missing (the cycle that started it stopped before CreateTags), checking the place from the action id', async () => {
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [described(S1)] });
    ec2Mock.on(CreateTagsCommand).resolves({});
    expect(await cniSubnetsExecutor.follow(record([S1]), deps())).toMatchObject({ status: 'succeeded', detail: expect.stringMatching(/^tag still missing, set: tagged /) });
    expect(createTagsInputs()).toEqual([{ Resources: [S1], Tags: [CNI_TAG] }]);

    ec2Mock.reset();
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [described(S1, { az: 'eu-west-1c' })] });
    expect(await cniSubnetsExecutor.follow(record([S1]), deps())).toMatchObject({ status: 'failed' });
    expect(ec2Mock.commandCalls(CreateTagsCommand)).toHaveLength(0);
  });
});
