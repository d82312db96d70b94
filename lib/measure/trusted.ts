/**
 * Which figures of a cluster rest on reads that failed or answered in part: the one rule that
 * measure (a node's mode and limits), diagnose (findings about who holds a subnet's addresses),
 * the report (figures printed as unknown) and the metrics (figures not published) all follow, so
 * that none of them turns a failed read into the 0 that measuring nothing gives. Pure.
 *
 * Design: docs/models.md#libmeasuretrustedts-which-figures-are-trusted
 */
import type { CollectionProblem } from '../inventory/types';
import type { ClusterUsage } from './types';

/** What a cluster's failed reads leave unknown, from its problems' `unread` markers. */
export interface ReadGaps {
  /** Subnets whose DescribeSubnets record was not read; 'all' when the read cannot tell which. */
  unreadSubnets: 'all' | string[];
  /** The subnets tagged for CNI discovery are not known. */
  discoveryUnknown: boolean;
  /** Subnets whose ENIs are not all known; 'all' when the read cannot tell which; empty when all are. */
  unreadEnis: 'all' | string[];
  /** DescribeInstances failed or answered in part: the nodes are not all known. */
  instances: boolean;
  /** Instance types whose limits were not read (EC2 failed, not "EC2 does not know it"). */
  instanceTypes: boolean;
  /** The managed nodegroups are not known. */
  nodegroups: boolean;
  /**
   * Subnets whose CIDR reservations were not read ('all' when the read cannot tell which): their
   * reserved-but-unused addresses would look Unaccounted. Absent = none.
   */
  unreadReservations?: 'all' | string[];
}

function merge(into: 'all' | string[], ids: readonly string[] | undefined): 'all' | string[] {
  if (into === 'all' || ids === undefined) return 'all';
  return [...new Set([...into, ...ids])].sort();
}

/**
 * The gaps that a cluster's problems leave.
 *
 * The rule reads the `unread` marker the collector puts on the problem of every read that failed
 * or answered in part (lib/inventory/collect.ts `settle`); a problem without one is about data that
 * was read (an odd ENI, an unknown instance type) and leaves no figure unknown by itself.
 */
export function readGapsOf(problems: readonly CollectionProblem[]): ReadGaps {
  const g: ReadGaps = { unreadSubnets: [], discoveryUnknown: false, unreadEnis: [], instances: false, instanceTypes: false, nodegroups: false };
  for (const p of problems) {
    switch (p.unread?.part) {
      case 'subnets':
        g.unreadSubnets = merge(g.unreadSubnets, p.unread.ids);
        break;
      case 'cni-discovery':
        g.discoveryUnknown = true;
        break;
      case 'network-interfaces':
        g.unreadEnis = merge(g.unreadEnis, p.unread.ids);
        break;
      case 'instances':
        g.instances = true;
        break;
      case 'instance-types':
        g.instanceTypes = true;
        break;
      case 'nodegroups':
        g.nodegroups = true;
        break;
      case 'cidr-reservations':
        g.unreadReservations = merge(g.unreadReservations ?? [], p.unread.ids);
        break;
      default:
        break;
    }
  }
  return g;
}

/** Whether the ENIs of any of these subnets are not all known. */
export function enisUnreadIn(g: Pick<ReadGaps, 'unreadEnis'>, subnetIds: Iterable<string>): boolean {
  if (g.unreadEnis === 'all') return true;
  const unread = g.unreadEnis;
  for (const id of subnetIds) if (unread.includes(id)) return true;
  return false;
}

/**
 * Whether who holds a subnet's addresses is unknown: its ENIs were not all read, or the nodes were
 * not (a node's ENI would then count as another holder's).
 */
export function holdersUnknown(g: Pick<ReadGaps, 'instances' | 'unreadEnis'> & Pick<Partial<ReadGaps>, 'unreadReservations'>, subnetId: string): boolean {
  return g.instances || enisUnreadIn(g, [subnetId]) || reservationsUnreadIn(g, subnetId);
}

/** Whether a subnet's CIDR reservations were not read (its Reserved and Unaccounted split is then unknown). */
export function reservationsUnreadIn(g: Pick<Partial<ReadGaps>, 'unreadReservations'>, subnetId: string): boolean {
  const u = g.unreadReservations;
  return u === 'all' || (u !== undefined && u.includes(subnetId));
}

/** Whether the nodes' ENIs and pod IPs are unknown (some node ENIs may not have been read). */
export function nodeEnisUnknown(g: Pick<ReadGaps, 'instances' | 'unreadEnis'>): boolean {
  return g.instances || g.unreadEnis === 'all' || g.unreadEnis.length > 0;
}

/** Which of a cluster's figures rest on complete reads (see the file comment). */
export interface TrustedFigures {
  /** Totals and minimums over the cluster's subnets (each subnet's own free count rests on its own record). */
  subnets: boolean;
  /** Who holds the addresses of every subnet. */
  holders: boolean;
  /** The nodes, their ENIs and pod IPs. */
  nodes: boolean;
  /** The nodes' limits and max pods. */
  capacity: boolean;
}

/**
 * Which figures of a measured cluster rest on complete reads. A figure measured from a read that
 * failed (no ENIs: every used address would look Unaccounted and every node empty) is not to be
 * given as a number: the report prints it as unknown and the metrics leave it out.
 */
export function trustedFigures(c: Pick<ClusterUsage, 'problems'>): TrustedFigures {
  const g = readGapsOf(c.problems);
  const subnets = g.unreadSubnets !== 'all' && g.unreadSubnets.length === 0 && !g.discoveryUnknown;
  const nodes = !nodeEnisUnknown(g);
  const reservations = g.unreadReservations === undefined || (g.unreadReservations !== 'all' && g.unreadReservations.length === 0);
  return { subnets, holders: nodes && reservations, nodes, capacity: nodes && !g.instanceTypes };
}
