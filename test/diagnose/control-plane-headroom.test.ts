import { AZ_A, AZ_B, AZ_C, ofKind, run, World } from './world';

const CLUSTER = 'prod';

/** Cluster-only subnets (control-plane ENIs, no nodes) filled to the free counts given, by AZ. */
function controlPlane(subnets: [string, string, number][]) {
  const w = new World();
  subnets.forEach(([id, az, free], i) => {
    w.addSubnet(id, `10.0.${i + 1}.0/24`, az).controlPlane(CLUSTER, id).fillTo(id, free);
  });
  return ofKind(run(w.inventory({ name: CLUSTER, subnets: subnets.map(([id]) => [id, ['cluster']]) })).findings, 'control-plane-headroom');
}

describe('control-plane-headroom', () => {
  // EKS needs 6 free per cluster subnet, recommends 16, and free IPs in 2 AZs for an upgrade.
  it.each<[string, [string, string, number][], string | undefined, string | undefined]>([
    ['16 and 16 in two AZs', [['subnet-a', AZ_A, 16], ['subnet-b', AZ_B, 16]], undefined, undefined],
    ['15 free: below the recommended 16', [['subnet-a', AZ_A, 15], ['subnet-b', AZ_B, 100]], 'warning', 'Control plane of prod: subnet subnet-a has 15 free IPs (EKS recommends 16)'],
    ['6 free: the minimum, below the recommendation', [['subnet-a', AZ_A, 6], ['subnet-b', AZ_B, 100]], 'warning', 'Control plane of prod: subnet subnet-a has 6 free IPs (EKS recommends 16)'],
    ['5 free: below EKS\'s minimum', [['subnet-a', AZ_A, 5], ['subnet-b', AZ_B, 100], ['subnet-c', AZ_C, 100]], 'critical', 'Control plane of prod: subnet subnet-a has 5 free IPs (EKS needs 6)'],
    ['plenty free, but in one AZ: an upgrade fails', [['subnet-a1', AZ_A, 100], ['subnet-a2', AZ_A, 100]], 'critical', 'Control plane of prod: 1 AZ with 6+ free IPs, a version upgrade needs 2'],
    ['5 and 5: no AZ qualifies', [['subnet-a', AZ_A, 5], ['subnet-b', AZ_B, 5]], 'critical', 'Control plane of prod: 0 AZs with 6+ free IPs, a version upgrade needs 2'],
  ])('%s', (_name, subnets, severity, title) => {
    const found = controlPlane(subnets);
    expect(found.map((f) => [f.severity, f.title])).toEqual(severity ? [[severity, title]] : []);
  });

  it('names subnets to move the control plane to, in two AZs, with the EKS command', () => {
    const [f] = controlPlane([['subnet-a', AZ_A, 7], ['subnet-b', AZ_B, 100], ['subnet-c', AZ_C, 50]]);
    expect(f).toMatchObject({ id: 'prod/control-plane-headroom/prod', subject: { type: 'cluster', id: 'prod' }, evidence: { minFree: 7, minFreeSubnetId: 'subnet-a', azsWithMinimum: 3, upgradeReady: 'yes' } });
    expect(f?.fixes).toEqual([
      'Free IPs in subnet-a: move other ENIs (load balancers, endpoints) out of it.',
      'Give the control plane subnets with room (EKS allows it since 2023): aws eks update-cluster-config --name prod --resources-vpc-config subnetIds=subnet-b,subnet-c',
    ]);
  });

  it('finds nothing without a cluster subnet', () => {
    const w = new World().addSubnet('subnet-n', '10.0.1.0/24', AZ_A);
    expect(ofKind(run(w.inventory({ name: CLUSTER, subnets: [['subnet-n', ['node']]] })).findings, 'control-plane-headroom')).toEqual([]);
  });
});
