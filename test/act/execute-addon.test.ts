/**
 * The add-on executor against aws-sdk-client-mock with real EKS answer shapes
 * (test/fixtures/eks/): idempotency, an update in flight, EKS errors, polling and follow().
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeAddonCommand,
  DescribeUpdateCommand,
  EKSClient,
  UpdateAddonCommand,
  type DescribeAddonCommandOutput,
  type DescribeUpdateCommandOutput,
  type UpdateAddonCommandOutput,
} from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { addonEnvExecutor, POLL_INTERVAL_MS } from '../../lib/act/execute-addon';
import type { ActionRecord, ExecuteDeps } from '../../lib/act/types';
import type { AddonEnvChange, PlannedAction } from '../../lib/plan/types';
import { eksError } from '../../tools/mock-aws';

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'eks', name), 'utf8')) as T;
const ADDON = fixture<DescribeAddonCommandOutput>('describe-addon-vpc-cni.json');
const UPDATE = fixture<UpdateAddonCommandOutput>('update-addon.json');
const UPDATE_OK = fixture<DescribeUpdateCommandOutput>('describe-update-successful.json');
const UPDATE_FAILED = fixture<DescribeUpdateCommandOutput>('describe-update-failed.json');
const UPDATE_ID = '0d3a6f9e-5b9c-3c54-8c1e-8b0f2a1e7c11';

const eksMock = mockClient(EKSClient);
beforeEach(() => eksMock.reset());
afterAll(() => eksMock.restore());

function deps(followForMs = 60_000): ExecuteDeps & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    eks: new EKSClient({}),
    ec2: new EC2Client({}),
    now: () => new Date('2026-11-26T10:00:00Z'),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    followForMs,
    sleeps,
  };
}

function action(change: Partial<AddonEnvChange> = {}, kind: PlannedAction['kind'] = 'warm-targets'): PlannedAction {
  return {
    id: `payments-prod/${kind}/vpc-cni`,
    cluster: 'payments-prod',
    kind,
    subject: 'vpc-cni',
    reason: 'test',
    findingIds: [],
    change: { type: 'addon-env', set: { WARM_IP_TARGET: '2', MINIMUM_IP_TARGET: '10' }, previous: {}, ...change },
    predicted: { text: 'test' },
    blockers: [],
    state: 'apply',
    blockedBy: [],
  };
}

const PREFIX_CHANGE: Partial<AddonEnvChange> = {
  set: { ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1' },
  nodeChanges: [{ nodegroup: 'api-m5l', maxPods: 110, note: 'replace the nodes' }],
};

const addonWith = (status: string): DescribeAddonCommandOutput => ({ ...ADDON, addon: { ...ADDON.addon, status: status as 'ACTIVE' } });
const update = (status: string): DescribeUpdateCommandOutput => ({ ...UPDATE_OK, update: { ...UPDATE_OK.update, status: status as 'InProgress' } });

const warm = addonEnvExecutor('warm-targets');
const prefix = addonEnvExecutor('prefix-delegation');

describe('addonEnvExecutor.start', () => {
  it('changes nothing when every key already has its value (no UpdateAddon)', async () => {
    eksMock.on(DescribeAddonCommand).resolves(ADDON);
    const out = await warm.start(action({ set: { WARM_IP_TARGET: '5', MINIMUM_IP_TARGET: '10' } }), deps());
    expect(out.status).toBe('succeeded');
    expect(out.detail).toMatch(/already set/);
    expect(eksMock.commandCalls(UpdateAddonCommand)).toHaveLength(0);
  });

  it('updates when one key differs, then follows InProgress to Successful across polls', async () => {
    eksMock.on(DescribeAddonCommand).resolves(ADDON);
    eksMock.on(UpdateAddonCommand).resolves(UPDATE);
    eksMock.on(DescribeUpdateCommand).resolvesOnce(update('InProgress')).resolvesOnce(update('InProgress')).resolves(UPDATE_OK);
    const d = deps();
    const out = await warm.start(action(), d);
    expect(out).toMatchObject({ status: 'succeeded', reference: UPDATE_ID });
    expect(out.detail).toMatch(/WARM_IP_TARGET=2, MINIMUM_IP_TARGET=10/);
    expect(eksMock.commandCalls(UpdateAddonCommand)).toHaveLength(1);
    expect(eksMock.commandCalls(DescribeUpdateCommand)).toHaveLength(3);
    expect(d.sleeps).toEqual([POLL_INTERVAL_MS, POLL_INTERVAL_MS, POLL_INTERVAL_MS]);
  });

  it('leaves a still running update in progress after followForMs, with the update id', async () => {
    eksMock.on(DescribeAddonCommand).resolves(ADDON);
    eksMock.on(UpdateAddonCommand).resolves(UPDATE);
    eksMock.on(DescribeUpdateCommand).resolves(update('InProgress'));
    const d = deps(12_000);
    const out = await warm.start(action(), d);
    expect(out).toMatchObject({ status: 'in-progress', reference: UPDATE_ID });
    // 12 s at one poll every 5 s: two polls.
    expect(eksMock.commandCalls(DescribeUpdateCommand)).toHaveLength(2);
  });

  it('skips when an add-on update is in flight', async () => {
    eksMock.on(DescribeAddonCommand).resolves(addonWith('UPDATING'));
    const out = await warm.start(action(), deps());
    expect(out.status).toBe('skipped');
    expect(out.detail).toMatch(/an add-on update is in flight/);
    expect(eksMock.commandCalls(UpdateAddonCommand)).toHaveLength(0);
  });

  it('fails on ResourceInUseException naming it, without retrying', async () => {
    eksMock.on(DescribeAddonCommand).resolves(ADDON);
    eksMock.on(UpdateAddonCommand).rejects(eksError('ResourceInUseException', 'Addon vpc-cni is currently being updated'));
    const out = await warm.start(action(), deps());
    expect(out.status).toBe('failed');
    expect(out.detail).toMatch(/ResourceInUseException/);
    expect(out.detail).toMatch(/another update of the add-on is in flight/);
    expect(out.detail.match(/in flight/g)).toHaveLength(1);
    expect(out.detail).toMatch(/Not retried\./);
    expect(eksMock.commandCalls(UpdateAddonCommand)).toHaveLength(1);
  });

  it('fails with EKS’s error messages when the update Failed', async () => {
    eksMock.on(DescribeAddonCommand).resolves(ADDON);
    eksMock.on(UpdateAddonCommand).resolves(UPDATE);
    eksMock.on(DescribeUpdateCommand).resolvesOnce(update('InProgress')).resolves(UPDATE_FAILED);
    const out = await warm.start(action(), deps());
    expect(out).toMatchObject({ status: 'failed', reference: UPDATE_ID });
    expect(out.detail).toMatch(/Failed: ConfigurationConflict: Conflicts found when trying to apply/);
    expect(out.detail).toMatch(/AdmissionRequestDenied: admission webhook "vpc-cni.policy.example" denied the request \[aws-node\]/);
  });

  it('fails, naming it, when the cluster has no managed add-on', async () => {
    eksMock.on(DescribeAddonCommand).rejects(eksError('ResourceNotFoundException', 'No addon: vpc-cni found in cluster: payments-prod'));
    const out = await warm.start(action(), deps());
    expect(out.status).toBe('failed');
    expect(out.detail).toMatch(/no managed vpc-cni add-on/);
    expect(out.detail).toMatch(/kubectl -n kube-system set env daemonset\/aws-node WARM_IP_TARGET=2 MINIMUM_IP_TARGET=10/);
  });

  it('applies nothing for a self-managed aws-node proposal', async () => {
    const out = await warm.start(action({ selfManagedCommand: 'kubectl -n kube-system set env daemonset/aws-node WARM_IP_TARGET=2' }), deps());
    expect(out.status).toBe('skipped');
    expect(eksMock.calls()).toHaveLength(0);
  });

  it('reminds that nodes need replacing for prefix delegation', async () => {
    eksMock.on(DescribeAddonCommand).resolves(ADDON);
    eksMock.on(UpdateAddonCommand).resolves(UPDATE);
    eksMock.on(DescribeUpdateCommand).resolves(UPDATE_OK);
    const out = await prefix.start(action(PREFIX_CHANGE, 'prefix-delegation'), deps());
    expect(out.status).toBe('succeeded');
    expect(out.detail).toMatch(/only when replaced: roll api-m5l \(max pods 110\)/);
    const sent = JSON.parse(eksMock.commandCalls(UpdateAddonCommand)[0]?.args[0].input.configurationValues ?? '{}') as {
      env: Record<string, unknown>;
      nodeAgent?: unknown;
    };
    expect(sent.env).toMatchObject({ ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1', WARM_IP_TARGET: '5' });
    expect(sent.nodeAgent).toEqual({ enablePolicyEventLogs: 'true', healthProbeBindAddr: '8163' });
  });
});

describe('addonEnvExecutor.follow', () => {
  function record(reference?: string): ActionRecord {
    const a = action(PREFIX_CHANGE, 'prefix-delegation');
    return {
      actionId: a.id,
      cluster: a.cluster,
      kind: a.kind,
      change: a.change,
      predicted: a.predicted,
      reason: a.reason,
      startedAt: '2026-11-26T09:50:00.000Z',
      updatedAt: '2026-11-26T09:51:00.000Z',
      status: 'in-progress',
      step: 'update-addon',
      ...(reference ? { reference } : {}),
      history: [],
      version: 1,
    };
  }

  it('asks DescribeUpdate at once and maps Successful', async () => {
    eksMock.on(DescribeUpdateCommand).resolves(UPDATE_OK);
    const d = deps(0);
    const out = await prefix.follow(record(UPDATE_ID), d);
    expect(out).toMatchObject({ status: 'succeeded', reference: UPDATE_ID });
    expect(out.detail).toMatch(/only when replaced/);
    expect(eksMock.commandCalls(DescribeUpdateCommand)[0]?.args[0].input).toMatchObject({ name: 'payments-prod', updateId: UPDATE_ID, addonName: 'vpc-cni' });
    expect(d.sleeps).toEqual([]);
  });

  it('keeps it in progress while EKS says InProgress', async () => {
    eksMock.on(DescribeUpdateCommand).resolves(update('InProgress'));
    await expect(prefix.follow(record(UPDATE_ID), deps(0))).resolves.toMatchObject({ status: 'in-progress', reference: UPDATE_ID });
  });

  it('maps Cancelled to failed', async () => {
    eksMock.on(DescribeUpdateCommand).resolves(update('Cancelled'));
    const out = await prefix.follow(record(UPDATE_ID), deps(0));
    expect(out.status).toBe('failed');
    expect(out.detail).toMatch(/Cancelled/);
  });

  it('names the call when DescribeUpdate fails, and marks it retryable: the update was started, its end is not known', async () => {
    eksMock.on(DescribeUpdateCommand).rejects(eksError('AccessDeniedException', 'not authorized to perform: eks:DescribeUpdate'));
    const out = await prefix.follow(record(UPDATE_ID), deps(0));
    expect(out).toMatchObject({ status: 'failed', retryable: true, reference: UPDATE_ID });
    expect(out.detail).toMatch(/^eks:DescribeUpdate update 0d3a6f9e.* for cluster payments-prod: AccessDeniedException/);
  });

  it('runs the start again for a record without an update id (stopped around UpdateAddon): finds its own write, sends nothing', async () => {
    // UpdateAddon was applied, its answer never recorded: the add-on already carries the values.
    const applied = { ...ADDON, addon: { ...ADDON.addon, configurationValues: JSON.stringify({ env: { ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1' } }) } };
    eksMock.on(DescribeAddonCommand).resolves(applied);
    const out = await prefix.follow(record(), deps(0));
    expect(out).toMatchObject({ status: 'succeeded' });
    expect(out.detail).toMatch(/already set/);
    expect(eksMock.commandCalls(UpdateAddonCommand)).toHaveLength(0);
  });

  it('runs the start again for a record without an update id, and sends UpdateAddon with the token the act loop gives', async () => {
    eksMock.on(DescribeAddonCommand).resolves(ADDON);
    eksMock.on(UpdateAddonCommand).resolves(UPDATE);
    eksMock.on(DescribeUpdateCommand).resolves(UPDATE_OK);
    const intents: unknown[] = [];
    const d = { ...deps(0), intend: async (intent: unknown) => (intents.push(intent), 'token-of-the-record') };
    const out = await prefix.follow(record(), d);
    // Not followed within this call (followForMs 0): the update id is recorded for the next cycle.
    expect(out).toMatchObject({ status: 'in-progress', reference: UPDATE.update?.id });
    expect(intents).toEqual([{ step: 'update-addon', operation: 'eks:UpdateAddon', target: 'vpc-cni of payments-prod' }]);
    expect(eksMock.commandCalls(UpdateAddonCommand)[0]?.args[0].input.clientRequestToken).toBe('token-of-the-record');
  });

  it('marks a throttled DescribeAddon before any write retryable', async () => {
    eksMock.on(DescribeAddonCommand).rejects(eksError('ThrottlingException', 'Rate exceeded'));
    const out = await warm.start(action(), deps(0));
    expect(out).toMatchObject({ status: 'failed', retryable: true });
    expect(eksMock.commandCalls(UpdateAddonCommand)).toHaveLength(0);
  });
});
