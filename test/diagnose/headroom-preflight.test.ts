import { preflightChecks, type PreflightCheck } from '../../lib/diagnose/headroom-preflight';
import { diagnoseCluster } from '../../lib/diagnose/diagnose';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import type { ClusterInventory, Nodegroup } from '../../lib/inventory/types';
import { measureCluster } from '../../lib/measure/measure';
import { clusterInventory, instance, instanceTypes, managedCni, managedTags, nodegroup, subnet } from '../measure/builders';

const A = 'eu-west-1a';
const B = 'eu-west-1b';
/** An m5.large at launch under the CNI defaults (WARM_ENI_TARGET=1): its primary ENI, 1 + 9 secondaries. */
const M5L_AT_LAUNCH = 10;
const TYPES = instanceTypes('m5.large');

function world(o: { freeA: number; freeB: number; ng?: Partial<Nodegroup>; cni?: ClusterInventory['cni']; nodesInA?: number; clusterFree?: [number, number] }): ClusterInventory {
  const ng = { ...nodegroup('prod', 'web', ['m5.large'], ['subnet-a', 'subnet-b'], 4), ...o.ng };
  const [ca, cb] = o.clusterFree ?? [100, 100];
  return clusterInventory({
    name: 'prod',
    subnets: [
      [subnet('subnet-a', '10.0.0.0/22', A, o.freeA), ['node']],
      [subnet('subnet-b', '10.0.4.0/22', B, o.freeB), ['node']],
      [subnet('subnet-ca', '10.0.8.0/28', A, ca), ['cluster']],
      [subnet('subnet-cb', '10.0.8.16/28', B, cb), ['cluster']],
    ],
    nodegroups: [ng],
    instances: Array.from({ length: o.nodesInA ?? 0 }, (_, i) => instance(`i-0a${i}`, 'm5.large', 'subnet-a', A, managedTags('prod', 'web'))),
    cni: o.cni ?? managedCni(),
  });
}

function checks(inv: ClusterInventory, nodegroupName?: string): PreflightCheck[] {
  return preflightChecks({ usage: measureCluster(inv, TYPES), inventory: inv, instanceTypes: TYPES }, nodegroupName);
}
const one = (cs: PreflightCheck[], kind: PreflightCheck['check']): PreflightCheck => {
  const c = cs.find((x) => x.check === kind);
  if (!c) throw new Error(`no ${kind} check`);
  return c;
};

describe('rolling-update preflight', () => {
  it.each([
    ['maxUnavailable 1: 2 per AZ', { maxUnavailable: 1 }, 4, 2],
    ['maxUnavailable 10: more than 2 per AZ', { maxUnavailable: 10 }, 10, 5],
    ['25% of 10 nodes, rounded up to 3: still 2 per AZ', { maxUnavailablePercentage: 25 }, 4, 2],
    ['80% of 10 nodes: 8', { maxUnavailablePercentage: 80 }, 8, 4],
    ['maxUnavailable above the quota of 100: 100', { maxUnavailable: 150 }, 100, 50],
  ])('surges by the larger of 2 per AZ and maxUnavailable (%s)', (_, updateConfig, surge, perAz) => {
    const c = one(checks(world({ freeA: 5000, freeB: 5000, ng: { updateConfig, scalingConfig: { minSize: 0, maxSize: 10, desiredSize: 10 } } })), 'rolling-update');
    expect(c.newNodes).toBe(surge);
    expect(c.places.map((p) => p.nodes)).toEqual([perAz, perAz]);
    expect(c.ipsPerNode).toBe(M5L_AT_LAUNCH);
  });

  it('fits when the AZ has exactly the surge nodes\' warm pools free, and not with one address less', () => {
    const need = 2 * M5L_AT_LAUNCH;
    const fits = one(checks(world({ freeA: need, freeB: 500 })), 'rolling-update');
    expect(fits.verdict).toBe('fits');
    const short = one(checks(world({ freeA: need - 1, freeB: 500 })), 'rolling-update');
    expect(short.verdict).toBe('does-not-fit');
    expect(short.places.find((p) => !p.fits)).toMatchObject({ availabilityZone: A, subnetId: 'subnet-a', free: need - 1, needIps: need });
  });

  it('counts only the primary address of a new node under custom networking', () => {
    const cni = managedCni({ AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true' });
    const c = one(checks(world({ freeA: 2, freeB: 2, cni })), 'rolling-update');
    expect(c.ipsPerNode).toBe(1);
    expect(c.verdict).toBe('fits');
    expect(one(checks(world({ freeA: 1, freeB: 2, cni })), 'rolling-update').verdict).toBe('does-not-fit');
  });

  it('counts only the primary IPv4 of a new node on an IPv6 cluster (pods take IPv6), with the prefix-mode add-on', () => {
    // An IPv6 cluster runs the CNI in prefix mode: without the IPv6 rule a node would need its /28s.
    const cni = managedCni({ ENABLE_PREFIX_DELEGATION: 'true', WARM_PREFIX_TARGET: '1' });
    const v6 = (freeA: number): ClusterInventory => {
      const inv = world({ freeA, freeB: 2, cni });
      inv.cluster = { ...inv.cluster, kubernetesNetworkConfig: { ipFamily: 'ipv6' } };
      return inv;
    };
    const c = one(checks(v6(2)), 'rolling-update');
    expect(c.ipsPerNode).toBe(1);
    expect(c.verdict).toBe('fits');
    expect(c.basis.join(' ')).toContain('IPv6 cluster');
    expect(one(checks(v6(1)), 'rolling-update').verdict).toBe('does-not-fit');
    // The same cluster in IPv4 needs its prefixes.
    expect(one(checks(world({ freeA: 2, freeB: 2, cni })), 'rolling-update').ipsPerNode).toBeGreaterThan(1);
  });

  it('is unknown, not a fit, when the CNI settings or a subnet were not read', () => {
    const unknownCni = checks(world({ freeA: 5000, freeB: 5000, cni: { kind: 'unknown', reason: 'AccessDenied' } }));
    expect(one(unknownCni, 'rolling-update').verdict).toBe('unknown');
    const inv = world({ freeA: 5000, freeB: 5000 });
    inv.subnets = inv.subnets.filter((s) => s.SubnetId !== 'subnet-b');
    inv.problems.push({ source: 'ec2:DescribeSubnets', message: 'denied', unread: { part: 'subnets', ids: ['subnet-b'] } });
    const c = one(checks(inv), 'rolling-update');
    expect(c.verdict).toBe('unknown');
    expect(c.summary).toContain('subnet-b');
  });
});

describe('scale-to-max preflight', () => {
  it('adds in each AZ what Auto Scaling balances it to, less the nodes already there', () => {
    // max 6 over 2 AZs: 3 each; 1 node already in a.
    const c = one(checks(world({ freeA: 20, freeB: 30, nodesInA: 1, ng: { scalingConfig: { minSize: 0, maxSize: 6, desiredSize: 1 } } })), 'scale-to-max');
    expect(c.places.map((p) => [p.availabilityZone, p.nodes, p.needIps])).toEqual([
      [A, 2, 20],
      [B, 3, 30],
    ]);
    expect(c.newNodes).toBe(5);
    expect(c.verdict).toBe('fits');
    const short = one(checks(world({ freeA: 20, freeB: 29, nodesInA: 1, ng: { scalingConfig: { minSize: 0, maxSize: 6, desiredSize: 1 } } })), 'scale-to-max');
    expect(short.verdict).toBe('does-not-fit');
  });

  it('is unknown when the nodes were not read', () => {
    const inv = world({ freeA: 5000, freeB: 5000 });
    inv.problems.push({ source: 'ec2:DescribeInstances', message: 'denied', unread: { part: 'instances' } });
    expect(one(checks(inv), 'scale-to-max').verdict).toBe('unknown');
  });
});

describe('version-upgrade preflight', () => {
  it('needs 5 free addresses in every cluster subnet', () => {
    expect(one(checks(world({ freeA: 0, freeB: 0, clusterFree: [6, 6] })), 'version-upgrade').verdict).toBe('fits');
    const short = one(checks(world({ freeA: 0, freeB: 0, clusterFree: [4, 100] })), 'version-upgrade');
    expect(short.verdict).toBe('does-not-fit');
    expect(short.summary).toContain('subnet-ca (eu-west-1a) has 4 free');
  });

  it('needs 6 free in 2 AZs (EKS network requirements), even with 5 everywhere', () => {
    const c = one(checks(world({ freeA: 0, freeB: 0, clusterFree: [5, 5] })), 'version-upgrade');
    expect(c.verdict).toBe('does-not-fit');
    expect(c.summary).toContain('0 AZ(s) with 6+ free, 2 needed');
  });

  it('is left out when one nodegroup is asked for', () => {
    expect(checks(world({ freeA: 50, freeB: 50 }), 'web').map((c) => c.check)).toEqual(['rolling-update', 'scale-to-max']);
    expect(checks(world({ freeA: 50, freeB: 50 }), 'nosuch')).toEqual([]);
  });
});

describe('nodegroup-headroom finding', () => {
  const findings = (inv: ClusterInventory) =>
    diagnoseCluster(measureCluster(inv, TYPES), inv, DEFAULT_THRESHOLDS, TYPES).filter((f) => f.kind === 'nodegroup-headroom');

  it('is critical for an update in progress whose surge does not fit', () => {
    const [f, ...rest] = findings(world({ freeA: 19, freeB: 500, ng: { status: 'UPDATING', scalingConfig: { minSize: 0, maxSize: 4, desiredSize: 4 } } }));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ id: 'prod/nodegroup-headroom/web', severity: 'critical', evidence: { surgeNodes: 4, rollingUpdate: 'does-not-fit' } });
    expect(f?.title).toContain('UPDATING');
  });

  it('says nothing of a surge that does not fit while no update runs, and nothing when the update fits', () => {
    // Its 2 nodes in a already fill a's share of the max size: only the surge is short there.
    expect(findings(world({ freeA: 19, freeB: 500, nodesInA: 2, ng: { scalingConfig: { minSize: 0, maxSize: 4, desiredSize: 4 } } }))).toEqual([]);
    expect(findings(world({ freeA: 20, freeB: 500, ng: { status: 'UPDATING', scalingConfig: { minSize: 0, maxSize: 4, desiredSize: 4 } } }))).toEqual([]);
  });

  it('is a warning for a max size that does not fit', () => {
    const [f] = findings(world({ freeA: 49, freeB: 500, ng: { scalingConfig: { minSize: 0, maxSize: 10, desiredSize: 0 } } }));
    expect(f).toMatchObject({ severity: 'warning', evidence: { maxSize: 10, scaleToMax: 'does-not-fit' } });
    expect(findings(world({ freeA: 50, freeB: 500, ng: { scalingConfig: { minSize: 0, maxSize: 10, desiredSize: 0 } } }))).toEqual([]);
  });
});
