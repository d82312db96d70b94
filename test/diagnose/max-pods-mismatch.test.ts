import type { ClusterInventory } from '../../lib/inventory/types';
import { AZ_A, TYPES, World, managedCni, ofKind, run } from './world';
import { ipFailure, kubeNode, kubeView } from '../support/kube-view';
import type { KubeNode } from '../../lib/inventory/kube-types';

/** `count` m5.large nodes of nodegroup `ng`, each with the ENIs given, and a kube view giving each the kubelet max pods. */
function cluster(o: { maxPods: number[]; enis?: number[][]; prefixes?: number[][]; env?: Record<string, string>; ng?: string }) {
  const w = new World().addSubnet('subnet-a', '10.1.0.0/20', AZ_A);
  const ids = o.maxPods.map((_, i) =>
    w.node({ cluster: 'c', nodegroup: o.ng ?? 'api', type: 'm5.large', subnetId: 'subnet-a', enis: o.enis?.[i] ?? [5], prefixes: o.prefixes?.[i] }),
  );
  const nodes: KubeNode[] = ids.map((id, i) => kubeNode(id, { maxPods: o.maxPods[i] }));
  const inv = w.inventory({ name: 'c', subnets: [['subnet-a', ['node', 'cluster']]], cni: managedCni(o.env ?? {}) });
  return { inv, nodes, ids };
}

const withKube = (inv: ClusterInventory, view: ReturnType<typeof kubeView>): ClusterInventory => ({ ...inv, kube: view });

describe('max-pods-mismatch', () => {
  it.each([
    // m5.large, secondary IPs: 3 ENIs × 9 slots = 27 + 2 host-network pods = 29.
    [29, undefined],
    [30, 'warning'],
    [58, 'warning'],
    // In secondary-IP mode the calculator gives 29: under 50 % of it (14.5) is waste.
    [15, undefined],
    [14, 'warning'],
  ])('m5.large in secondary-IP mode, kubelet max pods %s: %s', (maxPods, severity) => {
    const { inv, nodes } = cluster({ maxPods: [maxPods, maxPods] });
    const [f, ...rest] = ofKind(run(withKube(inv, kubeView({ nodes, pods: {} }))).findings, 'max-pods-mismatch');
    expect(rest).toEqual([]);
    expect(f?.severity).toBe(severity);
    if (f) expect(f).toMatchObject({ id: 'c/max-pods-mismatch/api', subject: { type: 'nodegroup', id: 'api' } });
  });

  it('one finding covers the nodegroup\'s nodes, with the numbers by type and a fix naming the launch template', () => {
    const { inv, nodes } = cluster({ maxPods: [58, 58, 58] });
    const [f] = ofKind(run(withKube(inv, kubeView({ nodes, pods: {} }))).findings, 'max-pods-mismatch');
    expect(f?.title).toBe("Nodegroup api: kubelet max pods 58 above the 29 pods the nodes' IPs serve on 3 nodes: pods will fail to get addresses");
    expect(f?.evidence).toMatchObject({ nodesOver: 3, nodesUnder: 0, 'kubeletMaxPods:m5.large': '58', 'ipCapacity:m5.large': '29' });
    expect(f?.fixes[0]).toContain("nodegroup api's launch template user data: AL2023 nodeadm NodeConfig spec.kubelet.config.maxPods");
    expect(f?.fixes[0]).toContain('at most 29');
    // m5 is Nitro and the cluster is in secondary-IP mode: prefix delegation is the other way out.
    expect(f?.fixes.some((x) => x.includes('ENABLE_PREFIX_DELEGATION=true'))).toBe(true);
  });

  it('critical once it bites: a node over capacity already at its IP limit', () => {
    // The second node holds 3 full ENIs (27 secondary IPs): no slot left.
    const { inv, nodes } = cluster({ maxPods: [58, 58], enis: [[5], [10, 10, 10]] });
    const [f] = ofKind(run(withKube(inv, kubeView({ nodes, pods: {} }))).findings, 'max-pods-mismatch');
    expect(f?.severity).toBe('critical');
    expect(f?.evidence['nodesOverAndBiting']).toBe(1);
  });

  it('critical once it bites: pods failing for addresses on a node over capacity', () => {
    const { inv, nodes } = cluster({ maxPods: [58] });
    const view = kubeView({ nodes, pods: {}, ipFailures: [ipFailure(nodes[0]?.name, ['default/web-1'], 2)] });
    expect(ofKind(run(withKube(inv, view)).findings, 'max-pods-mismatch')[0]?.severity).toBe('critical');
  });

  it('prefix mode: max pods left at the secondary-IP figure wastes the nodes (the calculator gives 110)', () => {
    const { inv, nodes } = cluster({ maxPods: [29, 29], enis: [[1], [1]], prefixes: [[2], [2]], env: { ENABLE_PREFIX_DELEGATION: 'true' } });
    const [f] = ofKind(run(withKube(inv, kubeView({ nodes, pods: {} }))).findings, 'max-pods-mismatch');
    expect(f?.severity).toBe('warning');
    expect(f?.title).toBe("Nodegroup api: kubelet max pods 29 under 50% of the 110 the nodes' IPs allow on 2 nodes: capacity wasted");
    expect(f?.fixes[0]).toContain('110 (the calculator\'s figure for the mode)');
  });

  it('the waste threshold is the diagnosis threshold maxPodsWasteShare', () => {
    const { inv, nodes } = cluster({ maxPods: [29], enis: [[1]], prefixes: [[2]], env: { ENABLE_PREFIX_DELEGATION: 'true' } });
    const view = withKube(inv, kubeView({ nodes, pods: {} }));
    // 29 of 110 is 26.4 %.
    expect(ofKind(run(view, { maxPodsWasteShare: 0.27 }).findings, 'max-pods-mismatch')).toHaveLength(1);
    expect(ofKind(run(view, { maxPodsWasteShare: 0.26 }).findings, 'max-pods-mismatch')).toHaveLength(0);
  });

  it('nothing without the kubelet figure (no Kubernetes part, or the Nodes not read)', () => {
    const { inv } = cluster({ maxPods: [58] });
    expect(ofKind(run(inv).findings, 'max-pods-mismatch')).toEqual([]);
  });

  it('a Karpenter NodePool: the fix names its EC2NodeClass spec.kubelet.maxPods and the instance sizes', () => {
    const { inv, nodes, ids } = cluster({ maxPods: [58, 58], ng: 'x' });
    const karpenter: ClusterInventory = {
      ...inv,
      instances: inv.instances.map((i) => ({
        ...i,
        Tags: [
          { Key: 'kubernetes.io/cluster/c', Value: 'owned' },
          { Key: 'karpenter.sh/nodepool', Value: 'default' },
        ],
      })),
    };
    expect(ids).toHaveLength(2);
    const view = kubeView({ nodes: nodes.map((x) => ({ ...x, nodePool: 'default' })), pods: {} });
    view.karpenter = {
      nodePools: [{ name: 'default', nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'dense' }, requirements: [] }],
      nodeClasses: [{ name: 'dense', subnetSelectorTerms: [], kubeletMaxPods: 58 }],
    };
    const [f] = ofKind(run({ ...karpenter, kube: view }, {}, TYPES).findings, 'max-pods-mismatch');
    expect(f?.id).toBe('c/max-pods-mismatch/karpenter:default');
    expect(f?.title).toMatch(/^NodePool default: kubelet max pods 58 above the 29/);
    expect(f?.fixes[0]).toBe(
      "Set EC2NodeClass dense spec.kubelet.maxPods (now 58) to at most 29, or remove it so that Karpenter sizes max pods from each instance type's ENI limits; Karpenter then replaces the drifted nodes.",
    );
    expect(f?.fixes[1]).toContain('karpenter.k8s.aws/instance-size NotIn large');
  });
});
