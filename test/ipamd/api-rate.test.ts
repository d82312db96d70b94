/**
 * The ipamd EC2 API rate model (lib/ipamd/api-rate.ts): which settings make calls under churn,
 * how the rate grows with nodes and churn, and where MINIMUM_IP_TARGET absorbs it.
 */
import { ipamdApiRate, minimumIpTargetWithin, nodeApiRate } from '../../lib/ipamd/api-rate';

const churn = (podStartsPerNodePerMinute: number) => ({ podStartsPerNodePerMinute });
const nodes = (count: number, pods: number, prefixDelegation = false) => Array.from({ length: count }, () => ({ pods, prefixDelegation }));

describe('nodeApiRate', () => {
  it('WARM_ENI_TARGET / WARM_PREFIX_TARGET only (no IP targets): no calls at a steady pod count', () => {
    expect(nodeApiRate({ pods: 20, prefixDelegation: false }, {}, churn(5))).toEqual({ assign: 0, unassign: 0, absorbs: true });
  });

  it('WARM_IP_TARGET without a floor: each 5 s window with a start is one Assign, each 30 s window with a stop one Unassign', () => {
    const r = nodeApiRate({ pods: 20, prefixDelegation: false }, { warmIpTarget: 2 }, churn(1));
    expect(r.assign).toBeCloseTo(12 * (1 - Math.exp(-1 / 12)), 6);
    expect(r.unassign).toBeCloseTo(2 * (1 - Math.exp(-1 / 2)), 6);
  });

  it('a larger WARM_IP_TARGET does not remove the calls (any start leaves the pool short of it)', () => {
    const low = nodeApiRate({ pods: 20, prefixDelegation: false }, { warmIpTarget: 1 }, churn(1));
    const high = nodeApiRate({ pods: 20, prefixDelegation: false }, { warmIpTarget: 10 }, churn(1));
    expect(high).toEqual(low);
  });

  it('a MINIMUM_IP_TARGET above pods + WARM_IP_TARGET absorbs the churn; at or below it does not', () => {
    expect(nodeApiRate({ pods: 20, prefixDelegation: false }, { warmIpTarget: 2, minimumIpTarget: 23 }, churn(1)).absorbs).toBe(true);
    expect(nodeApiRate({ pods: 20, prefixDelegation: false }, { warmIpTarget: 2, minimumIpTarget: 22 }, churn(1)).absorbs).toBe(false);
  });

  it('prefix mode: a call per /28 boundary crossed, 1 in 16 starts', () => {
    const ip = nodeApiRate({ pods: 20, prefixDelegation: false }, { warmIpTarget: 2 }, churn(1.6));
    const prefix = nodeApiRate({ pods: 20, prefixDelegation: true }, { warmIpTarget: 2 }, churn(1.6 * 16));
    expect(prefix.assign).toBeCloseTo(ip.assign, 6);
  });

  it('at most one Assign per 5 s check and one Unassign per 30 s, whatever the churn', () => {
    const r = nodeApiRate({ pods: 20, prefixDelegation: false }, { warmIpTarget: 1 }, churn(10_000));
    expect(r.assign).toBeCloseTo(12, 3);
    expect(r.unassign).toBeCloseTo(2, 3);
  });
});

describe('ipamdApiRate', () => {
  it('grows linearly with the nodes that churn', () => {
    const one = nodeApiRate({ pods: 20, prefixDelegation: false }, { warmIpTarget: 1 }, churn(0.5));
    const many = ipamdApiRate(nodes(500, 20), { warmIpTarget: 1 }, churn(0.5));
    expect(many.totalPerMinute).toBeCloseTo((one.assign + one.unassign) * 500, 0);
    // 500 churning nodes at 0.5 starts a minute: about 466 calls a minute, above the 300 a minute
    // AssignPrivateIpAddresses refills for the whole account.
    expect(many.assignPerMinute).toBeGreaterThan(240);
    expect(many.nodesAbsorbing).toBe(0);
  });

  it('counts the nodes whose floor absorbs the churn', () => {
    const r = ipamdApiRate([...nodes(3, 10), ...nodes(2, 30)], { warmIpTarget: 2, minimumIpTarget: 20 }, churn(1));
    expect(r.nodesAbsorbing).toBe(3);
    expect(r.totalPerMinute).toBeCloseTo(2 * (nodeApiRate({ pods: 30, prefixDelegation: false }, { warmIpTarget: 2, minimumIpTarget: 20 }, churn(1)).assign + nodeApiRate({ pods: 30, prefixDelegation: false }, { warmIpTarget: 2, minimumIpTarget: 20 }, churn(1)).unassign), 1);
  });
});

describe('minimumIpTargetWithin', () => {
  it('the smallest floor over enough nodes’ pods to fit the budget', () => {
    const fleet = [...nodes(10, 10), ...nodes(10, 30)];
    // Budget 0: every node must be covered: 30 pods + WARM 2 + 1.
    expect(minimumIpTargetWithin(fleet, 2, churn(1), 0)).toBe(33);
    // A budget the 10 busy nodes fit in: only the 10-pod nodes need covering.
    const busy = ipamdApiRate(nodes(10, 30), { warmIpTarget: 2 }, churn(1)).totalPerMinute;
    expect(minimumIpTargetWithin(fleet, 2, churn(1), busy)).toBe(13);
  });
});
