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
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { nodegroupReplacementExecutor as executor, notOurReplacement } from '../../lib/act/execute-nodegroup';
import type { ActionRecord, ExecuteDeps } from '../../lib/act/types';
import type { NodegroupReplacementChange, PlannedAction } from '../../lib/plan/types';
import { clientRequestTokenFor } from '../../lib/keys';
import { eksError } from '../../tools/mock-aws';

const CLUSTER = 'payments-prod';
const OLD = 'api-spot';
const NEW = 'api-spot-ipr-1a2b3c4d';
const ACTION_ID = `${CLUSTER}/instance-types/${OLD}`;
const UPDATE_ID = '5f3d2a10-7c1b-4e8e-9f00-3a2b1c0d9e8f';

const eksMock = mockClient(EKSClient);
const deps: ExecuteDeps = {
  eks: new EKSClient({}),
  ec2: new EC2Client({}),
  now: () => new Date('2026-11-20T10:00:00.000Z'),
  sleep: () => Promise.resolve(),
  followForMs: 0,
};

function oldNodegroup(over: Partial<Nodegroup> = {}): Nodegroup {
  const doc = JSON.parse(readFileSync(join(__dirname, '../fixtures/eks/nodegroup-launch-template-spot.json'), 'utf8')) as { nodegroup: Nodegroup };
  return { ...doc.nodegroup, ...over };
}

function newNodegroup(status: Nodegroup['status'], over: Partial<Nodegroup> = {}): Nodegroup {
  return {
    ...oldNodegroup(),
    nodegroupName: NEW,
    status,
    instanceTypes: ['m7i.xlarge', 'm7a.xlarge'],
    scalingConfig: { minSize: 2, maxSize: 10, desiredSize: 4 },
    tags: { ...oldNodegroup().tags, 'eks-ip-responder/replaces': OLD },
    ...over,
  };
}

const CHANGE: NodegroupReplacementChange = {
  type: 'replace-nodegroup',
  nodegroup: OLD,
  newNodegroup: NEW,
  fromInstanceTypes: ['m5.large', 'm5a.large', 'm6i.large'],
  toInstanceTypes: ['m7i.xlarge', 'm7a.xlarge'],
  ranking: [],
  scaling: { minSize: 2, maxSize: 10, desiredSize: 4 },
};

const ACTION: PlannedAction = {
  id: ACTION_ID,
  cluster: CLUSTER,
  kind: 'instance-types',
  subject: OLD,
  reason: 'test',
  findingIds: [`${CLUSTER}/eni-limit/${OLD}`],
  change: CHANGE,
  predicted: { text: 'test' },
  blockers: [],
  state: 'apply',
  blockedBy: [],
};

function record(step: string, reference?: string): ActionRecord {
  return {
    actionId: ACTION_ID,
    cluster: CLUSTER,
    kind: 'instance-types',
    change: CHANGE,
    predicted: { text: 'test' },
    reason: 'test',
    startedAt: '2026-11-20T09:00:00.000Z',
    updatedAt: '2026-11-20T09:30:00.000Z',
    status: 'in-progress',
    step,
    ...(reference ? { reference } : {}),
    history: [],
    version: 1,
  };
}

/** DescribeNodegroup answers per nodegroup; `undefined` = ResourceNotFoundException. */
function nodegroups(answers: { old?: Nodegroup; new?: Nodegroup }): void {
  eksMock.on(DescribeNodegroupCommand, { nodegroupName: OLD }).callsFake(() => {
    if (!answers.old) throw eksError('ResourceNotFoundException', `No node group found for name: ${OLD}.`);
    return { nodegroup: answers.old };
  });
  eksMock.on(DescribeNodegroupCommand, { nodegroupName: NEW }).callsFake(() => {
    if (!answers.new) throw eksError('ResourceNotFoundException', `No node group found for name: ${NEW}.`);
    return { nodegroup: answers.new };
  });
}

const creates = (): number => eksMock.commandCalls(CreateNodegroupCommand).length;
const scaleDowns = (): number => eksMock.commandCalls(UpdateNodegroupConfigCommand).length;

beforeEach(() => {
  eksMock.reset();
  eksMock.on(UpdateNodegroupConfigCommand).resolves({ update: { id: UPDATE_ID, status: 'InProgress', type: 'ConfigUpdate' } });
});

describe('start', () => {
  it('creates the new nodegroup and stops there, even when CreateNodegroup answers ACTIVE', async () => {
    nodegroups({ old: oldNodegroup() });
    // An answer that would tempt a follow-through: the old one must still not be touched in this call.
    eksMock.on(CreateNodegroupCommand).resolves({ nodegroup: newNodegroup('ACTIVE') });
    const out = await executor.start(ACTION, deps);
    expect(out).toMatchObject({ actionId: ACTION_ID, status: 'in-progress', step: 'creating', reference: NEW });
    expect(creates()).toBe(1);
    expect(scaleDowns()).toBe(0);
    const input = eksMock.commandCalls(CreateNodegroupCommand)[0]?.args[0].input;
    expect(input?.nodegroupName).toBe(NEW);
    expect(input?.instanceTypes).toEqual(['m7i.xlarge', 'm7a.xlarge']);
    expect(input?.clientRequestToken).toBe(clientRequestTokenFor(ACTION_ID, 'create'));
    expect(input?.tags?.['eks-ip-responder/replaces']).toBe(OLD);
  });

  it('starts the new nodegroup at the old one’s desired size when it grew since the plan', async () => {
    nodegroups({ old: oldNodegroup({ scalingConfig: { minSize: 2, maxSize: 10, desiredSize: 7 } }) });
    eksMock.on(CreateNodegroupCommand).resolves({ nodegroup: newNodegroup('CREATING') });
    await executor.start(ACTION, deps);
    expect(eksMock.commandCalls(CreateNodegroupCommand)[0]?.args[0].input.scalingConfig).toEqual({ minSize: 2, maxSize: 10, desiredSize: 7 });
  });

  it('creates nothing when the new nodegroup exists already (idempotent)', async () => {
    nodegroups({ old: oldNodegroup(), new: newNodegroup('CREATING') });
    const out = await executor.start(ACTION, deps);
    expect(out).toMatchObject({ status: 'in-progress', step: 'creating', reference: NEW });
    expect(out.detail).toMatch(/exists already/);
    expect(creates()).toBe(0);
    expect(scaleDowns()).toBe(0);
  });

  it('goes on with the scale-down when the existing new nodegroup is ACTIVE (it was not created in this call)', async () => {
    nodegroups({ old: oldNodegroup(), new: newNodegroup('ACTIVE') });
    const out = await executor.start(ACTION, deps);
    expect(out).toMatchObject({ status: 'in-progress', step: 'scaling-down-old', reference: UPDATE_ID });
    expect(creates()).toBe(0);
    expect(scaleDowns()).toBe(1);
  });

  it('changes nothing when the old nodegroup is not ACTIVE', async () => {
    nodegroups({ old: oldNodegroup({ status: 'UPDATING' }) });
    const out = await executor.start(ACTION, deps);
    expect(out).toMatchObject({ status: 'skipped' });
    expect(out.detail).toMatch(/UPDATING/);
    expect(creates()).toBe(0);
  });

  it('fails with the error named when CreateNodegroup is denied', async () => {
    nodegroups({ old: oldNodegroup() });
    eksMock.on(CreateNodegroupCommand).rejects(eksError('AccessDeniedException', 'not authorized to perform: eks:CreateNodegroup'));
    const out = await executor.start(ACTION, deps);
    expect(out).toMatchObject({ status: 'failed', step: 'start' });
    // A refusal means nothing was created: not retried as if its answer were lost.
    expect(out.retryable).toBeFalsy();
    expect(out.detail).toMatch(/eks:CreateNodegroup for nodegroup api-spot-ipr-1a2b3c4d of cluster payments-prod: AccessDeniedException/);
    expect(scaleDowns()).toBe(0);
  });

  it('treats ResourceInUseException from a concurrent create of the same replacement as created', async () => {
    let described = 0;
    eksMock.on(DescribeNodegroupCommand, { nodegroupName: OLD }).resolves({ nodegroup: oldNodegroup() });
    eksMock.on(DescribeNodegroupCommand, { nodegroupName: NEW }).callsFake(() => {
      described += 1;
      if (described === 1) throw eksError('ResourceNotFoundException', 'No node group found');
      return { nodegroup: newNodegroup('CREATING') };
    });
    eksMock.on(CreateNodegroupCommand).rejects(eksError('ResourceInUseException', 'NodeGroup already exists'));
    const out = await executor.start(ACTION, deps);
    expect(out).toMatchObject({ status: 'in-progress', step: 'creating', reference: NEW });
    expect(scaleDowns()).toBe(0);
  });

  it('refuses a change of another kind', async () => {
    const wrong = { ...ACTION, change: { type: 'tag-subnets', subnetIds: [], tag: { key: 'k', value: 'v' } } } as PlannedAction;
    await expect(executor.start(wrong, deps)).rejects.toThrow(TypeError);
  });
});

describe('follow, step creating', () => {
  it('waits while the new nodegroup is CREATING', async () => {
    nodegroups({ old: oldNodegroup(), new: newNodegroup('CREATING') });
    const out = await executor.follow(record('creating', NEW), deps);
    expect(out).toMatchObject({ status: 'in-progress', step: 'creating', reference: NEW });
    expect(scaleDowns()).toBe(0);
  });

  it('fails with the health issues on CREATE_FAILED and never scales the old one down', async () => {
    nodegroups({
      old: oldNodegroup(),
      new: newNodegroup('CREATE_FAILED', {
        health: {
          issues: [
            { code: 'NodeCreationFailure', message: 'Instances failed to join the kubernetes cluster', resourceIds: ['i-0a1b2c3d4e5f60718'] },
          ],
        },
      }),
    });
    const out = await executor.follow(record('creating', NEW), deps);
    expect(out.status).toBe('failed');
    expect(out.detail).toContain('NodeCreationFailure: Instances failed to join the kubernetes cluster (i-0a1b2c3d4e5f60718)');
    expect(out.detail).toContain('api-spot was not scaled down');
    expect(scaleDowns()).toBe(0);
  });

  it('scales the old nodegroup to min 0 / desired 0 once the new one is ACTIVE', async () => {
    nodegroups({ old: oldNodegroup(), new: newNodegroup('ACTIVE') });
    const out = await executor.follow(record('creating', NEW), deps);
    expect(out).toMatchObject({ status: 'in-progress', step: 'scaling-down-old', reference: UPDATE_ID });
    const calls = eksMock.commandCalls(UpdateNodegroupConfigCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      clusterName: CLUSTER,
      nodegroupName: OLD,
      scalingConfig: { minSize: 0, desiredSize: 0, maxSize: 10 },
      clientRequestToken: clientRequestTokenFor(ACTION_ID, 'scaling-down-old'),
    });
    // One step per call: the update is not followed in the same call.
    expect(eksMock.commandCalls(DescribeUpdateCommand)).toHaveLength(0);
  });

  it('fails rather than scale down when the new nodegroup is smaller than what was running', async () => {
    nodegroups({
      old: oldNodegroup({ scalingConfig: { minSize: 2, maxSize: 10, desiredSize: 6 } }),
      new: newNodegroup('ACTIVE', { scalingConfig: { minSize: 2, maxSize: 10, desiredSize: 4 } }),
    });
    const out = await executor.follow(record('creating', NEW), deps);
    expect(out.status).toBe('failed');
    expect(out.detail).toMatch(/new nodegroup smaller than the capacity that was running: api-spot-ipr-1a2b3c4d desired 4 < 6/);
    expect(scaleDowns()).toBe(0);
  });

  it('fails with the error when UpdateNodegroupConfig answers ResourceInUseException; the old one keeps its size', async () => {
    nodegroups({ old: oldNodegroup(), new: newNodegroup('ACTIVE') });
    eksMock.on(UpdateNodegroupConfigCommand).rejects(eksError('ResourceInUseException', 'Nodegroup api-spot is currently being updated'));
    const out = await executor.follow(record('creating', NEW), deps);
    expect(out).toMatchObject({ status: 'failed', step: 'creating' });
    expect(out.detail).toMatch(/eks:UpdateNodegroupConfig for nodegroup api-spot of cluster payments-prod: ResourceInUseException/);
    expect(out.reference).toBeUndefined();
  });

  it('fails when the new nodegroup has gone', async () => {
    nodegroups({ old: oldNodegroup() });
    const out = await executor.follow(record('creating', NEW), deps);
    expect(out.status).toBe('failed');
    expect(scaleDowns()).toBe(0);
  });
});

describe('follow, step scaling-down-old', () => {
  it('succeeds when the update is Successful and leaves the old nodegroup for the operator to delete', async () => {
    eksMock.on(DescribeUpdateCommand, { name: CLUSTER, nodegroupName: OLD, updateId: UPDATE_ID }).resolves({ update: { id: UPDATE_ID, status: 'Successful', errors: [] } });
    const out = await executor.follow(record('scaling-down-old', UPDATE_ID), deps);
    expect(out).toMatchObject({ status: 'succeeded', step: 'done' });
    expect(out.detail).toContain('kept at 0 nodes');
    expect(out.detail).toContain('aws eks delete-nodegroup --cluster-name payments-prod --nodegroup-name api-spot');
    expect(creates() + scaleDowns()).toBe(0);
  });

  it('waits while the update is InProgress', async () => {
    eksMock.on(DescribeUpdateCommand).resolves({ update: { id: UPDATE_ID, status: 'InProgress' } });
    expect(await executor.follow(record('scaling-down-old', UPDATE_ID), deps)).toMatchObject({ status: 'in-progress', step: 'scaling-down-old', reference: UPDATE_ID });
  });

  it('fails with the update errors when it Failed', async () => {
    eksMock.on(DescribeUpdateCommand).resolves({
      update: { id: UPDATE_ID, status: 'Failed', errors: [{ errorCode: 'PodEvictionFailure', errorMessage: 'Reached max retries while trying to evict pods from nodes', resourceIds: [OLD] }] },
    });
    const out = await executor.follow(record('scaling-down-old', UPDATE_ID), deps);
    expect(out.status).toBe('failed');
    expect(out.detail).toContain('PodEvictionFailure: Reached max retries while trying to evict pods from nodes');
  });
});

describe('the whole replacement, one step per call', () => {
  it('creates, waits, scales down, then succeeds — never two steps in one call', async () => {
    const state: { old: Nodegroup; new?: Nodegroup } = { old: oldNodegroup() };
    nodegroups(state);
    eksMock.on(CreateNodegroupCommand).callsFake(() => {
      state.new = newNodegroup('CREATING');
      return { nodegroup: state.new };
    });
    eksMock.on(DescribeUpdateCommand).resolves({ update: { id: UPDATE_ID, status: 'Successful' } });

    const steps: { status: string; step?: string; creates: number; scaleDowns: number }[] = [];
    const note = (o: { status: string; step?: string }): void => {
      steps.push({ status: o.status, step: o.step, creates: creates(), scaleDowns: scaleDowns() });
    };

    let out = await executor.start(ACTION, deps);
    note(out);
    out = await executor.follow(record(out.step ?? '', out.reference), deps);
    note(out);
    state.new = newNodegroup('ACTIVE');
    out = await executor.follow(record(out.step ?? '', out.reference), deps);
    note(out);
    out = await executor.follow(record(out.step ?? '', out.reference), deps);
    note(out);

    expect(steps).toEqual([
      { status: 'in-progress', step: 'creating', creates: 1, scaleDowns: 0 },
      { status: 'in-progress', step: 'creating', creates: 1, scaleDowns: 0 },
      { status: 'in-progress', step: 'scaling-down-old', creates: 1, scaleDowns: 1 },
      { status: 'succeeded', step: 'done', creates: 1, scaleDowns: 1 },
    ]);
  });
});

describe('a nodegroup under the planned name that is not this replacement (someone else’s)', () => {
  const foreign = newNodegroup('ACTIVE', { tags: { team: 'payments' } });

  it('is never taken for the replacement when found before creating: quarantined, neither nodegroup touched', async () => {
    nodegroups({ old: oldNodegroup(), new: foreign });
    const out = await executor.start(ACTION, deps);
    expect(out).toMatchObject({ status: 'quarantined' });
    expect(out.detail).toMatch(/exists but is not this replacement: it carries eks-ip-responder\/replaces=\(absent\), not api-spot/);
    expect(creates() + scaleDowns()).toBe(0);
  });

  it('is never taken when it appears between the check and CreateNodegroup (the name clash path)', async () => {
    let looks = 0;
    eksMock.on(DescribeNodegroupCommand, { nodegroupName: OLD }).resolves({ nodegroup: oldNodegroup() });
    eksMock.on(DescribeNodegroupCommand, { nodegroupName: NEW }).callsFake(() => {
      if (looks++ === 0) throw eksError('ResourceNotFoundException', `No node group found for name: ${NEW}.`);
      return { nodegroup: foreign };
    });
    eksMock.on(CreateNodegroupCommand).rejects(eksError('ResourceInUseException', `NodeGroup already exists with name ${NEW}`));
    const out = await executor.start(ACTION, deps);
    expect(out.status).toBe('quarantined');
    expect(scaleDowns()).toBe(0);
  });

  it('is never followed: a replacement whose new nodegroup lost its tag is quarantined before the old one is scaled down', async () => {
    nodegroups({ old: oldNodegroup(), new: foreign });
    const out = await executor.follow(record('creating', NEW), deps);
    expect(out.status).toBe('quarantined');
    expect(scaleDowns()).toBe(0);
  });

  it('sends the create with the act loop’s token, recorded first', async () => {
    nodegroups({ old: oldNodegroup({ status: 'ACTIVE' }) });
    eksMock.on(CreateNodegroupCommand).resolves({ nodegroup: newNodegroup('CREATING') });
    const intents: unknown[] = [];
    const out = await executor.start(ACTION, { ...deps, intend: async (i) => (intents.push(i), 'tok-1') });
    expect(out.status).toBe('in-progress');
    expect(intents).toEqual([{ step: 'start', operation: 'eks:CreateNodegroup', target: `nodegroup ${NEW} of ${CLUSTER}` }]);
    expect(eksMock.commandCalls(CreateNodegroupCommand)[0]?.args[0].input.clientRequestToken).toBe('tok-1');
  });

  it('runs the start again for a record left at step start: finds its own nodegroup and carries on, creating nothing', async () => {
    nodegroups({ old: oldNodegroup(), new: newNodegroup('CREATING') });
    const out = await executor.follow(record('start'), deps);
    expect(out).toMatchObject({ status: 'in-progress', step: 'creating' });
    expect(creates()).toBe(0);
  });
});

describe('notOurReplacement', () => {
  it.each<[string, Partial<Nodegroup>, Partial<NodegroupReplacementChange>, RegExp | undefined]>([
    ['ours: tagged as replacing the old one', {}, {}, undefined],
    ['untagged', { tags: { team: 'payments' } }, {}, /carries eks-ip-responder\/replaces=\(absent\), not api-spot/],
    ['tagged for another nodegroup', { tags: { 'eks-ip-responder/replaces': 'web' } }, {}, /carries eks-ip-responder\/replaces=web, not api-spot/],
    ['a plan whose replacement has the old one’s name', {}, { newNodegroup: OLD }, /the replacement's name api-spot is the nodegroup it replaces/],
    ['the old nodegroup itself, answered under the new name', { nodegroupName: OLD }, {}, /the replacement's name api-spot-ipr-1a2b3c4d is the nodegroup it replaces/],
  ])('%s', (_name, found, change, why) => {
    const answer = notOurReplacement(newNodegroup('ACTIVE', found), { ...CHANGE, ...change });
    if (why) expect(answer).toMatch(why);
    else expect(answer).toBeUndefined();
  });
});

describe('start, the less travelled paths', () => {
  it.each<[string, string, boolean]>([
    ['throttled: retryable', 'ThrottlingException', true],
    ['denied: not retryable', 'AccessDeniedException', false],
  ])('answers a failed DescribeNodegroup as failed at step start, %s, creating nothing', async (_name, code, retryable) => {
    eksMock.on(DescribeNodegroupCommand).rejects(eksError(code, 'no'));
    const out = await executor.start(ACTION, deps);
    expect(out).toMatchObject({ status: 'failed', step: 'start', retryable });
    expect(out.detail).toMatch(new RegExp(`eks:DescribeNodegroup for nodegroup ${NEW} of cluster ${CLUSTER}: ${code}`));
    expect(creates()).toBe(0);
  });

  it('fails, creating nothing, when the old nodegroup has gone', async () => {
    nodegroups({});
    const out = await executor.start(ACTION, deps);
    expect(out).toEqual({ actionId: ACTION_ID, status: 'failed', step: 'creating', detail: `nodegroup ${OLD} of cluster ${CLUSTER} no longer exists; nothing created` });
    expect(creates()).toBe(0);
  });

  it('skips an old nodegroup of unknown status', async () => {
    nodegroups({ old: oldNodegroup({ status: undefined }) });
    expect(await executor.start(ACTION, deps)).toEqual({ actionId: ACTION_ID, status: 'skipped', detail: `nodegroup ${OLD} is of unknown status, not ACTIVE; nothing created` });
    expect(creates()).toBe(0);
  });

  it.each<[string, Nodegroup['scalingConfig'], { minSize: number; maxSize: number; desiredSize: number }]>([
    ['without a scaling config: the plan’s sizes', undefined, { minSize: 2, maxSize: 10, desiredSize: 4 }],
    ['grown above the plan’s maximum: the maximum follows', { minSize: 2, maxSize: 20, desiredSize: 12 }, { minSize: 2, maxSize: 12, desiredSize: 12 }],
  ])('sizes the new nodegroup from an old one %s', async (_name, scalingConfig, expected) => {
    nodegroups({ old: oldNodegroup({ scalingConfig }) });
    eksMock.on(CreateNodegroupCommand).resolves({ nodegroup: newNodegroup('CREATING') });
    await executor.start(ACTION, deps);
    expect(eksMock.commandCalls(CreateNodegroupCommand)[0]?.args[0].input.scalingConfig).toEqual(expected);
  });

  it('fails at step start when the name is taken but the nodegroup is gone when looked at again', async () => {
    nodegroups({ old: oldNodegroup() });
    eksMock.on(CreateNodegroupCommand).rejects(eksError('ResourceInUseException', 'NodeGroup already exists'));
    const out = await executor.start(ACTION, deps);
    expect(out).toMatchObject({ status: 'failed', step: 'start', retryable: false });
    expect(out.detail).toMatch(/eks:CreateNodegroup for nodegroup api-spot-ipr-1a2b3c4d of cluster payments-prod: ResourceInUseException/);
    expect(scaleDowns()).toBe(0);
  });

  it('takes a raced nodegroup of unknown status for the replacement being created', async () => {
    let looks = 0;
    eksMock.on(DescribeNodegroupCommand, { nodegroupName: OLD }).resolves({ nodegroup: oldNodegroup() });
    eksMock.on(DescribeNodegroupCommand, { nodegroupName: NEW }).callsFake(() => {
      if (looks++ === 0) throw eksError('ResourceNotFoundException', 'No node group found');
      return { nodegroup: newNodegroup(undefined) };
    });
    eksMock.on(CreateNodegroupCommand).rejects(eksError('ResourceInUseException', 'NodeGroup already exists'));
    expect(await executor.start(ACTION, deps)).toEqual({
      actionId: ACTION_ID,
      status: 'in-progress',
      step: 'creating',
      reference: NEW,
      detail: `nodegroup ${NEW} exists already (?)`,
    });
  });

  it('throws, creating nothing, when the old nodegroup cannot be copied (no node role): not an AWS failure', async () => {
    nodegroups({ old: oldNodegroup({ nodeRole: undefined }) });
    await expect(executor.start(ACTION, deps)).rejects.toThrow(`nodegroup ${OLD} of cluster ${CLUSTER} has no nodeRole`);
    expect(creates()).toBe(0);
  });

  it('sends nothing when the intent cannot be recorded: the error goes to the act loop', async () => {
    nodegroups({ old: oldNodegroup() });
    const lost = new Error('the ledger refused the intent');
    await expect(executor.start(ACTION, { ...deps, intend: () => Promise.reject(lost) })).rejects.toBe(lost);
    expect(creates()).toBe(0);
  });
});

describe('follow, step creating, the less travelled paths', () => {
  it.each<[string, boolean | undefined, string, boolean]>([
    ['throttled, nothing written: retryable', undefined, 'ThrottlingException', true],
    ['denied, nothing written: not retryable', undefined, 'AccessDeniedException', false],
    ['denied after a write: retryable (the write’s end is not known)', true, 'AccessDeniedException', true],
  ])('answers a failed DescribeNodegroup as failed, %s', async (_name, wrote, code, retryable) => {
    eksMock.on(DescribeNodegroupCommand).rejects(eksError(code, 'no'));
    const out = await executor.follow({ ...record('creating', NEW), ...(wrote !== undefined ? { wrote } : {}) }, deps);
    expect(out).toMatchObject({ status: 'failed', step: 'creating', retryable });
    expect(scaleDowns()).toBe(0);
  });

  it.each<[string, Partial<Nodegroup>, string]>([
    ['of unknown status, without health', { status: undefined, health: undefined }, `nodegroup ${NEW} is of unknown status; ${OLD} was not scaled down`],
    [
      'failed, with health issues that leave out their code, message or resources',
      { status: 'CREATE_FAILED', health: { issues: [{}, { code: 'AccessDenied', resourceIds: [] }] } },
      `nodegroup ${NEW} is CREATE_FAILED: ?: ; AccessDenied: ; ${OLD} was not scaled down`,
    ],
  ])('fails on a new nodegroup %s', async (_name, over, detail) => {
    nodegroups({ old: oldNodegroup(), new: newNodegroup('ACTIVE', over) });
    expect(await executor.follow(record('creating', NEW), deps)).toEqual({ actionId: ACTION_ID, status: 'failed', step: 'creating', reference: NEW, detail });
    expect(scaleDowns()).toBe(0);
  });

  it('fails when the new nodegroup is ACTIVE but the old one has gone', async () => {
    nodegroups({ new: newNodegroup('ACTIVE') });
    expect(await executor.follow(record('creating', NEW), deps)).toEqual({
      actionId: ACTION_ID,
      status: 'failed',
      step: 'creating',
      reference: NEW,
      detail: `nodegroup ${NEW} is ACTIVE but ${OLD} no longer exists`,
    });
    expect(scaleDowns()).toBe(0);
  });

  it('succeeds without a scale-down when the old nodegroup is at 0 already', async () => {
    nodegroups({ old: oldNodegroup({ scalingConfig: { minSize: 0, maxSize: 10, desiredSize: 0 } }), new: newNodegroup('ACTIVE') });
    const out = await executor.follow(record('creating', NEW), deps);
    expect(out).toMatchObject({ status: 'succeeded', step: 'done', reference: NEW });
    expect(out.detail).toMatch(/^api-spot is at 0 nodes already; api-spot is kept at 0 nodes/);
    expect(scaleDowns()).toBe(0);
  });

  it.each<[string, Nodegroup['scalingConfig'], number]>([
    ['at 0 (perhaps by that scale-down)', { minSize: 0, maxSize: 10, desiredSize: 0 }, 10],
    ['without a scaling config', undefined, 1],
  ])('sends its own unanswered scale-down again, with the same token, to an old nodegroup %s', async (_name, scalingConfig, maxSize) => {
    nodegroups({ old: oldNodegroup({ scalingConfig }), new: newNodegroup('ACTIVE') });
    const intent = { step: 'scaling-down-old', operation: 'eks:UpdateNodegroupConfig', target: `nodegroup ${OLD} of ${CLUSTER} to 0`, at: '2026-11-20T09:40:00.000Z' };
    const out = await executor.follow({ ...record('creating', NEW), intent }, deps);
    expect(out).toMatchObject({ status: 'in-progress', step: 'scaling-down-old', reference: UPDATE_ID });
    expect(eksMock.commandCalls(UpdateNodegroupConfigCommand).map((c) => c.args[0].input)).toEqual([
      { clusterName: CLUSTER, nodegroupName: OLD, scalingConfig: { minSize: 0, desiredSize: 0, maxSize }, clientRequestToken: clientRequestTokenFor(ACTION_ID, 'scaling-down-old') },
    ]);
  });

  it('fails rather than scale down when the new nodegroup reports no scaling config (taken as 0 nodes)', async () => {
    nodegroups({ old: oldNodegroup(), new: newNodegroup('ACTIVE', { scalingConfig: undefined }) });
    const out = await executor.follow(record('creating', NEW), deps);
    expect(out.status).toBe('failed');
    expect(out.detail).toMatch(/new nodegroup smaller than the capacity that was running: api-spot-ipr-1a2b3c4d desired 0 < 4/);
    expect(scaleDowns()).toBe(0);
  });
});

describe('follow, step scaling-down-old, the less travelled paths', () => {
  it('fails without an update id to follow, calling nothing', async () => {
    expect(await executor.follow(record('scaling-down-old'), deps)).toEqual({
      actionId: ACTION_ID,
      status: 'failed',
      step: 'scaling-down-old',
      detail: `no update id recorded for the scale-down of ${OLD}`,
    });
    expect(eksMock.calls()).toHaveLength(0);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['Cancelled, without errors', { status: 'Cancelled' }, 'failed', `scale-down of ${OLD} Cancelled; ${NEW} is running`],
    ['Failed, with an error that leaves out its code and message', { status: 'Failed', errors: [{}] }, 'failed', `scale-down of ${OLD} Failed: ?: ; ${NEW} is running`],
    ['of no status', {}, 'in-progress', `scale-down of ${OLD} is in progress (update ${UPDATE_ID})`],
  ])('answers an update %s', async (_name, update, status, detail) => {
    eksMock.on(DescribeUpdateCommand).resolves({ update: { id: UPDATE_ID, ...update } });
    expect(await executor.follow(record('scaling-down-old', UPDATE_ID), deps)).toEqual({ actionId: ACTION_ID, status, step: 'scaling-down-old', reference: UPDATE_ID, detail });
  });

  it('answers a failed DescribeUpdate as retryable, whatever the error: the scale-down was sent', async () => {
    eksMock.on(DescribeUpdateCommand).rejects(eksError('AccessDeniedException', 'not authorized to perform: eks:DescribeUpdate'));
    const out = await executor.follow(record('scaling-down-old', UPDATE_ID), deps);
    expect(out).toMatchObject({ status: 'failed', step: 'scaling-down-old', retryable: true });
    expect(out.detail).toMatch(/eks:DescribeUpdate for nodegroup api-spot of cluster payments-prod: AccessDeniedException/);
  });
});

describe('follow, other steps', () => {
  it('answers a record at step done as succeeded, calling nothing', async () => {
    const out = await executor.follow(record('done', UPDATE_ID), deps);
    expect(out).toMatchObject({ actionId: ACTION_ID, status: 'succeeded', step: 'done', reference: UPDATE_ID });
    expect(out.detail).toMatch(/^api-spot is kept at 0 nodes/);
    expect(eksMock.calls()).toHaveLength(0);
  });

  it('fails a record at a step it does not know, calling nothing', async () => {
    expect(await executor.follow(record('draining'), deps)).toEqual({ actionId: ACTION_ID, status: 'failed', step: 'draining', detail: `unknown step draining of action ${ACTION_ID}` });
    expect(eksMock.calls()).toHaveLength(0);
  });
});
