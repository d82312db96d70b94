/**
 * Leaked ENIs: `available` ENIs the VPC CNI created (lib/inventory/leaked.ts) whose instance EC2
 * says is terminated, or no longer knows (the collector's one DescribeInstances by id). Pure; the
 * age is taken against the sample's time. Design: docs/leaked-enis.md.
 */
import { cniEniInstanceOf } from '../inventory/leaked';
import type { ClusterInventory } from '../inventory/types';
import { CNI_ENI_CLUSTER_TAG_KEY, CNI_ENI_CREATED_AT_TAG_KEY } from '../names';
import { eniAddressCount, IPS_PER_PREFIX } from './eni';
import type { LeakedEni } from './types';

/** The leaked ENIs of a cluster's subnets, and how many candidates could not be confirmed. */
export function measureLeakedEnis(inv: ClusterInventory, collectedAt: string): { leaked: LeakedEni[]; unconfirmed: number } {
  const nodes = new Set(inv.instances.map((i) => i.InstanceId ?? ''));
  const asked = inv.eniInstances ? new Set(inv.eniInstances.asked) : undefined;
  const stateOf = new Map((inv.eniInstances?.found ?? []).map((i) => [i.InstanceId ?? '', i.State?.Name ?? '']));
  const now = Date.parse(collectedAt);
  const leaked: LeakedEni[] = [];
  let unconfirmed = 0;
  for (const eni of inv.networkInterfaces) {
    const instanceId = cniEniInstanceOf(eni);
    if (!instanceId || nodes.has(instanceId)) continue;
    if (!asked?.has(instanceId)) {
      unconfirmed++;
      continue;
    }
    const state = stateOf.get(instanceId);
    // Found in any other state (running as another cluster's node, stopped, shutting-down): not leaked.
    if (state !== undefined && state !== 'terminated') continue;
    const tag = (key: string): string | undefined => eni.TagSet?.find((t) => t.Key === key)?.Value;
    const createdAt = tag(CNI_ENI_CREATED_AT_TAG_KEY);
    const created = createdAt === undefined ? Number.NaN : Date.parse(createdAt);
    const { primary, secondary, prefixes } = eniAddressCount(eni);
    const clusterTag = tag(CNI_ENI_CLUSTER_TAG_KEY);
    leaked.push({
      networkInterfaceId: eni.NetworkInterfaceId ?? '',
      subnetId: eni.SubnetId ?? '',
      availabilityZone: eni.AvailabilityZone ?? '',
      instanceId,
      instanceState: state === undefined ? 'missing' : 'terminated',
      ...(clusterTag ? { clusterTag } : {}),
      ...(createdAt !== undefined ? { createdAt } : {}),
      ...(Number.isFinite(created) && Number.isFinite(now) ? { ageMinutes: Math.max(0, Math.floor((now - created) / 60_000)) } : {}),
      ips: primary + secondary + prefixes * IPS_PER_PREFIX,
    });
  }
  leaked.sort((a, b) => a.subnetId.localeCompare(b.subnetId) || a.networkInterfaceId.localeCompare(b.networkInterfaceId));
  return { leaked, unconfirmed };
}
