/**
 * How a large paginated read by subnet is split into lanes read at once: a `subnet-id` filter's
 * pages come one after another (each needs the last one's NextToken), so a cluster of 400 ENI
 * pages waits for 400 answers in a row unless its subnets are read as several filters side by
 * side. Design and figures: docs/performance.md, "Ultra scale".
 */
import { chunk } from './chunk';
import { EC2_FILTER_VALUES_MAX, EC2_PAGE_SIZE_MAX } from './limits';

/** Filters of one read in flight at once. */
export const READ_LANES = 4;
/** A lane is opened for at least this many pages of the ENIs expected. */
export const LANE_MIN_PAGES = 2;

/**
 * The `subnet-id` filters of one read, at most {@link EC2_FILTER_VALUES_MAX} ids each. With the
 * ENIs expected per subnet (the nodes' attached ENIs, known before the read), a read of more
 * than {@link LANE_MIN_PAGES} pages a lane is split into up to {@link READ_LANES} filters of
 * about equal weight (heaviest subnet first into the lightest filter with room). Without them,
 * or for a smaller read, the ids in order, 200 a filter: a read of N pages stays N + filters − 1
 * calls. Every id is in exactly one filter; a wrong guess costs time, never an ENI.
 */
export function subnetLanes(ids: readonly string[], enisExpected?: ReadonlyMap<string, number>, lanes = READ_LANES): string[][] {
  const batches = chunk(ids, EC2_FILTER_VALUES_MAX);
  if (!enisExpected || ids.length < 2) return batches;
  const weight = (id: string): number => enisExpected.get(id) ?? 0;
  const total = ids.reduce((s, id) => s + weight(id), 0);
  const wanted = Math.min(lanes, ids.length, Math.floor(total / (LANE_MIN_PAGES * EC2_PAGE_SIZE_MAX)));
  const n = Math.max(batches.length, wanted);
  if (n <= batches.length) return batches;
  const groups = Array.from({ length: n }, () => ({ ids: [] as string[], weight: 0 }));
  const order = [...ids].sort((a, b) => weight(b) - weight(a) || (a < b ? -1 : a > b ? 1 : 0));
  for (const id of order) {
    let best: (typeof groups)[number] | undefined;
    for (const g of groups) if (g.ids.length < EC2_FILTER_VALUES_MAX && (!best || g.weight < best.weight)) best = g;
    best!.ids.push(id);
    best!.weight += weight(id);
  }
  const position = new Map(ids.map((id, i) => [id, i]));
  return groups.filter((g) => g.ids.length > 0).map((g) => g.ids.sort((a, b) => position.get(a)! - position.get(b)!));
}
