import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateNodegroupCommand,
  DescribeNodegroupCommand,
  DescribeUpdateCommand,
  EKSClient,
  UpdateNodegroupConfigCommand,
  type Nodegroup,
} from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import type { NodegroupReplacementChange } from '../../lib/plan/types';
import { clientRequestTokenFor } from '../../lib/keys';
import {
  createReplacementNodegroup,
  describeNodegroup,
  describeUpdate,
  replacementNodegroupInput,
  scaleNodegroupTo,
} from '../../lib/aws/nodegroup';
import { AwsCallError } from '../../lib/errors';
import { eksError } from '../../tools/mock-aws';

/** A DescribeNodegroup response as the AWS CLI prints it. */
function loadNodegroup(file: string): Nodegroup {
  const doc = JSON.parse(readFileSync(join(__dirname, '../fixtures/eks', file), 'utf8')) as { nodegroup: Nodegroup };
  return doc.nodegroup;
}

const CLUSTER = 'payments-prod';
const ACTION = 'payments-prod/instance-types/api-spot';
const eksMock = mockClient(EKSClient);
const eks = new EKSClient({});

beforeEach(() => eksMock.reset());

function change(over: Partial<NodegroupReplacementChange> = {}): NodegroupReplacementChange {
  return {
    type: 'replace-nodegroup',
    nodegroup: 'api-spot',
    newNodegroup: 'api-spot-ipr-1a2b3c4d',
    fromInstanceTypes: ['m5.large', 'm5a.large', 'm6i.large'],
    toInstanceTypes: ['m7i.xlarge', 'm7a.xlarge', 'm6a.xlarge'],
    ranking: [],
    scaling: { minSize: 2, maxSize: 10, desiredSize: 5 },
    ...over,
  };
}

describe('replacementNodegroupInput', () => {
  it('leaves out the tags the responder may not set: AWS-reserved keys (any case) and the opt-in key', () => {
    const old = loadNodegroup('nodegroup-launch-template-spot.json');
    old.tags = {
      team: 'payments',
      'aws:cloudformation:stack-name': 'payments-nodegroups',
      'AWS:Custom': 'x',
      'eks-ip-responder/remediation': 'apply',
      'eks-ip-responder/replaces': 'older-nodegroup',
      'kubernetes.io/cluster/payments-prod': 'owned',
    };
    const input = replacementNodegroupInput(CLUSTER, old, change(), { actionId: ACTION, clusterVersion: '1.31' });
    expect(input.tags).toEqual({
      team: 'payments',
      'kubernetes.io/cluster/payments-prod': 'owned',
      // The replaces tag names this replacement's old nodegroup, not the one before it.
      'eks-ip-responder/replaces': 'api-spot',
    });
  });

  it('copies a launch-template Spot nodegroup with a custom AMI: no amiType, version, diskSize or remoteAccess', () => {
    const old = loadNodegroup('nodegroup-launch-template-spot.json');
    const input = replacementNodegroupInput(CLUSTER, old, change(), { actionId: ACTION, clusterVersion: '1.31' });
    // The whole request, so that a field added or dropped fails the test.
    expect(input).toEqual({
      clusterName: 'payments-prod',
      nodegroupName: 'api-spot-ipr-1a2b3c4d',
      scalingConfig: { minSize: 2, maxSize: 10, desiredSize: 5 },
      subnets: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b2c3d4e5f6071829', 'subnet-0c3d4e5f607182930'],
      instanceTypes: ['m7i.xlarge', 'm7a.xlarge', 'm6a.xlarge'],
      nodeRole: 'arn:aws:iam::111122223333:role/payments-prod-node-role',
      labels: { workload: 'api', tier: 'frontend' },
      taints: [
        { key: 'dedicated', value: 'api', effect: 'NO_SCHEDULE' },
        { key: 'spot', effect: 'PREFER_NO_SCHEDULE' },
      ],
      tags: { team: 'payments', 'cost-center': 'cc-4711', 'eks-ip-responder/replaces': 'api-spot' },
      capacityType: 'SPOT',
      updateConfig: { maxUnavailablePercentage: 33 },
      // Id only: "either the launch template ID or the launch template name ..., but not both".
      launchTemplate: { id: 'lt-0f1e2d3c4b5a69788', version: '7' },
      clientRequestToken: clientRequestTokenFor(ACTION, 'create'),
    });
    expect(input).not.toHaveProperty('amiType');
    expect(input).not.toHaveProperty('version');
    expect(input).not.toHaveProperty('releaseVersion');
    expect(input).not.toHaveProperty('diskSize');
    expect(input).not.toHaveProperty('remoteAccess');
  });

  it('keeps amiType and sets the cluster version when the launch template does not set the AMI', () => {
    const old = { ...loadNodegroup('nodegroup-launch-template-spot.json'), amiType: 'AL2023_x86_64_STANDARD' } as Nodegroup;
    const input = replacementNodegroupInput(CLUSTER, old, change(), { actionId: ACTION, clusterVersion: '1.31' });
    expect(input.amiType).toBe('AL2023_x86_64_STANDARD');
    expect(input.version).toBe('1.31');
    expect(input.launchTemplate).toEqual({ id: 'lt-0f1e2d3c4b5a69788', version: '7' });
    expect(input).not.toHaveProperty('diskSize');
  });

  it('never sends diskSize or remoteAccess with a launch template, even when the old nodegroup reports them', () => {
    const old = { ...loadNodegroup('nodegroup-launch-template-spot.json'), diskSize: 20, remoteAccess: { ec2SshKey: 'ops' } } as Nodegroup;
    const input = replacementNodegroupInput(CLUSTER, old, change(), { actionId: ACTION });
    expect(input).not.toHaveProperty('diskSize');
    expect(input).not.toHaveProperty('remoteAccess');
  });

  it('names the launch template when DescribeNodegroup has no id', () => {
    const base = loadNodegroup('nodegroup-launch-template-spot.json');
    const old = { ...base, launchTemplate: { name: 'payments-prod-api-spot', version: '7' } } as Nodegroup;
    expect(replacementNodegroupInput(CLUSTER, old, change(), { actionId: ACTION }).launchTemplate).toEqual({
      name: 'payments-prod-api-spot',
      version: '7',
    });
  });

  it('copies diskSize and remoteAccess of a nodegroup without launch template, and no releaseVersion', () => {
    const old = loadNodegroup('nodegroup-disk-remote-access.json');
    const c = change({ nodegroup: 'general-m5l', newNodegroup: 'general-m5l-ipr-00000000', toInstanceTypes: ['m7i.xlarge'], scaling: { minSize: 3, maxSize: 6, desiredSize: 3 } });
    const input = replacementNodegroupInput(CLUSTER, old, c, { actionId: 'payments-prod/instance-types/general-m5l', clusterVersion: '1.30' });
    expect(input).toEqual({
      clusterName: 'payments-prod',
      nodegroupName: 'general-m5l-ipr-00000000',
      scalingConfig: { minSize: 3, maxSize: 6, desiredSize: 3 },
      subnets: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b2c3d4e5f6071829'],
      instanceTypes: ['m7i.xlarge'],
      nodeRole: 'arn:aws:iam::111122223333:role/payments-prod-node-role',
      labels: { workload: 'general' },
      tags: { team: 'payments', 'eks-ip-responder/replaces': 'general-m5l' },
      capacityType: 'ON_DEMAND',
      updateConfig: { maxUnavailable: 1 },
      nodeRepairConfig: { enabled: true },
      amiType: 'AL2_x86_64',
      version: '1.30',
      diskSize: 50,
      remoteAccess: { ec2SshKey: 'payments-ops', sourceSecurityGroups: ['sg-0123456789abcdef0'] },
      clientRequestToken: clientRequestTokenFor('payments-prod/instance-types/general-m5l', 'create'),
    });
    // The old release (1.30.4-20241109) is not carried over: EKS picks the latest for the version.
    expect(input).not.toHaveProperty('releaseVersion');
    expect(input).not.toHaveProperty('launchTemplate');
    expect(input).not.toHaveProperty('taints');
  });

  it('uses the scaling it is given over the planned one', () => {
    const old = loadNodegroup('nodegroup-disk-remote-access.json');
    const input = replacementNodegroupInput(CLUSTER, old, change(), { actionId: ACTION, scaling: { minSize: 3, maxSize: 8, desiredSize: 8 } });
    expect(input.scalingConfig).toEqual({ minSize: 3, maxSize: 8, desiredSize: 8 });
  });

  it('refuses a nodegroup without nodeRole', () => {
    const old = { ...loadNodegroup('nodegroup-disk-remote-access.json'), nodeRole: undefined } as Nodegroup;
    expect(() => replacementNodegroupInput(CLUSTER, old, change(), { actionId: ACTION })).toThrow(/no nodeRole/);
  });
});

describe('clientRequestTokenFor', () => {
  it('is the same for the same action and step, different otherwise', () => {
    expect(clientRequestTokenFor(ACTION, 'create')).toBe(clientRequestTokenFor(ACTION, 'create'));
    expect(clientRequestTokenFor(ACTION, 'create')).not.toBe(clientRequestTokenFor(ACTION, 'scaling-down-old'));
    expect(clientRequestTokenFor(ACTION, 'create')).not.toBe(clientRequestTokenFor('other/instance-types/x', 'create'));
    expect(clientRequestTokenFor(ACTION, 'create')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('createReplacementNodegroup', () => {
  it('sends the built request and returns the new nodegroup', async () => {
    eksMock.on(CreateNodegroupCommand).resolves({ nodegroup: { nodegroupName: 'api-spot-ipr-1a2b3c4d', status: 'CREATING' } });
    const old = loadNodegroup('nodegroup-launch-template-spot.json');
    const ng = await createReplacementNodegroup(eks, CLUSTER, old, change(), { actionId: ACTION });
    expect(ng.status).toBe('CREATING');
    const calls = eksMock.commandCalls(CreateNodegroupCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual(replacementNodegroupInput(CLUSTER, old, change(), { actionId: ACTION }));
  });

  it.each([
    ['ResourceInUseException', 'NodeGroup already exists with name api-spot-ipr-1a2b3c4d and cluster name payments-prod'],
    ['InvalidParameterException', 'Launch template lt-0f1e2d3c4b5a69788 has InstanceType set'],
    ['ResourceLimitExceededException', 'Nodegroups per cluster limit exceeded'],
    ['AccessDeniedException', 'User is not authorized to perform: eks:CreateNodegroup'],
  ])('names the operation, cluster and nodegroup on %s', async (code, message) => {
    eksMock.on(CreateNodegroupCommand).rejects(eksError(code, message));
    const err = await createReplacementNodegroup(eks, CLUSTER, loadNodegroup('nodegroup-launch-template-spot.json'), change(), { actionId: ACTION }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AwsCallError);
    expect(err).toMatchObject({ operation: 'eks:CreateNodegroup', code });
    expect((err as Error).message).toBe(
      `eks:CreateNodegroup for nodegroup api-spot-ipr-1a2b3c4d of cluster payments-prod: ${code}: ${message}`,
    );
  });
});

describe('describeNodegroup', () => {
  it('returns the nodegroup', async () => {
    eksMock.on(DescribeNodegroupCommand, { clusterName: CLUSTER, nodegroupName: 'api-spot' }).resolves({ nodegroup: loadNodegroup('nodegroup-launch-template-spot.json') });
    expect((await describeNodegroup(eks, CLUSTER, 'api-spot'))?.nodegroupName).toBe('api-spot');
  });

  it('returns undefined for a nodegroup that does not exist', async () => {
    eksMock.on(DescribeNodegroupCommand).rejects(eksError('ResourceNotFoundException', 'No node group found for name: api-spot-ipr-1a2b3c4d.'));
    await expect(describeNodegroup(eks, CLUSTER, 'api-spot-ipr-1a2b3c4d')).resolves.toBeUndefined();
  });

  it('throws AccessDeniedException as an AwsCallError', async () => {
    eksMock.on(DescribeNodegroupCommand).rejects(eksError('AccessDeniedException', 'not authorized'));
    await expect(describeNodegroup(eks, CLUSTER, 'api-spot')).rejects.toMatchObject({
      name: 'AwsCallError',
      code: 'AccessDeniedException',
      message: 'eks:DescribeNodegroup for nodegroup api-spot of cluster payments-prod: AccessDeniedException: not authorized',
    });
  });
});

describe('scaleNodegroupTo', () => {
  it('sends UpdateNodegroupConfig with the scaling and returns the update id', async () => {
    eksMock.on(UpdateNodegroupConfigCommand).resolves({ update: { id: 'c9b0e0f6-0000-4000-8000-000000000001', status: 'InProgress', type: 'ConfigUpdate' } });
    const id = await scaleNodegroupTo(eks, CLUSTER, 'api-spot', { minSize: 0, desiredSize: 0, maxSize: 10 }, { clientRequestToken: 'tok' });
    expect(id).toBe('c9b0e0f6-0000-4000-8000-000000000001');
    expect(eksMock.commandCalls(UpdateNodegroupConfigCommand)[0]?.args[0].input).toEqual({
      clusterName: CLUSTER,
      nodegroupName: 'api-spot',
      scalingConfig: { minSize: 0, desiredSize: 0, maxSize: 10 },
      clientRequestToken: 'tok',
    });
  });

  it('throws ResourceInUseException as an AwsCallError naming the nodegroup', async () => {
    eksMock.on(UpdateNodegroupConfigCommand).rejects(eksError('ResourceInUseException', 'Nodegroup api-spot is currently being updated'));
    await expect(scaleNodegroupTo(eks, CLUSTER, 'api-spot', { minSize: 0, desiredSize: 0, maxSize: 10 })).rejects.toMatchObject({
      operation: 'eks:UpdateNodegroupConfig',
      code: 'ResourceInUseException',
      message: expect.stringContaining('nodegroup api-spot of cluster payments-prod') as unknown as string,
    });
  });
});

describe('describeUpdate', () => {
  it('asks for the nodegroup update by id', async () => {
    eksMock.on(DescribeUpdateCommand).resolves({ update: { id: 'u-1', status: 'Successful', errors: [] } });
    expect((await describeUpdate(eks, CLUSTER, 'api-spot', 'u-1')).status).toBe('Successful');
    expect(eksMock.commandCalls(DescribeUpdateCommand)[0]?.args[0].input).toEqual({ name: CLUSTER, nodegroupName: 'api-spot', updateId: 'u-1' });
  });
});
