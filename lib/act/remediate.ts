/**
 * The plan-and-act stage of a cycle: per cluster, the effective policy, the planners (least
 * disruptive first: warm targets, CNI subnets, prefix delegation, instance types; lib/plan), the
 * safety gates (lib/plan/gates.ts), and — only where the caller passes `act` (the Lambda
 * functions, never the CLI) — the change itself (lib/act/act.ts and the executors).
 */
import type { Subnet } from '@aws-sdk/client-ec2';
import type { DiagnoseThresholds, Finding } from '../diagnose/types';
import { messageOf } from '../errors';
import type { Inventory, InventorySource } from '../inventory/types';
import type { Usage } from '../measure/types';
import { eniConfigSubnetIds, needsEniConfigs, planEniConfigs, planEniConfigsWith } from '../plan/eni-configs';
import { needsSpareSubnets, planCniSubnets, planCniSubnetsWith, spareSubnetIds } from '../plan/cni-subnets';
import { gateActions, optedIn, planCluster } from '../plan/gates';
import { planInstanceTypes } from '../plan/instance-types';
import { planKarpenterInstanceTypes } from '../plan/karpenter-instance-types';
import { karpenterSubnetIds, karpenterSubnetsPolicy, needsKarpenterSubnets, planKarpenterSubnets, planKarpenterSubnetsWith } from '../plan/karpenter-subnets';
import { planLeakedEnis } from '../plan/leaked-enis';
import { planPrefixDelegation } from '../plan/prefix-delegation';
import { planPrefixRollout } from '../plan/prefix-rollout';
import { planSubnetReservations } from '../plan/subnet-reservations';
import type { ActionKind, ActionPlanner, PlannedAction } from '../plan/types';
import { planWarmTargets } from '../plan/warm-targets';
import { effectivePolicy, type Policy } from '../policy/load';
import { actionPolicyOf, POLICY_KEY, type PolicyMode } from '../policy/types';
import { actOnCluster, type ActContext, type ActDeps, type ActResult } from './act';
import type { ActionLedger, LedgerHistory } from './ledger';

export interface RemediationDeps {
  policy: Policy;
  /** The stage's thresholds; the policy's per-cluster thresholds apply on top. */
  baseThresholds: DiagnoseThresholds;
  /** Reads the policy's spare subnets (they are not cluster subnets yet, so not in the inventory). */
  source: InventorySource;
  /** Action history, locks; without it (the CLI offline) cooldowns and changes in flight are unknown. */
  actions?: ActionLedger;
  /** Present only where changes may be made. */
  act?: ActDeps;
}

export interface ClusterRemediation {
  cluster: string;
  mode: PolicyMode;
  planned: PlannedAction[];
  results: ActResult[];
  /** What limited the plan (history unreadable, spare subnets unreadable...). */
  notes: string[];
}

/** Plans (and where allowed, applies or follows) the remediation of every sampled cluster. */
export async function remediate(
  deps: RemediationDeps,
  usage: Usage,
  inventory: Inventory,
  findings: Finding[],
  now: Date,
): Promise<ClusterRemediation[]> {
  const out: ClusterRemediation[] = [];
  for (const c of usage.clusters) {
    const inv = inventory.clusters.find((x) => x.name === c.name);
    if (!inv) continue;
    const policy = effectivePolicy(deps.policy, c.name, deps.baseThresholds);
    const notes: string[] = [];
    if (policy.mode === 'observe') {
      out.push({ cluster: c.name, mode: policy.mode, planned: [], results: [], notes: ['the policy mode is observe: nothing is planned'] });
      continue;
    }

    let history: LedgerHistory = { lastStartedByKind: {} };
    let historyKnown = true;
    if (deps.actions) {
      try {
        history = await deps.actions.getActionHistory(c.name);
      } catch (err) {
        historyKnown = false;
        notes.push(`the ledger could not be read, so cooldowns and changes in flight are unknown: ${messageOf(err)}`);
      }
    } else {
      notes.push('offline: cooldowns and changes in flight are not known (no ledger)');
    }

    const ctx = {
      usage: historyKnown ? c : { ...c, complete: false, problems: [...c.problems, { source: 'ledger', message: 'the action history could not be read' }] },
      inventory: inv,
      instanceTypes: inventory.instanceTypes,
      findings: findings.filter((f) => f.cluster === c.name),
      policy,
      now,
    };
    // The spare subnets are read fresh, and only when a finding could use them; the ENIConfig
    // subnets (custom networking) likewise, in the same DescribeSubnets.
    let cniPlanner: ActionPlanner = planCniSubnets;
    let eniPlanner: ActionPlanner = planEniConfigs;
    const spareIds = spareSubnetIds(policy);
    const eniIds = eniConfigSubnetIds(policy);
    const wantSpare = policy.actions.cniSubnets.allowed && spareIds.length > 0 && needsSpareSubnets(ctx);
    const wantEni = (policy.actions.eniConfigs?.allowed ?? false) && eniIds.length > 0 && needsEniConfigs(ctx);
    if (wantSpare || wantEni) {
      try {
        const read: Subnet[] = await deps.source.describeSubnetsById([...new Set([...(wantSpare ? spareIds : []), ...(wantEni ? eniIds : [])])]);
        const of = (ids: string[]): Subnet[] => read.filter((s) => ids.includes(s.SubnetId ?? ''));
        if (wantSpare) {
          const spare = of(spareIds);
          cniPlanner = (x) => planCniSubnetsWith(x, spare);
        }
        if (wantEni) {
          const allowListed = of(eniIds);
          eniPlanner = (x) => planEniConfigsWith(x, allowListed);
        }
      } catch (err) {
        if (wantSpare) notes.push(`the policy's spare subnets could not be read: ${messageOf(err)}`);
        if (wantEni) notes.push(`the policy's ENIConfig subnets could not be read: ${messageOf(err)}`);
      }
    }
    // The allow-listed Karpenter subnets likewise (they need not be the cluster's subnets yet).
    let karpenterSubnetsPlanner: ActionPlanner = planKarpenterSubnets;
    const karpenterIds = karpenterSubnetIds(policy);
    if (karpenterSubnetsPolicy(policy).allowed && karpenterIds.length > 0 && needsKarpenterSubnets(ctx)) {
      try {
        const listed: Subnet[] = await deps.source.describeSubnetsById(karpenterIds);
        karpenterSubnetsPlanner = (x) => planKarpenterSubnetsWith(x, listed);
      } catch (err) {
        notes.push(`the policy's Karpenter subnets (actions.karpenterSubnets.subnets) could not be read: ${messageOf(err)}`);
      }
    }
    const planned = planCluster(
      ctx,
      [
        planWarmTargets,
        cniPlanner,
        planPrefixDelegation,
        planPrefixRollout,
        eniPlanner,
        planInstanceTypes,
        planSubnetReservations,
        planLeakedEnis,
        karpenterSubnetsPlanner,
        planKarpenterInstanceTypes,
      ],
      history,
    );
    let results: ActResult[] = [];
    // Changes (and the next step of one in flight) only in apply mode on an opted-in cluster:
    // switching a cluster back to dry-run also stops a replacement between its steps.
    const mayChange = policy.mode === 'apply' && optedIn(inv.cluster);
    if (history.lock && !mayChange) {
      notes.push(`change ${history.lock.actionId} is in flight but is not followed: the cluster is not in apply mode with the opt-in tag`);
    }
    if (deps.act && historyKnown && mayChange) {
      const actCtx: ActContext = {
        dataAt: now,
        allowedKinds: new Set((Object.keys(POLICY_KEY) as ActionKind[]).filter((k) => actionPolicyOf(policy.actions, k).allowed)),
        allowedSubnets: new Set(spareIds),
        excludableSubnets: new Set(policy.actions.cniSubnets.excludableSubnets ?? []),
        reservationSubnets: new Set(policy.actions.subnetReservations?.subnets ?? []),
        ...(policy.actions.subnetReservations ? { reservationBounds: policy.actions.subnetReservations } : {}),
        leakedEnis: { minAgeMinutes: policy.actions.leakedEnis.minAgeMinutes, maxEnisPerAction: policy.actions.leakedEnis.maxEnisPerAction },
        karpenterSubnets: { nodeClasses: new Set(karpenterSubnetsPolicy(policy).nodeClasses), subnets: new Set(karpenterIds) },
        karpenterInstanceTypes: {
          nodePools: new Set(policy.actions.karpenterInstanceTypes?.nodePools ?? []),
          maxCapacityIncreasePercent: policy.actions.karpenterInstanceTypes?.maxCapacityIncreasePercent ?? 0,
        },
        eniConfigSubnets: new Set(eniIds),
        // As the planner chooses them (lib/plan/eni-configs.ts): the policy's groups, else the cluster security group.
        eniConfigSecurityGroups: new Set(
          policy.actions.eniConfigs?.securityGroups ?? (inv.cluster.resourcesVpcConfig?.clusterSecurityGroupId ? [inv.cluster.resourcesVpcConfig.clusterSecurityGroupId] : []),
        ),
        // The gates again, on the history read after taking the lock (lib/act/act.ts).
        regate: (action, fresh) => gateActions(ctx, [action], fresh)[0] ?? { ...action, state: 'blocked', blockedBy: ['the gates dropped it'] },
      };
      try {
        const report = await actOnCluster(deps.act, c.name, planned, history, actCtx);
        results = report.results;
        notes.push(...report.notes);
      } catch (err) {
        notes.push(`acting on the cluster failed: ${messageOf(err)}`);
      }
    }
    out.push({ cluster: c.name, mode: policy.mode, planned, results, notes });
  }
  return out;
}
