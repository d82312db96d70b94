/**
 * prefix-fragmentation: a subnet where prefix delegation gets its /28s has too few aligned, entirely
 * free /28 blocks, whatever its free address count. EC2 then fails prefix assignment with
 * `InsufficientCidrBlocks` (EC2 user guide, "Assign prefixes to Amazon EC2 network interfaces";
 * EKS best practices, "Prefix mode for Linux": a fragmented subnet cannot give out /28s).
 *
 * The blocks are counted from the visible ENIs (lib/measure/prefix-blocks.ts). Addresses that no
 * visible ENI holds (`Unaccounted`: other accounts in a shared VPC) may sit in any block, so the
 * count is then an upper bound, and each of them breaks at most one block (the lower bound).
 */
import type { NetworkInterface } from '@aws-sdk/client-ec2';
import { freePrefixBlocks, type PrefixBlocks } from '../measure/prefix-blocks';
import { holdersUnknown } from '../measure/trusted';
import type { SubnetUsage } from '../measure/types';
import { finding, list, n, plural, spareDiscoverySubnets, type ClusterContext } from './context';
import type { Finding } from './types';

/** The free /28 blocks of a subnet, from every ENI in it (whoever owns it). */
export function prefixBlocksOf(s: SubnetUsage, enis: NetworkInterface[]): PrefixBlocks {
  const here = enis.filter((e) => e.SubnetId === s.subnetId);
  const addresses = here.flatMap((e) => [
    ...(e.PrivateIpAddresses ?? []).map((a) => a.PrivateIpAddress).filter((a): a is string => a !== undefined),
    // An ENI always has its primary address, even if the answer's list was trimmed.
    ...(e.PrivateIpAddress ? [e.PrivateIpAddress] : []),
  ]);
  const prefixes = here.flatMap((e) => (e.Ipv4Prefixes ?? []).map((p) => p.Ipv4Prefix).filter((p): p is string => p !== undefined));
  return freePrefixBlocks(s.cidrBlock, addresses, prefixes, s.reservations?.ranges ?? []);
}

export function diagnosePrefixFragmentation(ctx: ClusterContext): Finding[] {
  // IPv6 clusters: pods take IPv6 from a /80 per node, no IPv4 /28 (lib/inventory/cluster-network.ts).
  if (ctx.usage.network?.ipFamily === 'ipv6') return [];
  const t = ctx.thresholds;
  const out: Finding[] = [];
  for (const s of ctx.podSubnets) {
    const prefixNodes = (ctx.nodesBySubnet.get(s.subnetId) ?? []).filter((x) => x.node.mode === 'prefix');
    if (ctx.usage.cni.prefixDelegation !== true && prefixNodes.length === 0) continue;
    // The blocks are counted from the subnet's ENIs: unread, every block would look free.
    if (holdersUnknown(ctx.gaps, s.subnetId)) continue;
    const blocks = prefixBlocksOf(s, ctx.inventory.networkInterfaces);
    if (blocks.freeBlocks >= t.prefixBlocksWarning && blocks.freeBlocks > 0) continue;

    const upperBound = s.held.Unaccounted > 0;
    const lowerBound = Math.max(0, blocks.freeBlocks - s.held.Unaccounted);
    const groups = [...new Set(prefixNodes.map((x) => x.node.nodegroup))].sort();
    const severity = blocks.freeBlocks === 0 ? 'critical' : 'warning';
    const evidenceText = [
      `${n(blocks.freeBlocks)} of ${n(blocks.totalBlocks)} aligned /28 blocks free${upperBound ? ' at most' : ''}; ${n(s.available)} IPs free in ${s.cidrBlock}, ${n(blocks.freeAddressesOutsideBlocks)} of them scattered outside free blocks (usable as secondary IPs, not as prefixes).`,
      blocks.freeBlocks === 0
        ? 'New /28 prefixes fail with InsufficientCidrBlocks: nodes cannot add pod capacity here.'
        : `EC2 answers InsufficientCidrBlocks once they are gone (each node's warm prefix takes one).`,
    ];
    if (upperBound) {
      evidenceText.push(
        `Upper bound: ${n(s.held.Unaccounted)} used IPs are on ENIs this account cannot see and may sit in free-looking blocks (at least ${n(lowerBound)} free).`,
      );
    }
    if (prefixNodes.length > 0) {
      evidenceText.push(`${plural(prefixNodes.length, 'node')} in prefix mode have ENIs here (${list(groups)}).`);
    }

    const spare = spareDiscoverySubnets(ctx, s.vpcId, s.availabilityZone, new Set([s.subnetId]))
      .filter((x) => !holdersUnknown(ctx.gaps, x.subnetId))
      .map((x) => ({ s: x, blocks: prefixBlocksOf(x, ctx.inventory.networkInterfaces) }))
      .filter((x) => x.blocks.freeBlocks >= t.prefixBlocksWarning);
    const fixes = [
      spare.length > 0
        ? `Contiguous space for prefixes: ${list(spare.slice(0, 3).map((x) => `${x.s.subnetId} (${n(x.blocks.freeBlocks)} free /28s)`))} ${spare.length === 1 ? 'is' : 'are'} already tagged kubernetes.io/role/cni in ${s.availabilityZone}; check subnet discovery is on (VPC CNI 1.18+).`
        : `Contiguous space for prefixes: a new subnet in ${s.availabilityZone}, tagged kubernetes.io/role/cni (VPC CNI 1.18+ subnet discovery) or used by a new nodegroup.`,
      `Keep /28s for prefixes before they fragment further: aws ec2 create-subnet-cidr-reservation --subnet-id ${s.subnetId} --reservation-type prefix --cidr <aligned free range>.`,
      `Secondary-IP mode for ${groups.length > 0 ? list(groups) : 'the nodes in this subnet'}: single IPs fit the scattered space (ENABLE_PREFIX_DELEGATION=false is cluster-wide in aws-node; max pods drop to the secondary-IP figure).`,
    ];
    out.push(
      finding(ctx, {
        kind: 'prefix-fragmentation',
        severity,
        subject: { type: 'subnet', id: s.subnetId, availabilityZone: s.availabilityZone },
        title:
          blocks.freeBlocks === 0
            ? `Subnet ${s.subnetId}: no free /28 block for prefixes (${n(s.available)} IPs free but scattered)`
            : `Subnet ${s.subnetId}: ${upperBound ? '≤' : ''}${n(blocks.freeBlocks)} free /28 blocks left for prefixes (${n(s.available)} IPs free)`,
        evidence: {
          subnetId: s.subnetId,
          availabilityZone: s.availabilityZone,
          cidrBlock: s.cidrBlock,
          freeBlocks: blocks.freeBlocks,
          freeBlocksLowerBound: lowerBound,
          totalBlocks: blocks.totalBlocks,
          freeAddressesOutsideBlocks: blocks.freeAddressesOutsideBlocks,
          free: s.available,
          unaccounted: s.held.Unaccounted,
          countIs: upperBound ? 'upper bound' : 'exact',
          prefixModeNodes: prefixNodes.length,
        },
        evidenceText,
        fixes,
      }),
    );
  }
  return out;
}
