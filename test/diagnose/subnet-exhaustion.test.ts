import type { SubnetRole } from '../../lib/inventory/types';
import type { DiagnoseThresholds } from '../../lib/diagnose/types';
import { AZ_A, AZ_B, ids, managedCni, nodegroup, ofKind, run, World } from './world';

const CLUSTER = 'prod';

/** One /24 (or `cidr`) pod subnet with one m5.large node, filled with other ENIs to `available` free. */
function oneSubnet(available: number, o: { cidr?: string; roles?: SubnetRole[]; thresholds?: Partial<DiagnoseThresholds> } = {}) {
  const w = new World().addSubnet('subnet-a', o.cidr ?? '10.0.1.0/24', AZ_A);
  w.node({ cluster: CLUSTER, nodegroup: 'general', type: 'm5.large', subnetId: 'subnet-a', enis: [10] });
  w.fillTo('subnet-a', available);
  const inv = w.inventory({
    name: CLUSTER,
    subnets: [['subnet-a', o.roles ?? ['node']]],
    nodegroups: [nodegroup(CLUSTER, 'general', ['m5.large'], ['subnet-a'], 1)],
  });
  const { findings } = run(inv, o.thresholds);
  return ofKind(findings, 'subnet-exhaustion').filter((f) => f.subject.type === 'subnet');
}

describe('subnet-exhaustion: a pod subnet', () => {
  // Defaults: warning below 64 free or above 90 % used, critical below 16 free.
  it.each<[string, number, Parameters<typeof oneSubnet>[1], string | undefined]>([
    ['65 free of 251: fine', 65, {}, undefined],
    ['64 free: at the warning count, not below it', 64, {}, undefined],
    ['63 free: warning', 63, {}, 'warning'],
    ['16 free: at the critical count, still a warning', 16, {}, 'warning'],
    ['15 free: critical', 15, {}, 'critical'],
    ['0 free: critical', 0, {}, 'critical'],
    // A /22 has 1,019 usable: 101 free is 918 used, 90.09 %; 102 free is 89.99 %.
    ['a /22 with 101 free: above 90 % used', 101, { cidr: '10.0.4.0/22' }, 'warning'],
    ['a /22 with 102 free: below 90 % used', 102, { cidr: '10.0.4.0/22' }, undefined],
    // 64 free of 251 is exactly 187/251 used: not above a threshold of 187/251, above 186/251.
    ['utilization exactly at the threshold', 64, { thresholds: { subnetUtilizationWarning: 187 / 251 } }, undefined],
    ['utilization just above the threshold', 64, { thresholds: { subnetUtilizationWarning: 186 / 251 } }, 'warning'],
    ['a CNI-discovery subnet is a pod subnet', 10, { roles: ['cni-discovery'] }, 'critical'],
    ['a cluster-only subnet is not (control-plane-headroom judges it)', 0, { roles: ['cluster'] }, undefined],
  ])('%s', (_name, available, o, severity) => {
    const found = oneSubnet(available, o);
    expect(found.map((f) => f.severity)).toEqual(severity ? [severity] : []);
  });

  it('shows the numbers and the holders', () => {
    const [f] = oneSubnet(15);
    expect(f).toMatchObject({
      id: 'prod/subnet-exhaustion/subnet-a',
      cluster: 'prod',
      subject: { type: 'subnet', id: 'subnet-a', availabilityZone: AZ_A },
      title: 'Subnet subnet-a (eu-west-1a): 15 of 251 IPs free, 94% used',
      evidence: {
        free: 15,
        usable: 251,
        used: 236,
        utilization: 0.94,
        heldNodePrimary: 1,
        heldCniSecondary: 9,
        heldOther: 226,
        heldUnaccounted: 0,
        dataComplete: 'yes',
      },
    });
    expect(f?.evidenceText).toContain('Nodes with ENIs here: general (1 node).');
    expect(f?.evidenceText[1]).toMatch(/^Held: 1 node\/ENI primary, 9 pod secondary, 0 in \/28 prefixes, 0 EKS control plane, 226 other \(226 unattached ENI\), 0 unaccounted\.$/);
  });
});

describe('subnet-exhaustion: the fixes, least disruptive first', () => {
  function fixes(o: { cni?: ReturnType<typeof managedCni> | { kind: 'self-managed' }; spareIn?: string; spareFree?: number }) {
    const w = new World().addSubnet('subnet-a', '10.0.1.0/24', AZ_A).addSubnet('subnet-cni', '100.64.0.0/19', o.spareIn ?? AZ_A);
    w.node({ cluster: CLUSTER, nodegroup: 'general', type: 'm5.large', subnetId: 'subnet-a', enis: [10] });
    w.fillTo('subnet-a', 10);
    if (o.spareFree !== undefined) w.fillTo('subnet-cni', o.spareFree);
    const inv = w.inventory({
      name: CLUSTER,
      subnets: [
        ['subnet-a', ['node']],
        ['subnet-cni', ['cni-discovery']],
      ],
      cni: o.cni,
    });
    const f = run(inv).findings.find((x) => x.id === 'prod/subnet-exhaustion/subnet-a');
    if (!f) throw new Error('no finding');
    return f.fixes;
  }

  it('names a tagged CNI subnet with room in the same AZ', () => {
    const [warm, discovery, custom] = fixes({});
    expect(warm).toMatch(/^Shrink warm pools: replace WARM_ENI_TARGET=1 .* with WARM_IP_TARGET and MINIMUM_IP_TARGET on the vpc-cni add-on/);
    expect(discovery).toMatch(/^Already tagged kubernetes\.io\/role\/cni in eu-west-1a: subnet-cni \(8,187 free\)/);
    expect(custom).toMatch(/^Custom networking: .*100\.64\.0\.0\/10/);
  });

  it('does not name a tagged subnet of another AZ, nor a scarce one', () => {
    expect(fixes({ spareIn: AZ_B })[1]).toMatch(/^Add a subnet in eu-west-1a \(VPC vpc-\w+\) tagged kubernetes\.io\/role\/cni/);
    expect(fixes({ spareFree: 63 })[1]).toMatch(/^Add a subnet in eu-west-1a/);
  });

  it('says to upgrade a CNI older than 1.18 for subnet discovery', () => {
    expect(fixes({ cni: managedCni(undefined, 'v1.16.4-eksbuild.2') })[1]).toContain('upgrade the vpc-cni add-on from v1.16.4-eksbuild.2 to 1.18+ first');
  });

  it('quotes the warm targets in force', () => {
    expect(fixes({ cni: managedCni({ WARM_IP_TARGET: '5', MINIMUM_IP_TARGET: '10' }) })[0]).toMatch(/WARM_IP_TARGET=5, MINIMUM_IP_TARGET=10 on the vpc-cni add-on/);
    expect(fixes({ cni: { kind: 'self-managed' } })[0]).toMatch(/on the aws-node daemonset/);
  });
});

describe('subnet-exhaustion: a nodegroup starved in one AZ', () => {
  /** Nodegroup `general` over a1, a2 (eu-west-1a) and b1 (eu-west-1b); one node in a1 and one in b1. */
  function azCase(freeA1: number, freeA2: number, o: { emptyNodegroup?: boolean } = {}) {
    const w = new World()
      .addSubnet('subnet-a1', '10.0.1.0/24', AZ_A)
      .addSubnet('subnet-a2', '10.0.2.0/24', AZ_A)
      .addSubnet('subnet-b1', '10.0.3.0/24', AZ_B);
    if (!o.emptyNodegroup) {
      w.node({ cluster: CLUSTER, nodegroup: 'general', type: 'm5.large', subnetId: 'subnet-a1', enis: [10] });
      w.node({ cluster: CLUSTER, nodegroup: 'general', type: 'm5.large', subnetId: 'subnet-b1', enis: [10] });
    }
    w.fillTo('subnet-a1', freeA1).fillTo('subnet-a2', freeA2).fillTo('subnet-b1', 200);
    const ng = nodegroup(CLUSTER, 'general', ['m5.large'], ['subnet-a1', 'subnet-a2', 'subnet-b1'], o.emptyNodegroup ? 0 : 2);
    return run(
      w.inventory({
        name: CLUSTER,
        subnets: [
          ['subnet-a1', ['node']],
          ['subnet-a2', ['node']],
          ['subnet-b1', ['node']],
        ],
        nodegroups: [ng],
      }),
    ).findings;
  }

  it('finds the AZ when every subnet of the nodegroup there is scarce', () => {
    const findings = azCase(50, 40);
    expect(ids(ofKind(findings, 'subnet-exhaustion'))).toEqual([
      'warning prod/subnet-exhaustion/general@eu-west-1a',
      'warning prod/subnet-exhaustion/subnet-a1',
      'warning prod/subnet-exhaustion/subnet-a2',
    ]);
    const az = findings.find((f) => f.subject.type === 'availability-zone');
    expect(az).toMatchObject({
      subject: { type: 'availability-zone', id: 'general@eu-west-1a', availabilityZone: AZ_A },
      title: 'Nodegroup general in eu-west-1a: 2 subnets, 90 IPs free, 1 node there',
      evidence: { nodegroup: 'general', free: 90, usable: 502, nodesInAz: 1, freeInOtherAzs: 200, subnetIds: 'subnet-a1,subnet-a2' },
    });
    expect(az?.evidenceText[1]).toBe('Its other AZs: eu-west-1b 200 free: nodes in eu-west-1a cannot use them (an ENI is in its node\'s AZ).');
    expect(az?.fixes[az.fixes.length - 1]).toMatch(/^Or move capacity out of eu-west-1a: a new nodegroup in subnets with room \(eu-west-1b: 200 free\)/);
  });

  it('is critical only when every subnet there is below the critical count', () => {
    expect(azCase(10, 5).find((f) => f.subject.type === 'availability-zone')?.severity).toBe('critical');
    expect(azCase(10, 20).find((f) => f.subject.type === 'availability-zone')?.severity).toBe('warning');
  });

  it('does not find the AZ when one of its subnets there has room', () => {
    expect(ids(ofKind(azCase(50, 64), 'subnet-exhaustion'))).toEqual(['warning prod/subnet-exhaustion/subnet-a1']);
  });

  it('leaves out an empty nodegroup that is not asked to grow (the subnets are still found)', () => {
    expect(ids(ofKind(azCase(50, 40, { emptyNodegroup: true }), 'subnet-exhaustion'))).toEqual([
      'warning prod/subnet-exhaustion/subnet-a1',
      'warning prod/subnet-exhaustion/subnet-a2',
    ]);
  });
});
