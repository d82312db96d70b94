/** Contract of the ipamd model (lib/ipamd/model.ts). */

/** The VPC CNI settings that decide how many addresses a node holds. Unset = the CNI's default. */
export interface IpamdConfig {
  prefixDelegation: boolean;
  customNetworking?: boolean;
  warmEniTarget?: number;
  warmIpTarget?: number;
  minimumIpTarget?: number;
  warmPrefixTarget?: number;
  /**
   * The node's kubelet max pods, when known. ipamd stops growing the pool once it holds this many
   * addresses (pkg/ipamd/ipamd.go `isDatastorePoolTooLow`: `stats.TotalIPs >= c.maxPods`). Unset =
   * no such stop.
   */
  maxPods?: number;
}

/** What a node holds from its subnets for a number of pods. */
export interface NodeHolding {
  /** ENIs attached (default network card), primary ENI included. */
  enis: number;
  /** Secondary IPv4 addresses assigned to the node's ENIs. */
  secondaryIps: number;
  /** /28 prefixes assigned. */
  prefixes: number;
  /** Subnet addresses taken in all: one primary per ENI + secondaries + 16 per prefix. */
  subnetIps: number;
  /** Pod address slots the holding provides (secondaries, or 16 per prefix). */
  podSlots: number;
  /** Slots not used by pods: the warm pool. */
  warmIps: number;
  /** Pods that got an address (≤ pods asked: the rest would not start for lack of IPs). */
  podsWithIps: number;
}

/** What a node's observed addresses say about its warm pool (lib/ipamd/model.ts `estimateWarm`). */
export interface WarmEstimate {
  /** Fewest and most unused pod addresses the node can be holding. */
  warmMin: number;
  warmMax: number;
  /** Fewest and most pods (needing a VPC IP) the node can be running. */
  podsMin: number;
  podsMax: number;
  /**
   * false when no pod count makes the observation a state ipamd would rest in under this config
   * (mid-change, another config than assumed, MAX_ENI, a trunk ENI): the ranges are then only the
   * trivial bounds 0..slots.
   */
  consistent: boolean;
}
