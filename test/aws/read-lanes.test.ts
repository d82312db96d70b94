/** How a large read by subnet is split into lanes (lib/aws/read-lanes.ts). */
import { LANE_MIN_PAGES, READ_LANES, subnetLanes } from '../../lib/aws/read-lanes';

const ids = (n: number, prefix = 's') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);

describe('subnetLanes', () => {
  it('keeps the ids in order, 200 a filter, without the subnets\' addresses or for a small read', () => {
    const many = ids(450);
    expect(subnetLanes(many).map((g) => g.length)).toEqual([200, 200, 50]);
    expect(subnetLanes(many).flat()).toEqual(many);
    const few = ids(10);
    expect(subnetLanes(few, new Map(few.map((id) => [id, 100])))).toEqual([few]);
  });

  it(`splits a read of more than ${LANE_MIN_PAGES} pages a lane into up to ${READ_LANES} filters of about equal weight, each id once`, () => {
    const sub = ids(10);
    const weights = new Map(sub.map((id, i) => [id, (i + 1) * 1000]));
    const lanes = subnetLanes(sub, weights);
    expect(lanes).toHaveLength(READ_LANES);
    expect(lanes.flat().sort()).toEqual(sub);
    const w = lanes.map((g) => g.reduce((s, id) => s + weights.get(id)!, 0));
    // 55,000 over 4: the heaviest lane within one subnet's weight of the lightest.
    expect(Math.max(...w) - Math.min(...w)).toBeLessThanOrEqual(10_000);
  });

  it('opens only as many lanes as the ENIs expected fill, and no more than the subnets', () => {
    const sub = ids(6);
    expect(subnetLanes(sub, new Map(sub.map((id) => [id, 1000])))).toHaveLength(3);
    expect(subnetLanes(ids(2), new Map(ids(2).map((id) => [id, 100_000])))).toHaveLength(2);
  });

  it('counts a subnet no node has an ENI in as empty', () => {
    const sub = ids(4);
    expect(subnetLanes(sub, new Map())).toEqual([sub]);
    expect(subnetLanes(sub, new Map([[sub[0]!, 9000]])).map((g) => g.length)).toEqual([1, 3]);
  });

  it('never puts more than 200 ids in a filter', () => {
    const sub = ids(1000);
    const lanes = subnetLanes(sub, new Map(sub.map((id) => [id, 5000])));
    expect(lanes).toHaveLength(5);
    expect(Math.max(...lanes.map((g) => g.length))).toBeLessThanOrEqual(200);
    expect(lanes.flat().sort()).toEqual(sub);
  });
});
