import type { DiagnoseThresholds } from '../../lib/diagnose/types';
import { eni } from '../measure/builders';
import { AZ_A, ids, managedCni, nodegroup, ofKind, run, World } from './world';

const CLUSTER = 'prod';

/**
 * Nodegroup `api` of `nodes` nodes of `type` in a roomy /22 (or a scarce one), the first `atLimit`
 * with every ENI attached and full. m5.large: 3 ENIs × 10 IPs, 27 pod IPs, max 29 pods.
 */
function api(o: {
  nodes: number;
  atLimit: number;
  type?: string;
  declaredTypes?: string[];
  thresholds?: Partial<DiagnoseThresholds>;
  scarce?: boolean;
  cni?: ReturnType<typeof managedCni>;
}) {
  const type = o.type ?? 'm5.large';
  const perEni = type.startsWith('t') ? 6 : 10;
  const w = new World().addSubnet('subnet-a', '10.0.0.0/22', AZ_A);
  for (let i = 0; i < o.nodes; i++) {
    w.node({ cluster: CLUSTER, nodegroup: 'api', type, subnetId: 'subnet-a', enis: i < o.atLimit ? [perEni, perEni, perEni] : [5] });
  }
  if (o.scarce) w.fillTo('subnet-a', 20);
  const inv = w.inventory({
    name: CLUSTER,
    subnets: [['subnet-a', ['node']]],
    nodegroups: [nodegroup(CLUSTER, 'api', o.declaredTypes ?? [type], ['subnet-a'], o.nodes)],
    cni: o.cni,
  });
  return run(inv, o.thresholds);
}

describe('eni-limit', () => {
  // Defaults: warning from 25 % of the nodes at their IP limit, critical from 75 %.
  it.each<[string, number, number, Partial<DiagnoseThresholds>, string | undefined]>([
    ['no node at its limit', 4, 0, {}, undefined],
    ['1 of 4 (25 %): exactly the warning share', 4, 1, {}, 'warning'],
    ['1 of 4 with a 26 % warning share', 4, 1, { nodesAtIpLimitWarningShare: 0.26 }, undefined],
    ['2 of 4', 4, 2, {}, 'warning'],
    ['3 of 4 (75 %): exactly the critical share', 4, 3, {}, 'critical'],
    ['3 of 4 with a 76 % critical share', 4, 3, { nodesAtIpLimitCriticalShare: 0.76 }, 'warning'],
    ['4 of 4', 4, 4, {}, 'critical'],
  ])('%s', (_name, nodes, atLimit, thresholds, severity) => {
    const found = ofKind(api({ nodes, atLimit, thresholds }).findings, 'eni-limit');
    expect(found.map((f) => f.severity)).toEqual(severity ? [severity] : []);
  });

  it('shows the limits, and that the subnet is not the cap', () => {
    const [f] = ofKind(api({ nodes: 4, atLimit: 2 }).findings, 'eni-limit');
    expect(f).toMatchObject({
      id: 'prod/eni-limit/api',
      subject: { type: 'nodegroup', id: 'api' },
      title: 'Nodegroup api: 2 of 4 nodes at their IP limit (m5.large, max 29 pods)',
      evidence: {
        nodes: 4,
        nodesAtEniLimit: 2,
        nodesAtIpLimit: 2,
        shareAtIpLimit: 0.5,
        mode: 'secondary-ip',
        'maxPods:m5.large': 29,
        'maxEnis:m5.large': 3,
        'ipv4PerEni:m5.large': 10,
        subnetHasRoom: 'yes',
      },
    });
    expect(f?.evidenceText).toContain('m5.large: 3 ENIs × 10 IPs, max 29 pods (secondary-ip).');
    expect(f?.evidenceText.join('\n')).toContain('the cap is the instance type, not the subnet');
    expect(f?.fixes).toEqual([
      'Turn on prefix delegation (ENABLE_PREFIX_DELEGATION=true on the vpc-cni add-on; m5.large is Nitro): max pods m5.large 29 → 110 for nodes launched after it; needs free /28 blocks in the subnets.',
      'Instance types with more IP capacity (more ENIs or more IPs per ENI) for api: create a new nodegroup, then scale this one down (instance types cannot change in place).',
      'Fewer, larger nodes: m5.large → m5.xlarge (4 ENIs × 15 IPs, max 58 pods).',
    ]);
  });

  it('says when the subnet is a cap as well', () => {
    const [f] = ofKind(api({ nodes: 4, atLimit: 2, scarce: true }).findings, 'eni-limit');
    expect(f?.evidence['subnetHasRoom']).toBe('no');
    expect(f?.evidenceText.join('\n')).toContain('subnet-a 20 free (scarce too): the subnets are a cap as well');
  });

  it('names the instance types that are not Nitro instead of advising prefix delegation', () => {
    const [t2] = ofKind(api({ nodes: 2, atLimit: 2, type: 't2.medium' }).findings, 'eni-limit');
    expect(t2?.fixes[0]).toMatch(/^Prefix delegation needs Nitro instance types: t2\.medium is not Nitro\. Move api to Nitro types first/);
    const [mixed] = ofKind(api({ nodes: 2, atLimit: 2, declaredTypes: ['m5.large', 't2.medium'] }).findings, 'eni-limit');
    expect(mixed?.fixes[0]).toMatch(/^Prefix delegation needs Nitro instance types: t2\.medium is not Nitro\./);
  });

  it('says to replace nodes launched before prefix delegation was turned on', () => {
    const [f] = ofKind(api({ nodes: 2, atLimit: 2, cni: managedCni({ ENABLE_PREFIX_DELEGATION: 'true' }) }).findings, 'eni-limit');
    expect(f?.fixes[0]).toBe(
      'Prefix delegation is on, but 2 nodes of api still use secondary IPs (launched before): replace them; new nodes get /28 prefixes (max pods m5.large 29 → 110).',
    );
  });

  it('finds nothing in an empty nodegroup, and does not divide by zero', () => {
    const { findings, usage } = api({ nodes: 0, atLimit: 0 });
    expect(usage.nodegroups.map((g) => [g.name, g.nodes])).toEqual([['api', 0]]);
    expect(findings).toEqual([]);
  });

  it('does not judge nodes of an unknown instance type, and says the data is incomplete', () => {
    const { findings, usage } = api({ nodes: 2, atLimit: 2, type: 'x9.mega' });
    expect(usage.complete).toBe(false);
    expect(ids(findings)).toEqual([]);
  });

  it('judges the known nodes of a nodegroup that also has unknown ones', () => {
    const w = new World().addSubnet('subnet-a', '10.0.0.0/22', AZ_A);
    w.node({ cluster: CLUSTER, nodegroup: 'api', type: 'm5.large', subnetId: 'subnet-a', enis: [10, 10, 10] });
    w.node({ cluster: CLUSTER, nodegroup: 'api', type: 'x9.mega', subnetId: 'subnet-a', enis: [10, 10, 10] });
    const inv = w.inventory({ name: CLUSTER, subnets: [['subnet-a', ['node']]], nodegroups: [nodegroup(CLUSTER, 'api', ['m5.large', 'x9.mega'], ['subnet-a'], 2)] });
    const [f] = ofKind(run(inv).findings, 'eni-limit');
    expect(f).toMatchObject({ severity: 'critical', evidence: { nodes: 2, nodesAtIpLimit: 1, nodesOfUnknownType: 1, shareAtIpLimit: 1, dataComplete: 'no' } });
    expect(f?.evidenceText).toContain('1 node of an unknown instance type not judged.');
    expect(f?.fixes[0]).toMatch(/^Prefix delegation needs Nitro instance types: x9\.mega: limits unknown\./);
  });
});

describe('eni-limit: ENIs that carry no pods, MAX_ENI, and who sets max pods', () => {
  /** Nodegroup `api` of m5.large nodes with two full ENIs (18 pod IPs) and, with `trunk`, a trunk ENI. */
  function twoEniNodes(o: { nodes: number; trunk?: boolean; cni?: ReturnType<typeof managedCni>; selfManaged?: boolean }) {
    const w = new World().addSubnet('subnet-a', '10.0.0.0/22', AZ_A);
    for (let i = 0; i < o.nodes; i++) {
      const id = w.node({ cluster: CLUSTER, nodegroup: 'api', type: 'm5.large', subnetId: 'subnet-a', enis: [10, 10] });
      if (o.trunk) {
        w.enis.push(eni({ subnetId: 'subnet-a', az: AZ_A, description: 'aws-k8s-trunk-eni', interfaceType: 'trunk', instanceId: id, deviceIndex: 2, ips: w.ips('subnet-a', 1) }));
      }
      if (o.selfManaged) {
        const node = w.instances[w.instances.length - 1]!.instance;
        node.Tags = [
          { Key: 'aws:autoscaling:groupName', Value: 'al2023-workers' },
          { Key: `kubernetes.io/cluster/${CLUSTER}`, Value: 'owned' },
        ];
      }
    }
    const inv = w.inventory({
      name: CLUSTER,
      subnets: [['subnet-a', ['node']]],
      nodegroups: o.selfManaged ? [] : [nodegroup(CLUSTER, 'api', ['m5.large'], ['subnet-a'], o.nodes)],
      cni: o.cni,
    });
    return run(inv);
  }

  it('nodes with a trunk ENI are at their IP limit with 18 pod IPs, and the evidence says why', () => {
    const [f] = ofKind(twoEniNodes({ nodes: 2, trunk: true }).findings, 'eni-limit');
    expect(f).toMatchObject({ severity: 'critical', evidence: { nodesAtIpLimit: 2, 'podEnis:m5.large': 2, 'podIpSlots:m5.large': 18 } });
    expect(f?.evidenceText).toContain('m5.large: 3 ENIs × 10 IPs, 2 of them for pods (a trunk ENI for security groups for pods): 18 pod IPs, max 29 pods (secondary-ip).');
  });

  it('without a trunk ENI the same nodes can still attach a third ENI: no finding', () => {
    expect(ofKind(twoEniNodes({ nodes: 2 }).findings, 'eni-limit')).toEqual([]);
  });

  it('MAX_ENI=2 caps the nodes at two ENIs: raising it is the first fix', () => {
    const [f] = ofKind(twoEniNodes({ nodes: 2, cni: managedCni({ MAX_ENI: '2' }) }).findings, 'eni-limit');
    expect(f?.evidenceText).toContain('m5.large: 3 ENIs × 10 IPs, 2 of them for pods (MAX_ENI=2): 18 pod IPs, max 29 pods (secondary-ip).');
    expect(f?.fixes[0]).toBe(
      'Raise or remove MAX_ENI=2 on the vpc-cni add-on (pkg/ipamd getMaxENI caps the ENIs per node at it): m5.large 18 → 27 pod IPs, on the running nodes too, if the subnets have the room.',
    );
  });

  it('self-managed nodes: prefix delegation needs maxPods in their NodeConfig, nodeadm stays at ENIs × (IPv4 − 1) + 2', () => {
    const [f] = ofKind(twoEniNodes({ nodes: 2, trunk: true, selfManaged: true }).findings, 'eni-limit');
    expect(f?.fixes).toContain(
      "asg:al2023-workers's nodes get max pods from their AMI's bootstrap (self-managed or custom AMI): AL2023's nodeadm sets ENIs × (IPv4 per ENI − 1) + 2 (m5.large 29) whatever the CNI's mode, so with prefix delegation they stay there unless the NodeConfig sets spec.kubelet.config.maxPods (AL2: bootstrap.sh --use-max-pods false --kubelet-extra-args '--max-pods=N').",
    );
  });
});
