import { buildContext } from '../../lib/diagnose/context';
import { warmInSubnet } from '../../lib/diagnose/held-by-others';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import type { CniInstall } from '../../lib/inventory/types';
import { eni } from '../measure/builders';
import { kubeNode, kubeView } from '../support/kube-view';
import { AZ_A, AZ_B, ids, nodegroup, ofKind, run, TYPES, World } from './world';

const CLUSTER = 'prod';

describe('ips-held-by-others: the share of used addresses', () => {
  /** A CNI-discovery /24 with no node: 70 pod addresses (branch ENIs) and 30 other: 100 used, 30 % others. */
  function discoverySubnet(thresholds: Parameters<typeof run>[1]) {
    const w = new World().addSubnet('subnet-d', '10.0.1.0/24', AZ_A);
    w.branches('subnet-d', 70).other('subnet-d', 30);
    return run(w.inventory({ name: CLUSTER, subnets: [['subnet-d', ['cni-discovery']]] }), thresholds).findings;
  }

  it.each<[string, Parameters<typeof run>[1], string | undefined]>([
    ['30 % held by others, threshold 30 %, scarce subnet', { subnetFreeIpsWarning: 200, heldByOthersShare: 0.3 }, 'warning'],
    ['30 % held by others, threshold 31 %', { subnetFreeIpsWarning: 200, heldByOthersShare: 0.31 }, undefined],
    ['30 % held by others, but the subnet is not scarce (151 free)', { heldByOthersShare: 0.3 }, undefined],
  ])('%s', (_name, thresholds, severity) => {
    expect(ofKind(discoverySubnet(thresholds), 'ips-held-by-others').map((f) => f.severity)).toEqual(severity ? [severity] : []);
  });

  it('shows who holds them', () => {
    const [f] = ofKind(discoverySubnet({ subnetFreeIpsWarning: 200 }), 'ips-held-by-others');
    expect(f).toMatchObject({
      id: 'prod/ips-held-by-others/subnet-d',
      title: 'Subnet subnet-d: 151 free, ≥30 of 100 used IPs idle in warm pools or held by others',
      evidence: { free: 151, used: 100, heldShare: 0.3, warmMin: 0, warmMax: 0, other: 30, unaccounted: 0, 'other:unattached ENI': 30 },
    });
    expect(f?.evidenceText).toContain('Other ENIs: 30 unattached ENI (1 ENI).');
    expect(f?.fixes[0]).toBe('Move noisy tenants out of subnet-d: 30 IPs of unattached ENI.');
  });
});

describe('ips-held-by-others: warm pools', () => {
  /**
   * 8 m5.large nodes with 2 full ENIs each (18 secondary IPs), WARM_ENI_TARGET=1: ipamd rests
   * there with 1 to 9 pods (it keeps 9 spare, a whole ENI's worth, and detaches a second spare ENI
   * only when no pod is on it), so 9..17 idle each, 72..136 in all. The /24 is filled to 40 free
   * with pod addresses (branch ENIs): 211 used, 72 / 211 = 34 % idle at least.
   */
  function warmCase(cni?: CniInstall) {
    const w = new World().addSubnet('subnet-a', '10.0.1.0/24', AZ_A);
    for (let i = 0; i < 8; i++) w.node({ cluster: CLUSTER, nodegroup: 'general', type: 'm5.large', subnetId: 'subnet-a', enis: [10, 10] });
    w.fillTo('subnet-a', 40, 'branch');
    return run(w.inventory({ name: CLUSTER, subnets: [['subnet-a', ['node']]], cni })).findings;
  }

  it('estimates the warm pools with the ipamd model', () => {
    const [f] = ofKind(warmCase(), 'ips-held-by-others');
    expect(f).toMatchObject({
      severity: 'warning',
      title: 'Subnet subnet-a: 40 free, ≥72 of 211 used IPs idle in warm pools or held by others',
      evidence: { warmMin: 72, warmMax: 136, warmNodes: 8, heldShare: 0.341, cniSettings: 'defaults' },
    });
    expect(f?.evidenceText[1]).toBe('Warm pools of 8 nodes here: 72–136 idle IPs (ipamd estimate).');
    expect(f?.fixes[0]).toBe(
      'Tune the warm pool on the vpc-cni add-on: set WARM_IP_TARGET / MINIMUM_IP_TARGET instead of WARM_ENI_TARGET=1 to release up to 72–136 idle IPs here.',
    );
    expect(f?.fixes[f.fixes.length - 1]).toMatch(/^Subnet CIDR reservations keep a range for \/28 prefixes only/);
  });

  it('assumes the CNI defaults for a self-managed aws-node, and says so', () => {
    const [f] = ofKind(warmCase({ kind: 'self-managed' }), 'ips-held-by-others');
    expect(f?.evidence).toMatchObject({ warmMin: 72, warmMax: 136, cniSettings: 'assumed CNI defaults' });
    expect(f?.evidenceText[1]).toContain('assuming the CNI defaults WARM_ENI_TARGET=1: the settings of a self-managed aws-node are not visible');
    expect(f?.fixes[0]).toMatch(/^Tune the warm pool on the aws-node daemonset \(settings not visible/);
  });

  it('counts a node\'s warm pool in each subnet by the share of its pod addresses there', () => {
    // Each node: its primary ENI (9 secondaries) in subnet-a, its CNI ENI (9) in subnet-b: half
    // of its 9..17 idle addresses are counted in subnet-b.
    const w = new World().addSubnet('subnet-a', '10.0.1.0/24', AZ_A).addSubnet('subnet-b', '10.0.2.0/24', AZ_A);
    for (let i = 0; i < 8; i++) {
      w.node({ cluster: CLUSTER, nodegroup: 'general', type: 'm5.large', subnetId: 'subnet-a', enis: [10, 10], eniSubnets: ['subnet-a', 'subnet-b'] });
    }
    w.fillTo('subnet-b', 20, 'branch');
    const inv = w.inventory({ name: CLUSTER, subnets: [['subnet-a', ['node']], ['subnet-b', ['cni-discovery']]] });
    const [f] = ofKind(run(inv, { heldByOthersShare: 0.1 }).findings, 'ips-held-by-others');
    expect(f).toMatchObject({ id: 'prod/ips-held-by-others/subnet-b', evidence: { warmMin: 36, warmMax: 68, warmNodes: 8 } });
  });

  it('issue 14: a node Kubernetes reports counts its exact warm pool (held − pods), the rest stay estimated, and the text says which', () => {
    // The same 8 nodes as above (9..17 idle each by the model); Kubernetes reports 4 of them with 16 pods (2 idle each).
    const w = new World().addSubnet('subnet-a', '10.0.1.0/24', AZ_A).addSubnet('subnet-b', '10.0.2.0/24', AZ_A);
    const ids = Array.from({ length: 8 }, () =>
      w.node({ cluster: CLUSTER, nodegroup: 'general', type: 'm5.large', subnetId: 'subnet-a', enis: [10, 10], eniSubnets: ['subnet-a', 'subnet-b'] }),
    );
    w.fillTo('subnet-b', 20, 'branch');
    const nodes = ids.slice(0, 4).map((id) => kubeNode(id));
    const inv = w.inventory({ name: CLUSTER, subnets: [['subnet-a', ['node']], ['subnet-b', ['cni-discovery']]] });
    const kube = kubeView({ nodes, pods: Object.fromEntries(nodes.map((x) => [x.name, { assignedIpv4: 16 }])) });
    const [f] = ofKind(run({ ...inv, kube }, { heldByOthersShare: 0.01 }).findings, 'ips-held-by-others');
    // Exact: 4 nodes × 2 idle × half in subnet-b = 4; estimated: 4 nodes × 9..17 × half = 18..34.
    expect(f).toMatchObject({ id: 'prod/ips-held-by-others/subnet-b', evidence: { warmMin: 22, warmMax: 38, warmNodes: 8, warmNodesKubernetes: 4 } });
    expect(f?.evidenceText[1]).toBe('Warm pools of 8 nodes here: 22–38 idle IPs (Kubernetes: 4 of 8 nodes exact; 4 ipamd estimate).');
  });

  it('a node with a trunk ENI and 2 full ENIs can carry up to 18 pods: its warm pool may be empty', () => {
    // Without the trunk in the model, 3 ENIs of an m5.large could hold 27 and ipamd would have
    // grown the pool past 9 pods: only 1..9 pods (9..17 idle) would fit.
    const w = new World().addSubnet('subnet-a', '10.0.1.0/24', AZ_A);
    for (let i = 0; i < 8; i++) {
      const id = w.node({ cluster: CLUSTER, nodegroup: 'general', type: 'm5.large', subnetId: 'subnet-a', enis: [10, 10] });
      w.enis.push(eni({ subnetId: 'subnet-a', az: AZ_A, interfaceType: 'trunk', description: 'aws-k8s-trunk-eni', instanceId: id, deviceIndex: 2, ips: w.ips('subnet-a', 1) }));
    }
    const inv = w.inventory({ name: CLUSTER, subnets: [['subnet-a', ['node']]] });
    const { usage } = run(inv);
    const warm = warmInSubnet(buildContext(usage, inv, TYPES, DEFAULT_THRESHOLDS), 'subnet-a');
    expect(warm).toMatchObject({ warmMin: 0, warmMax: 136, nodes: 8, nodesInconsistent: 0 });
  });

  it('leaves out the warm pool of nodes of an unknown type, and says so', () => {
    const w = new World().addSubnet('subnet-a', '10.0.1.0/24', AZ_A);
    w.node({ cluster: CLUSTER, nodegroup: 'general', type: 'x9.mega', subnetId: 'subnet-a', enis: [10, 10] });
    w.fillTo('subnet-a', 10);
    const [f] = ofKind(run(w.inventory({ name: CLUSTER, subnets: [['subnet-a', ['node']]] })).findings, 'ips-held-by-others');
    expect(f?.evidence).toMatchObject({ warmNodes: 0, warmMin: 0, dataComplete: 'no' });
    expect(f?.evidenceText).toContain('1 node of an unknown instance type: warm pool not estimated.');
  });
});

describe('a subnet shared by two clusters', () => {
  /**
   * subnet-s (/24, eu-west-1a) holds blue's 4 nodes (one ENI of 10) and green's 4 nodes (a primary
   * ENI of 10 and a CNI ENI of 10), a control-plane ENI of each, and pod addresses up to 30 free.
   */
  function shared() {
    const w = new World().addSubnet('subnet-s', '10.0.1.0/24', AZ_A).addSubnet('subnet-g', '10.0.2.0/24', AZ_B);
    for (let i = 0; i < 4; i++) w.node({ cluster: 'blue', nodegroup: 'web', type: 'm5.large', subnetId: 'subnet-s', enis: [10] });
    for (let i = 0; i < 4; i++) w.node({ cluster: 'green', nodegroup: 'batch', type: 'm5.large', subnetId: 'subnet-s', enis: [10, 10] });
    w.controlPlane('blue', 'subnet-s').controlPlane('green', 'subnet-s').controlPlane('green', 'subnet-g');
    w.fillTo('subnet-s', 30, 'branch');
    const blue = w.inventory({ name: 'blue', subnets: [['subnet-s', ['cluster', 'node']]], nodegroups: [nodegroup('blue', 'web', ['m5.large'], ['subnet-s'], 4)] });
    const green = w.inventory({
      name: 'green',
      subnets: [['subnet-s', ['cluster', 'node']], ['subnet-g', ['cluster']]],
      nodegroups: [nodegroup('green', 'batch', ['m5.large'], ['subnet-s'], 4)],
    });
    return { blue: run(blue).findings, green: run(green).findings };
  }

  it('gives each cluster its own finding, with ids that differ by cluster', () => {
    const { blue, green } = shared();
    expect(ids(ofKind(blue, 'subnet-exhaustion'))).toEqual([
      'warning blue/subnet-exhaustion/subnet-s',
      'warning blue/subnet-exhaustion/web@eu-west-1a',
    ]);
    expect(ids(ofKind(green, 'subnet-exhaustion'))).toEqual([
      'warning green/subnet-exhaustion/batch@eu-west-1a',
      'warning green/subnet-exhaustion/subnet-s',
    ]);
  });

  it('counts the other cluster\'s nodes and control plane as held by others', () => {
    const [f] = ofKind(shared().blue, 'ips-held-by-others');
    expect(f).toMatchObject({
      id: 'blue/ips-held-by-others/subnet-s',
      evidence: {
        otherClusterNodes: 40,
        otherControlPlanes: 1,
        'other:EC2 instance (not a node of this cluster)': 40,
      },
    });
    expect(f?.evidenceText).toContain('Control planes of other clusters: green 1.');
    expect(f?.evidenceText).toContain('40 IPs on VPC CNI ENIs of nodes of other clusters.');
    expect(f?.fixes[1]).toBe(
      'Move noisy tenants out of subnet-s: 40 IPs of EC2 instance (not a node of this cluster), 40 IPs of nodes of other clusters and 1 IP of other clusters’ control planes.',
    );
  });
});

describe('subnet CIDR reservations are reserved, not held by others', () => {
  /**
   * The discovery /24 of the first case (70 pod addresses, 30 other) with an explicit /26
   * reservation nobody uses: EC2 leaves its 64 addresses out of AvailableIpAddressCount (the
   * World's `unaccounted` lowers it so), so 164 are "used".
   */
  function reservedSubnet(withReservations: boolean) {
    const w = new World().addSubnet('subnet-d', '10.0.1.0/24', AZ_A, { unaccounted: 64 });
    w.branches('subnet-d', 70).other('subnet-d', 30);
    const inv = w.inventory({ name: CLUSTER, subnets: [['subnet-d', ['cni-discovery']]] });
    if (withReservations) {
      inv.subnetCidrReservations = [
        { SubnetCidrReservationId: 'scr-0123456789abcdef0', SubnetId: 'subnet-d', Cidr: '10.0.1.128/26', ReservationType: 'explicit' },
      ];
    }
    return run(inv, { subnetFreeIpsWarning: 200, heldByOthersShare: 0.3 }).findings;
  }

  it('without the reservations read, their 64 addresses made 57 % "held by others"', () => {
    const [f] = ofKind(reservedSubnet(false), 'ips-held-by-others');
    expect(f?.evidence).toMatchObject({ used: 164, unaccounted: 64, heldShare: 0.573 });
  });

  it('with them, the reserved addresses are not counted as others: 30 of 164 is below the share', () => {
    expect(ofKind(reservedSubnet(true), 'ips-held-by-others')).toEqual([]);
  });

  it('the exhaustion finding says what is reserved, by type, and that it counts as used', () => {
    const [f] = ofKind(reservedSubnet(true), 'subnet-exhaustion');
    expect(f?.evidence).toMatchObject({ heldReserved: 64, heldUnaccounted: 0 });
    expect(f?.evidenceText).toContain(
      'Subnet CIDR reservations: 1 explicit reservation over 64 IPs (64 unused; only assigned by hand, never to a pod). ' +
        'Their 64 unused IPs are counted as used (AvailableIpAddressCount leaves them out), held by no ENI: reserved, not taken by others.',
    );
    expect(f?.evidenceText.join(' ')).not.toContain('on no ENI this account can see');
    expect(f?.fixes.at(-1)).toBe(
      'Review the explicit subnet CIDR reservations of subnet-d (64 unused IPs no pod can take): aws ec2 get-subnet-cidr-reservations --subnet-id subnet-d; delete what is no longer needed (delete-subnet-cidr-reservation).',
    );
  });
});
