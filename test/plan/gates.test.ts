import path from 'node:path';
import { gateActions, optedIn, planCluster, updatesInFlight } from '../../lib/plan/gates';
import type { ActionHistory, PlanContext, ProposedAction } from '../../lib/plan/types';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import { measure } from '../../lib/measure/measure';
import { OPT_IN_TAG_KEY, type EffectivePolicy, type PolicyMode } from '../../lib/policy/types';

const NOW = new Date('2026-11-26T12:00:00Z');
let base: PlanContext;

function policy(mode: PolicyMode, over: Partial<EffectivePolicy['actions']> = {}): EffectivePolicy {
  const common = { allowed: true, cooldownMinutes: 60 };
  return {
    cluster: 'payments-prod',
    mode,
    thresholds: DEFAULT_THRESHOLDS,
    actions: {
      warmTargets: { ...common, warmIpTarget: { min: 1, max: 16 }, minimumIpTarget: { min: 0, max: 64 } },
      prefixDelegation: { ...common, cooldownMinutes: 1440, warmPrefixTarget: { min: 0, max: 2 }, maxPods: { min: 1, max: 250 } },
      cniSubnets: { ...common, spareSubnets: [], maxSubnetsPerAction: 1 },
      instanceTypes: { ...common, allowedTypes: ['m6i'], maxInstanceTypes: 2 },
      leakedEnis: { ...common, minAgeMinutes: 60, maxEnisPerAction: 10 },
      ...over,
    },
  };
}

function proposal(kind: ProposedAction['kind'], blockers: string[] = []): ProposedAction {
  return {
    id: `payments-prod/${kind}/x`,
    cluster: 'payments-prod',
    kind,
    subject: 'x',
    reason: 'because',
    findingIds: [],
    change: { type: 'addon-env', set: { WARM_IP_TARGET: '2' }, previous: { WARM_IP_TARGET: '5' } },
    predicted: { text: 'frees 10' },
    blockers,
  };
}

function ctx(mode: PolicyMode, opts: { optIn?: boolean; complete?: boolean; addonStatus?: string; ngStatus?: string; over?: Partial<EffectivePolicy['actions']> } = {}): PlanContext {
  const inventory = structuredClone(base.inventory);
  inventory.cluster.tags = opts.optIn === false ? {} : { [OPT_IN_TAG_KEY]: 'apply' };
  if (opts.addonStatus && inventory.cni.kind === 'managed') inventory.cni.addon.status = opts.addonStatus as never;
  if (opts.ngStatus && inventory.nodegroups[0]) inventory.nodegroups[0].status = opts.ngStatus as never;
  const usage = { ...base.usage, complete: opts.complete ?? true, problems: opts.complete === false ? [{ source: 'ec2:DescribeNetworkInterfaces', message: 'AccessDenied on page 2' }] : [] };
  return { ...base, inventory, usage, policy: policy(mode, opts.over) };
}

const none: ActionHistory = { lastStartedByKind: {} };

beforeAll(async () => {
  const source = await readSnapshot(path.join(__dirname, '..', '..', 'events', 'demo-snapshot'));
  const inventory = await collectInventory(source, { clusterNames: ['payments-prod'], concurrency: 1, now: NOW });
  const usage = measure(inventory);
  base = {
    usage: usage.clusters[0]!,
    inventory: inventory.clusters[0]!,
    instanceTypes: inventory.instanceTypes,
    findings: [],
    policy: policy('apply'),
    now: NOW,
  };
});

describe('gateActions', () => {
  it.each<[string, PolicyMode, Parameters<typeof ctx>[1], ActionHistory, string, RegExp | undefined]>([
    ['apply when every gate passes', 'apply', {}, none, 'apply', undefined],
    ['dry-run in dry-run mode', 'dry-run', {}, none, 'dry-run', /policy mode is dry-run/],
    ['blocked without the opt-in tag in apply mode', 'apply', { optIn: false }, none, 'blocked', /not opted in: tag the EKS cluster eks-ip-responder\/remediation=apply/],
    ['blocked on incomplete data', 'apply', { complete: false }, none, 'blocked', /data incomplete: AccessDenied on page 2/],
    ['blocked while the add-on is updating', 'apply', { addonStatus: 'UPDATING' }, none, 'blocked', /update is in flight: the vpc-cni add-on is UPDATING/],
    ['blocked while a nodegroup is updating', 'apply', { ngStatus: 'UPDATING' }, none, 'blocked', /nodegroup .* is UPDATING/],
    [
      'blocked while one of our changes is in flight',
      'apply',
      {},
      { lastStartedByKind: {}, inFlight: { actionId: 'payments-prod/instance-types/api-m5l', kind: 'instance-types', since: '2026-11-26T11:00:00Z', step: 'creating' } },
      'blocked',
      /change is in flight: payments-prod\/instance-types\/api-m5l \(creating\)/,
    ],
    ['blocked in the cooldown', 'apply', {}, { lastStartedByKind: { 'warm-targets': '2026-11-26T11:30:00.000Z' } }, 'blocked', /cooldown: .* next one from 2026-11-26T12:30:00.000Z/],
    ['apply once the cooldown has passed', 'apply', {}, { lastStartedByKind: { 'warm-targets': '2026-11-26T10:59:00.000Z' } }, 'apply', undefined],
    ['blocked when the policy does not allow it', 'apply', { over: { warmTargets: { allowed: false, cooldownMinutes: 60, warmIpTarget: { min: 1, max: 16 }, minimumIpTarget: { min: 0, max: 64 } } } }, none, 'blocked', /actions.warmTargets.allowed is false/],
  ])('%s', (_name, mode, opts, history, state, reason) => {
    const [planned] = gateActions(ctx(mode, opts), [proposal('warm-targets')], history);
    expect(planned?.state).toBe(state);
    if (reason) expect(planned?.blockedBy.join('\n')).toMatch(reason);
    else expect(planned?.blockedBy).toEqual([]);
  });

  it('plans nothing in observe mode', () => {
    expect(gateActions(ctx('observe'), [proposal('warm-targets')], none)).toEqual([]);
    expect(planCluster(ctx('observe'), [() => [proposal('warm-targets')]], none)).toEqual([]);
  });

  it("keeps the planner's own blockers", () => {
    const [planned] = gateActions(ctx('apply'), [proposal('prefix-delegation', ['m4.xlarge is not Nitro'])], none);
    expect(planned).toMatchObject({ state: 'blocked', blockedBy: ['m4.xlarge is not Nitro'] });
  });

  it('applies one change per cluster per cycle: the first, the next waits', () => {
    const planned = planCluster(ctx('apply'), [() => [proposal('warm-targets')], () => [proposal('cni-subnets')]], none);
    expect(planned.map((p) => p.state)).toEqual(['apply', 'blocked']);
    expect(planned[1]?.blockedBy).toEqual(['one change per cluster per cycle: payments-prod/warm-targets/x goes first']);
  });

  it('names every gate that blocks, not only the first', () => {
    const [planned] = gateActions(ctx('apply', { optIn: false, complete: false }), [proposal('warm-targets', ['bound'])], none);
    expect(planned?.blockedBy).toHaveLength(3);
  });
});

describe('optedIn and updatesInFlight', () => {
  it('reads the opt-in tag exactly', () => {
    expect(optedIn({ tags: { [OPT_IN_TAG_KEY]: 'apply' } })).toBe(true);
    expect(optedIn({ tags: { [OPT_IN_TAG_KEY]: 'yes' } })).toBe(false);
    expect(optedIn({})).toBe(false);
  });

  it('sees nothing in flight on the demo cluster', () => {
    expect(updatesInFlight(ctx('apply'))).toEqual([]);
  });
});
