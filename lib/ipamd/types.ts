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
  /**
   * MAX_ENI: ipamd attaches at most this many ENIs; 0 or less = unset (pkg/ipamd/ipamd.go
   * `getMaxENI`). Unset = the instance type's maximum.
   */
  maxEni?: number;
  /**
   * The node's trunk ENI of security groups for pods (0 or 1): it takes an ENI slot ipamd counts
   * (`hasRoomForEni` subtracts `trunkEni`) but carries no pod address (datastore
   * `GetAllocatableENIs` skips `IsTrunk`). Unset = 0.
   */
  trunkEnis?: number;
  /**
   * The node's ENIs ipamd does not manage: tagged `node.k8s.amazonaws.com/no_manage=true`, or
   * EFA-only (`filterUnmanagedENIs` counts them in `unmanagedENI`; `hasRoomForEni` subtracts them).
   * Unset = 0.
   */
  unmanagedEnis?: number;
}

/** What a node holds from its subnets for a number of pods. */
export interface NodeHolding {
  /**
   * ENIs attached (default network card), primary ENI included: ipamd's, plus the config's trunk
   * and unmanaged ENIs.
   */
  enis: number;
  /** Secondary IPv4 addresses assigned to the node's ENIs. */
  secondaryIps: number;
  /** /28 prefixes assigned. */
  prefixes: number;
  /**
   * Subnet addresses taken in all: one primary per ENI of ipamd's and for the trunk ENI +
   * secondaries + 16 per prefix. The unmanaged ENIs' addresses are not ipamd's and are not counted
   * (an EFA-only ENI has none).
   */
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
   * false when no pod count makes the observation a state ipamd would rest in under this config,
   * or the observation is impossible under it (more ENIs or addresses than MAX_ENI, the trunk and
   * the unmanaged ENIs leave room for): mid-change, or another config than assumed. The ranges are
   * then only the trivial bounds 0..slots.
   */
  consistent: boolean;
}
