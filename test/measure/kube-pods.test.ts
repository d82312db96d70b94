import { measureCluster } from '../../lib/measure/measure';
import { IP_FAILURE_WINDOW_MINUTES, recentIpFailures } from '../../lib/measure/kube-pods';
import { podIpUseLine } from '../../lib/output/report/text';
import { AZ_A, TYPES, World, managedCni } from '../diagnose/world';
import { ipFailure, kubeDenied, kubeNode, kubeView, READ_AT } from '../support/kube-view';

/** Two m5.large nodes with 2 ENIs of 10 addresses each: 18 secondary IPs = 18 pod IPs held. */
function twoNodes() {
  const w = new World().addSubnet('subnet-a', '10.0.0.0/24', AZ_A);
  const a = w.node({ cluster: 'c', nodegroup: 'ng', type: 'm5.large', subnetId: 'subnet-a', enis: [10, 10] });
  const b = w.node({ cluster: 'c', nodegroup: 'ng', type: 'm5.large', subnetId: 'subnet-a', enis: [10, 10] });
  const inv = w.inventory({ name: 'c', subnets: [['subnet-a', ['node', 'cluster']]], cni: managedCni({ WARM_IP_TARGET: '2' }) });
  return { w, a, b, inv };
}

describe('measure: pod addresses from Kubernetes (lib/measure/kube-pods.ts)', () => {
  it('a node Kubernetes reports is exact: assigned = its pods with an IPv4 pod IP, warm = held − assigned', () => {
    const { a, b, inv } = twoNodes();
    const na = kubeNode(a, { maxPods: 58 });
    const usage = measureCluster({ ...inv, kube: kubeView({ nodes: [na], pods: { [na.name]: { assignedIpv4: 12, hostNetwork: 3, awaitingIp: 1 } } }) }, TYPES);
    const nodeA = usage.nodes.find((x) => x.instanceId === a);
    expect(nodeA).toMatchObject({
      podIps: 18,
      podIpsSource: 'kubernetes',
      podIpUse: { source: 'kubernetes', assigned: 12, warm: 6, awaitingIp: 1, hostNetwork: 3 },
      kubeNodeName: na.name,
      // The kubelet's value next to the computed one.
      kubeletMaxPods: 58,
      limits: { maxPods: 29 },
    });
    // b has no Node: the ipamd model's range, and it says so.
    const nodeB = usage.nodes.find((x) => x.instanceId === b);
    expect(nodeB?.podIpsSource).toBe('estimated');
    expect(nodeB?.podIpUse?.source).toBe('estimated');
    expect(nodeB?.kubeletMaxPods).toBeUndefined();
    expect(usage.podIpUse).toMatchObject({ nodesKubernetes: 1, nodesEstimated: 1, nodesUnmeasured: 0, assigned: 12, warm: 6 });
  });

  it('a Node with no pods listed runs none that hold an address: all it holds is warm', () => {
    const { a, inv } = twoNodes();
    const usage = measureCluster({ ...inv, kube: kubeView({ nodes: [kubeNode(a)], pods: {} }) }, TYPES);
    expect(usage.nodes.find((x) => x.instanceId === a)?.podIpUse).toEqual({ source: 'kubernetes', assigned: 0, warm: 18, awaitingIp: 0, hostNetwork: 0 });
  });

  it('more pods than held addresses (security groups for pods: branch ENIs) leaves warm at 0, not below', () => {
    const { a, inv } = twoNodes();
    const na = kubeNode(a);
    const usage = measureCluster({ ...inv, kube: kubeView({ nodes: [na], pods: { [na.name]: { assignedIpv4: 25 } } }) }, TYPES);
    expect(usage.nodes.find((x) => x.instanceId === a)?.podIpUse).toMatchObject({ assigned: 25, warm: 0 });
  });

  it('keeps the estimate everywhere when the API could not be read, and the report says why', () => {
    const { inv } = twoNodes();
    const usage = measureCluster({ ...inv, kube: kubeDenied() }, TYPES);
    expect(usage.nodes.map((x) => x.podIpsSource)).toEqual(['estimated', 'estimated']);
    expect(usage.podIpUse).toMatchObject({ nodesKubernetes: 0, nodesEstimated: 2 });
    expect(usage.kube).toMatchObject({ access: { ok: false, reason: 'authentication-mode' }, podsRead: false, eventsRead: false, podsFailingIp: 0 });
    expect(podIpUseLine(usage)).toMatch(/^Pod IPs: warm \d+(–\d+)? \/ assigned \d+(–\d+)? \(estimated by the ipamd model: Kubernetes not readable \(authentication-mode: /);
  });

  it('pods not read: the estimate, but the kubelet max pods of the Nodes read is still carried', () => {
    const { a, inv } = twoNodes();
    const usage = measureCluster({ ...inv, kube: kubeView({ nodes: [kubeNode(a, { maxPods: 17 })], pods: null }) }, TYPES);
    const nodeA = usage.nodes.find((x) => x.instanceId === a);
    expect(nodeA).toMatchObject({ podIpsSource: 'estimated', kubeletMaxPods: 17 });
    expect(usage.kube?.podsRead).toBe(false);
  });

  it('without a Kubernetes part: estimated, and no kube section', () => {
    const { inv } = twoNodes();
    const usage = measureCluster(inv, TYPES);
    expect(usage.kube).toBeUndefined();
    expect(podIpUseLine(usage)).toContain('estimated by the ipamd model: Kubernetes not read');
  });

  it('the report line gives exact and estimated parts and counts the nodes of each', () => {
    const { a, b, inv } = twoNodes();
    const na = kubeNode(a);
    const nb = kubeNode(b);
    const both = measureCluster({ ...inv, kube: kubeView({ nodes: [na, nb], pods: { [na.name]: { assignedIpv4: 12 }, [nb.name]: { assignedIpv4: 16 } } }) }, TYPES);
    expect(podIpUseLine(both)).toBe('Pod IPs: warm 8 / assigned 28 (exact, from Kubernetes: 2 of 2 nodes)');
    const one = measureCluster({ ...inv, kube: kubeView({ nodes: [na], pods: { [na.name]: { assignedIpv4: 12 } } }) }, TYPES);
    const e = one.nodes.find((x) => x.instanceId === b)?.podIpUse;
    if (e?.source !== 'estimated') throw new Error('b should be estimated');
    const range = (lo: number, hi: number): string => (lo === hi ? `${lo}` : `${lo}–${hi}`);
    expect(podIpUseLine(one)).toBe(
      `Pod IPs: warm ${range(6 + e.warmMin, 6 + e.warmMax)} / assigned ${range(12 + e.assignedMin, 12 + e.assignedMax)} (Kubernetes: 1 of 2 nodes; 1 estimated)`,
    );
  });
});

describe('measure: IP-assignment failures now', () => {
  it(`counts failures last seen within ${IP_FAILURE_WINDOW_MINUTES} minutes of the read, and distinct pods among them`, () => {
    const { inv } = twoNodes();
    const failures = [
      ipFailure('node-1', ['default/a', 'default/b'], 1),
      ipFailure('node-2', ['default/b', 'default/c'], IP_FAILURE_WINDOW_MINUTES), // at the edge: in
      ipFailure('node-3', ['default/old'], IP_FAILURE_WINDOW_MINUTES + 0.5), // just out
    ];
    const usage = measureCluster({ ...inv, kube: kubeView({ ipFailures: failures }) }, TYPES);
    expect(usage.kube?.recentIpFailures.map((f) => f.node)).toEqual(['node-1', 'node-2']);
    expect(usage.kube?.podsFailingIp).toBe(3);
    expect(usage.kube?.eventsRead).toBe(true);
  });

  it('events not read: not known (eventsRead false), never a 0 that looks like none', () => {
    const { inv } = twoNodes();
    const usage = measureCluster({ ...inv, kube: kubeView({ ipFailures: null }) }, TYPES);
    expect(usage.kube).toMatchObject({ eventsRead: false, podsFailingIp: 0 });
  });

  it('an unparsable time counts as not recent', () => {
    expect(recentIpFailures([{ ...ipFailure('n', ['a/b'], 0), lastSeen: 'yesterday' }], READ_AT)).toEqual([]);
    expect(recentIpFailures([ipFailure('n', ['a/b'], 0)], 'not a time')).toEqual([]);
  });
});

describe('the report line on an IPv6 cluster', () => {
  it('is left out: pods take IPv6 addresses there', () => {
    const w = new World().addSubnet('subnet-a', '10.0.0.0/24', AZ_A);
    w.node({ cluster: 'c', nodegroup: 'ng', type: 'm5.large', subnetId: 'subnet-a', enis: [1] });
    const inv = w.inventory({ name: 'c', subnets: [['subnet-a', ['node', 'cluster']]] });
    const v4 = measureCluster(inv, TYPES);
    expect(podIpUseLine(v4)).toBeDefined();
    const v6 = measureCluster({ ...inv, cluster: { ...inv.cluster, kubernetesNetworkConfig: { ipFamily: 'ipv6', serviceIpv6Cidr: 'fd00::/108' } } }, TYPES);
    expect(podIpUseLine(v6)).toBeUndefined();
  });
});
