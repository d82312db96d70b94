/**
 * The plan-and-act stage with Karpenter: the allow-listed subnets are read fresh (one
 * DescribeSubnets by id, only when an allow-listed node class needs them) and the karpenter-subnets
 * proposal uses them; a failed read is a note, and nothing is steered toward a subnet not read.
 */
import { remediate } from '../../lib/act/remediate';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import type { InventorySource, Subnet } from '../../lib/inventory/types';
import type { Policy } from '../../lib/policy/load';
import { CLUSTER, karpenterCluster, karpenterPolicy, NOW, SPARE_A, TYPES } from '../support/karpenter-cluster';

function setup(read: (ids: string[]) => Promise<Subnet[]>) {
  const { ctx, spare } = karpenterCluster();
  const pc = ctx(karpenterPolicy({ mode: 'dry-run' }));
  const { cluster: _c, ...settings } = karpenterPolicy({ mode: 'dry-run' });
  const policy = { version: 1, default: { ...settings, thresholds: {} }, clusters: {} } as unknown as Policy;
  const calls: string[][] = [];
  const source = {
    describeSubnetsById: (ids: string[]) => {
      calls.push(ids);
      return read(ids).then((x) => (x.length > 0 ? x : [spare]));
    },
  } as unknown as InventorySource;
  return { pc, policy, source, calls };
}

it('reads the allow-listed subnets once and plans the steer toward the one with room (dry-run)', async () => {
  const { pc, policy, source, calls } = setup(() => Promise.resolve([]));
  const [r] = await remediate({ policy, baseThresholds: DEFAULT_THRESHOLDS, source }, { region: 'eu-west-1', collectedAt: NOW.toISOString(), clusters: [pc.usage], failedClusters: [], unknownInstanceTypes: [] }, { region: 'eu-west-1', collectedAt: NOW.toISOString(), clusters: [pc.inventory], failedClusters: [], instanceTypes: TYPES, unknownInstanceTypes: [] }, pc.findings, NOW);
  expect(calls).toEqual([[SPARE_A]]);
  const steer = r?.planned.find((a) => a.kind === 'karpenter-subnets');
  expect([steer?.state, steer?.cluster]).toEqual(['dry-run', CLUSTER]);
  expect(r?.planned.find((a) => a.kind === 'karpenter-instance-types')?.state).toBe('dry-run');
});

it('a failed read of the allow-listed subnets: a note, and no steer', async () => {
  const { pc, policy, source } = setup(() => Promise.reject(new Error('UnauthorizedOperation')));
  const [r] = await remediate({ policy, baseThresholds: DEFAULT_THRESHOLDS, source }, { region: 'eu-west-1', collectedAt: NOW.toISOString(), clusters: [pc.usage], failedClusters: [], unknownInstanceTypes: [] }, { region: 'eu-west-1', collectedAt: NOW.toISOString(), clusters: [pc.inventory], failedClusters: [], instanceTypes: TYPES, unknownInstanceTypes: [] }, pc.findings, NOW);
  expect(r?.notes.join()).toContain('(actions.karpenterSubnets.subnets) could not be read: UnauthorizedOperation');
  expect(r?.planned.some((a) => a.kind === 'karpenter-subnets')).toBe(false);
});
