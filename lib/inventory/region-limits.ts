/**
 * The region-level limits: the quota and the facts the reads are reduced by.
 * Pure: the live source (lib/aws/region-limits.ts) and the snapshot reduce EC2's NetworkInterface
 * with {@link regionEniOf}; the collector (collect.ts `collectRegionLimits`) fills the Inventory's
 * `regionLimits`. Design: docs/models.md, "Region-level limits".
 */
import type { NetworkInterface, RegionEni } from './types';

/**
 * "Network interfaces per Region": service code `vpc`, quota code L-DF5E4CA3, default 5,000,
 * adjustable; it "applies to individual AWS account VPCs and shared VPCs" (Amazon VPC quotas,
 * "Network interfaces", https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html;
 * https://console.aws.amazon.com/servicequotas/home/services/vpc/quotas/L-DF5E4CA3).
 */
export const ENI_QUOTA = { serviceCode: 'vpc', quotaCode: 'L-DF5E4CA3', documentedDefault: 5000, name: 'Network interfaces per Region' } as const;

/**
 * Network Address Usage quotas: 64,000 units per VPC, 128,000 for a VPC and the VPCs peered with
 * it in the same Region (defaults; Service Quotas vpc/L-BB24F6E5 and vpc/L-CD17FD4B).
 * https://docs.aws.amazon.com/vpc/latest/userguide/network-address-usage.html
 */
export const NAU_QUOTA = { perVpc: 64000, peered: 128000 } as const;

/** A NetworkInterface reduced to the counts of {@link RegionEni}. */
export function regionEniOf(ni: NetworkInterface): RegionEni {
  const privates = ni.PrivateIpAddresses ?? [];
  // The primary address is among PrivateIpAddresses; an answer without the list still has one.
  const privateIpv4 = privates.length > 0 ? privates.length : ni.PrivateIpAddress ? 1 : 0;
  const publicIpv4 = privates.length > 0 ? privates.filter((p) => p.Association?.PublicIp).length : ni.Association?.PublicIp ? 1 : 0;
  const attachedToInstance = ni.Attachment?.InstanceId !== undefined && ni.Attachment.InstanceId !== '';
  return {
    NetworkInterfaceId: ni.NetworkInterfaceId ?? '',
    ...(ni.VpcId ? { VpcId: ni.VpcId } : {}),
    ...(ni.InterfaceType ? { InterfaceType: ni.InterfaceType } : {}),
    ...(attachedToInstance && ni.Attachment?.DeviceIndex !== undefined ? { instanceDeviceIndex: ni.Attachment.DeviceIndex } : {}),
    ...(attachedToInstance && ni.Attachment?.NetworkCardIndex !== undefined ? { instanceNetworkCardIndex: ni.Attachment.NetworkCardIndex } : {}),
    privateIpv4,
    publicIpv4,
    ipv6: (ni.Ipv6Addresses ?? []).length,
    ipv4Prefixes: (ni.Ipv4Prefixes ?? []).length,
    ipv6Prefixes: (ni.Ipv6Prefixes ?? []).length,
  };
}
