/**
 * The EC2 API rate ipamd spends under given warm targets: a model, per node and
 * summed over a cluster, of the AssignPrivateIpAddresses / UnassignPrivateIpAddresses calls its
 * pool loop makes under pod churn. Pure. Assumptions and sources: docs/models.md, "ipamd's EC2 API rate".
 */
import type { IpamdConfig } from './types';

/**
 * ipamd's loop (aws/amazon-vpc-cni-k8s@b52188387f2e2f10bf289ace929d6a63b176a4fa pkg/ipamd/ipamd.go
 * `StartNodeIPPoolManager`): `updateIPPoolIfRequired` every `ipPoolMonitorInterval` (5 s), which
 * increases the pool when `isDatastorePoolTooLow` and decreases it when `isDatastorePoolTooHigh`
 * at most every `decreaseIPPoolInterval` (30 s, `shouldSkipDataStorePoolDecrease`).
 */
export const IPAMD_POOL_CHECKS_PER_MINUTE = 60 / 5;
export const IPAMD_DECREASES_PER_MINUTE_MAX = 60 / 30;
/** Addresses per /28 prefix (prefix delegation). */
const IPS_PER_PREFIX = 16;

/**
 * AssignPrivateIpAddresses' token bucket: 100 requests, refilled at 5 per second, per account and
 * Region (EC2 API reference, "Request throttling for the Amazon EC2 API", uncategorized actions,
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html): 300 a minute
 * sustained for every caller of the account in the Region together.
 */
export const ASSIGN_PRIVATE_IP_ADDRESSES_REFILL_PER_MINUTE = 5 * 60;

/** What the model assumes of the workload (it cannot see pods). */
export interface ChurnAssumption {
  /** Pod starts per node per minute, matched by as many stops (a steady pod count). */
  podStartsPerNodePerMinute: number;
}

/** One node: the pods it runs (the planner's estimate) and its mode. */
export interface NodeChurnInput {
  pods: number;
  prefixDelegation: boolean;
}

/** Modelled EC2 calls per minute. */
export interface IpamdApiRate {
  assignPerMinute: number;
  unassignPerMinute: number;
  totalPerMinute: number;
  /** Nodes whose MINIMUM_IP_TARGET floor absorbs the churn (no calls). */
  nodesAbsorbing: number;
  nodes: number;
}

/** P(at least one of Poisson(rate × window) events): the share of windows with a call. */
const windowsWithEvent = (perMinute: number, windowsPerMinute: number): number =>
  windowsPerMinute * (1 - Math.exp(-perMinute / windowsPerMinute));

/**
 * One node's calls per minute. With WARM_IP_TARGET or MINIMUM_IP_TARGET set (ipamd.go
 * `datastoreTargetState`), the pool is short when available < WARM_IP_TARGET (or total <
 * MINIMUM_IP_TARGET) and over when available > WARM_IP_TARGET and total > MINIMUM_IP_TARGET:
 * - a node whose floor holds its pods and the warm buffer (pods + WARM_IP_TARGET < MINIMUM_IP_TARGET)
 *   is neither short nor over as pods come and go: no calls;
 * - otherwise every pod start leaves it short (one AssignPrivateIpAddresses at the next 5 s check,
 *   however many started: `tryAssignIPs` asks for the whole shortfall in one call) and every stop
 *   leaves it over (one UnassignPrivateIpAddresses at most every 30 s). A larger WARM_IP_TARGET does
 *   not remove these calls; a MINIMUM_IP_TARGET above the pods does.
 * In prefix mode a call moves a /28: a start or stop crosses a prefix boundary once in 16.
 * Without IP targets (WARM_ENI_TARGET or WARM_PREFIX_TARGET) ipamd adds whole ENIs or prefixes
 * and does not release on every stop: a steady pod count makes no calls (0 here).
 */
export function nodeApiRate(node: NodeChurnInput, config: Pick<IpamdConfig, 'warmIpTarget' | 'minimumIpTarget'>, churn: ChurnAssumption): { assign: number; unassign: number; absorbs: boolean } {
  const warm = config.warmIpTarget ?? 0;
  const minimum = config.minimumIpTarget ?? 0;
  if (warm <= 0 && minimum <= 0) return { assign: 0, unassign: 0, absorbs: true };
  if (node.pods + warm < minimum) return { assign: 0, unassign: 0, absorbs: true };
  const events = Math.max(0, churn.podStartsPerNodePerMinute) / (node.prefixDelegation ? IPS_PER_PREFIX : 1);
  return {
    assign: windowsWithEvent(events, IPAMD_POOL_CHECKS_PER_MINUTE),
    unassign: windowsWithEvent(events, IPAMD_DECREASES_PER_MINUTE_MAX),
    absorbs: false,
  };
}

/** The cluster's ipamd calls per minute under `config`: the sum over its nodes. */
export function ipamdApiRate(nodes: readonly NodeChurnInput[], config: Pick<IpamdConfig, 'warmIpTarget' | 'minimumIpTarget'>, churn: ChurnAssumption): IpamdApiRate {
  let assign = 0;
  let unassign = 0;
  let absorbing = 0;
  for (const node of nodes) {
    const r = nodeApiRate(node, config, churn);
    assign += r.assign;
    unassign += r.unassign;
    if (r.absorbs) absorbing++;
  }
  const round = (x: number): number => Math.round(x * 10) / 10;
  return { assignPerMinute: round(assign), unassignPerMinute: round(unassign), totalPerMinute: round(assign + unassign), nodesAbsorbing: absorbing, nodes: nodes.length };
}

/**
 * The smallest MINIMUM_IP_TARGET at which the cluster's modelled rate fits `budgetPerMinute`:
 * the floor that covers the pods (plus the warm buffer) of enough nodes. Undefined when even a
 * floor over every node's pods does not fit (it always does: such a node makes no calls).
 */
export function minimumIpTargetWithin(nodes: readonly NodeChurnInput[], warmIpTarget: number, churn: ChurnAssumption, budgetPerMinute: number): number {
  const candidates = [...new Set(nodes.map((x) => x.pods + warmIpTarget + 1))].sort((a, b) => a - b);
  for (const minimum of candidates) {
    if (ipamdApiRate(nodes, { warmIpTarget, minimumIpTarget: minimum }, churn).totalPerMinute <= budgetPerMinute) return minimum;
  }
  return candidates[candidates.length - 1] ?? warmIpTarget + 1;
}
