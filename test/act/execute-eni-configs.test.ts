/**
 * The custom networking executor: step 1 (ENIConfigs, server-side apply against the in-memory
 * Kubernetes API, dry runs first, never over another spec), step 2 (the env through the add-on,
 * aws-sdk-client-mock with real EKS shapes, or through aws-node), follow() checking both.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeAddonCommand,
  DescribeClusterCommand,
  DescribeUpdateCommand,
  EKSClient,
  UpdateAddonCommand,
  type DescribeAddonCommandOutput,
  type DescribeUpdateCommandOutput,
  type UpdateAddonCommandOutput,
} from '@aws-sdk/client-eks';
import { mockClient } from 'aws-sdk-client-mock';
import { ENI_CONFIGS_STEP, eniConfigRef, eniConfigsExecutor } from '../../lib/act/execute-eni-configs';
import type { ActionRecord, ExecuteDeps, WriteIntent } from '../../lib/act/types';
import type { EniConfigsChange, PlannedAction } from '../../lib/plan/types';
import { CUSTOM_NETWORKING_ENV } from '../../lib/plan/eni-configs';
import { FakeKubeApi } from '../support/fake-kube-api';

const fixture = <T>(name: string): T => JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'eks', name), 'utf8')) as T;
const ADDON = fixture<DescribeAddonCommandOutput>('describe-addon-vpc-cni.json');
const UPDATE = fixture<UpdateAddonCommandOutput>('update-addon.json');
const UPDATE_OK = fixture<DescribeUpdateCommandOutput>('describe-update-successful.json');
const UPDATE_ID = '0d3a6f9e-5b9c-3c54-8c1e-8b0f2a1e7c11';
const CLUSTER = 'payments-prod';
const SG = 'sg-0123456789abcdef0';

const eksMock = mockClient(EKSClient);
beforeEach(() => {
  eksMock.reset();
  eksMock.on(DescribeClusterCommand).resolves({ cluster: { name: CLUSTER, endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', certificateAuthority: { data: 'LS0t' } } });
  eksMock.on(DescribeAddonCommand).resolves(ADDON);
  eksMock.on(UpdateAddonCommand).resolves(UPDATE);
  eksMock.on(DescribeUpdateCommand).resolves(UPDATE_OK);
});
afterAll(() => eksMock.restore());

function deps(kube: FakeKubeApi, followForMs = 0): ExecuteDeps & { intents: Omit<WriteIntent, 'at' | 'token'>[] } {
  const intents: Omit<WriteIntent, 'at' | 'token'>[] = [];
  return {
    eks: new EKSClient({}),
    ec2: new EC2Client({}),
    now: () => new Date('2026-11-26T10:00:00Z'),
    sleep: async () => {},
    followForMs,
    kube: kube.connector(),
    intend: async (i) => {
      intents.push(i);
      return `token-${intents.length}`;
    },
    intents,
  };
}

function action(target?: 'aws-node'): PlannedAction {
  const change: EniConfigsChange = {
    type: 'eni-configs',
    vpcId: 'vpc-05cb6340ff1bbcd88',
    eniConfigs: [
      { name: 'eu-west-1a', subnet: 'subnet-0a00000000000000a', securityGroups: [SG] },
      { name: 'eu-west-1b', subnet: 'subnet-0b00000000000000b', securityGroups: [SG] },
    ],
    env: { type: 'addon-env', set: { ...CUSTOM_NETWORKING_ENV }, previous: {}, ...(target ? { target } : {}) },
    maxPods: [],
  };
  return { id: `${CLUSTER}/eni-configs/vpc-05cb6340ff1bbcd88`, cluster: CLUSTER, kind: 'eni-configs', subject: 'vpc-05cb6340ff1bbcd88', reason: 't', findingIds: [], change, predicted: { text: 't' }, blockers: [], state: 'apply', blockedBy: [] };
}

const record = (a: PlannedAction, extra: Partial<ActionRecord> = {}): ActionRecord => ({
  actionId: a.id,
  cluster: a.cluster,
  kind: a.kind,
  change: a.change,
  predicted: a.predicted,
  reason: a.reason,
  startedAt: '2026-11-26T09:00:00Z',
  updatedAt: '2026-11-26T09:00:00Z',
  status: 'in-progress',
  step: 'start',
  history: [],
  version: 2,
  ...extra,
});

const spec = (k: FakeKubeApi, name: string) => k.object(eniConfigRef(name))?.['spec'];

describe('eniConfigsExecutor', () => {
  it('applies the ENIConfigs (dry runs first), then UpdateAddon with the env; follow checks both', async () => {
    const kube = new FakeKubeApi();
    const d = deps(kube);
    const a = action();
    const out = await eniConfigsExecutor.start(a, d);
    expect(out).toMatchObject({ status: 'in-progress', step: 'update-addon', reference: UPDATE_ID });
    expect(out.detail).toMatch(/^ENIConfigs eu-west-1a \(subnet-0a00000000000000a\), eu-west-1b \(subnet-0b00000000000000b\) applied\./);
    expect(kube.calls.map((c) => `${c.op} ${c.ref}${c.dryRun ? ' (dry run)' : ''}`)).toEqual([
      'get eniconfigs//eu-west-1a',
      'get eniconfigs//eu-west-1b',
      'apply eniconfigs//eu-west-1a (dry run)',
      'apply eniconfigs//eu-west-1b (dry run)',
      'apply eniconfigs//eu-west-1a',
      'apply eniconfigs//eu-west-1b',
    ]);
    expect(kube.calls[4]?.body).toEqual({ spec: { subnet: 'subnet-0a00000000000000a', securityGroups: [SG] } });
    expect(spec(kube, 'eu-west-1b')).toEqual({ subnet: 'subnet-0b00000000000000b', securityGroups: [SG] });
    // Step 1 announced, then step 2, each before its write.
    expect(d.intents.map((i) => `${i.step} ${i.operation}`)).toEqual([`${ENI_CONFIGS_STEP} kube:apply`, 'update-addon eks:UpdateAddon']);
    const sent = JSON.parse(eksMock.commandCalls(UpdateAddonCommand)[0]?.args[0].input.configurationValues ?? '{}') as { env: Record<string, string> };
    expect(sent.env).toMatchObject(CUSTOM_NETWORKING_ENV);

    const done = await eniConfigsExecutor.follow(record(a, { reference: UPDATE_ID, step: 'update-addon' }), d);
    expect(done).toMatchObject({ status: 'succeeded', reference: UPDATE_ID });
    expect(done.detail).toMatch(/^ENIConfigs eu-west-1a, eu-west-1b in place\. vpc-cni add-on of payments-prod updated/);
    expect(kube.changes).toEqual(['eniconfigs/eu-west-1a', 'eniconfigs/eu-west-1b']);
  });

  it('sets the env on a self-managed aws-node by server-side apply', async () => {
    const kube = new FakeKubeApi();
    kube.seedAwsNode({ WARM_ENI_TARGET: '1' });
    const out = await eniConfigsExecutor.start(action('aws-node'), deps(kube));
    expect(out).toMatchObject({ status: 'succeeded', step: 'apply-aws-node' });
    expect(kube.env()).toEqual({ WARM_ENI_TARGET: '1', ...CUSTOM_NETWORKING_ENV });
    expect(kube.changes).toEqual(['eniconfigs/eu-west-1a', 'eniconfigs/eu-west-1b', 'daemonsets/aws-node']);
    expect(eksMock.commandCalls(UpdateAddonCommand)).toHaveLength(0);
  });

  it("never overwrites an ENIConfig with another spec: fails before any write", async () => {
    const kube = new FakeKubeApi();
    kube.seed(eniConfigRef('eu-west-1b'), { spec: { subnet: 'subnet-0c00000000000000c', securityGroups: [SG] } }, [{ path: ['spec', 'subnet'], manager: 'kubectl-client-side-apply' }]);
    const d = deps(kube);
    const out = await eniConfigsExecutor.start(action(), d);
    expect(out).toMatchObject({ status: 'failed', step: ENI_CONFIGS_STEP });
    expect(out.detail).toMatch(/ENIConfig eu-west-1b exists with subnet subnet-0c00000000000000c.*never overwritten/);
    expect(d.intents).toEqual([]);
    expect(kube.changes).toEqual([]);
    expect(spec(kube, 'eu-west-1a')).toBeUndefined();
    expect(eksMock.commandCalls(UpdateAddonCommand)).toHaveLength(0);
  });

  it('re-run with the ENIConfigs in place (same spec) applies nothing more and goes on to the env', async () => {
    const kube = new FakeKubeApi();
    const a = action();
    await eniConfigsExecutor.start(a, deps(kube));
    const applies = kube.calls.filter((c) => c.op === 'apply').length;
    const intent = { step: ENI_CONFIGS_STEP, operation: 'kube:apply', target: 'x', at: '2026-11-26T09:00:00Z' };
    eksMock.on(DescribeAddonCommand).resolves({ ...ADDON, addon: { ...ADDON.addon, configurationValues: JSON.stringify({ env: CUSTOM_NETWORKING_ENV }) } });
    const out = await eniConfigsExecutor.follow(record(a, { intent, wrote: true }), deps(kube));
    expect(out).toMatchObject({ status: 'succeeded' });
    expect(out.detail).toMatch(/ENIConfigs eu-west-1a, eu-west-1b in place\. already set on the vpc-cni add-on/);
    expect(kube.calls.filter((c) => c.op === 'apply').length).toBe(applies);
    expect(eksMock.commandCalls(UpdateAddonCommand)).toHaveLength(1);
  });

  it('stays in progress when the env step cannot begin yet (an add-on update in flight), and does it in the next cycle', async () => {
    const kube = new FakeKubeApi();
    const a = action();
    eksMock.on(DescribeAddonCommand).resolves({ ...ADDON, addon: { ...ADDON.addon, status: 'UPDATING' } });
    const out = await eniConfigsExecutor.start(a, deps(kube));
    expect(out).toMatchObject({ status: 'in-progress' });
    expect(out.detail).toMatch(/applied\. an add-on update is in flight.*tried again in the next cycle/);
    expect(eksMock.commandCalls(UpdateAddonCommand)).toHaveLength(0);
    eksMock.on(DescribeAddonCommand).resolves(ADDON);
    const next = await eniConfigsExecutor.follow(record(a, { step: 'update-addon', wrote: true }), deps(kube));
    expect(next).toMatchObject({ status: 'in-progress', step: 'update-addon', reference: UPDATE_ID });
    expect(eksMock.commandCalls(UpdateAddonCommand)).toHaveLength(1);
    expect(kube.changes).toEqual(['eniconfigs/eu-west-1a', 'eniconfigs/eu-west-1b']);
  });

  it('follow fails when an ENIConfig was deleted since it was applied', async () => {
    const kube = new FakeKubeApi();
    const a = action();
    await eniConfigsExecutor.start(a, deps(kube));
    kube.delete(eniConfigRef('eu-west-1a'));
    const out = await eniConfigsExecutor.follow(record(a, { reference: UPDATE_ID, step: 'update-addon' }), deps(kube));
    expect(out).toMatchObject({ status: 'failed' });
    expect(out.detail).toMatch(/ENIConfig eu-west-1a no longer exists/);
  });

  it('resends the env step when its write was announced and its answer lost', async () => {
    const kube = new FakeKubeApi();
    kube.seedAwsNode({});
    const a = action('aws-node');
    await eniConfigsExecutor.start(a, deps(kube));
    const intent = { step: 'apply-aws-node', operation: 'kube:apply', target: 'x', at: '2026-11-26T09:00:00Z' };
    const out = await eniConfigsExecutor.follow(record(a, { intent, wrote: true }), deps(kube));
    // The apply had landed: nothing applied again, the rollout followed (succeeded, not "already set").
    expect(out).toMatchObject({ status: 'succeeded', reference: 'generation 2' });
    expect(out.detail).toMatch(/applied and rolled out/);
    expect(kube.changes).toEqual(['eniconfigs/eu-west-1a', 'eniconfigs/eu-west-1b', 'daemonsets/aws-node']);
  });
});
