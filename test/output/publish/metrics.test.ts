import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import { measure, measureCluster } from '../../../lib/measure/measure';
import type { Usage } from '../../../lib/measure/types';
import type { ClusterInventory, CollectionProblem, FailedCluster, Inventory } from '../../../lib/inventory/types';
import { buildMetricData, METRIC } from '../../../lib/output/publish/metrics';
import {
  addresses,
  cniEni,
  clusterInventory,
  controlPlaneEni,
  instance,
  instanceTypes,
  loadBalancerEni,
  managedTags,
  nodegroup,
  nodePrimaryEni,
  REGION,
  subnet,
} from '../../measure/builders';
import { kubeDenied, kubeNode, kubeView } from '../../support/kube-view';

const COLLECTED_AT = '2026-12-01T10:00:00.000Z';
const A = 'subnet-0a1a1a1a1a1a1a1a1';
const B = 'subnet-0b2b2b2b2b2b2b2b2';

/**
 * Cluster `prod`: subnets A (/24, 10 unaccounted) and B (/28, node-only); nodegroup `general`
 * (one m5.large at its ENI and IP limits) and an empty managed nodegroup `spare`.
 */
function prodInventory(): ClusterInventory {
  const node = 'i-0aaa1111aaaa1111a';
  return clusterInventory({
    name: 'prod',
    subnets: [
      // A: 3 + 27 node addresses, 1 control plane, 1 load balancer = 32 visible; 10 unaccounted.
      [subnet(A, '10.0.1.0/24', 'eu-west-1a', 251 - 42), ['cluster', 'node']],
      [subnet(B, '10.0.2.0/28', 'eu-west-1b', 11), ['cluster']],
    ],
    networkInterfaces: [
      nodePrimaryEni(node, A, 'eu-west-1a', addresses('10.0.1.0', 10, 10)),
      cniEni(node, A, 'eu-west-1a', addresses('10.0.1.0', 20, 10), { deviceIndex: 1 }),
      cniEni(node, A, 'eu-west-1a', addresses('10.0.1.0', 30, 10), { deviceIndex: 2 }),
      controlPlaneEni('prod', A, 'eu-west-1a', '10.0.1.4'),
      loadBalancerEni(A, 'eu-west-1a', '10.0.1.5'),
    ],
    instances: [instance(node, 'm5.large', A, 'eu-west-1a', managedTags('prod', 'general'))],
    nodegroups: [nodegroup('prod', 'general', ['m5.large'], [A], 1), nodegroup('prod', 'spare', ['m5.large'], [A], 0)],
  });
}

function usageOf(clusters: ClusterInventory[], failedClusters: FailedCluster[] = []): Usage {
  const inv: Inventory = {
    region: REGION,
    collectedAt: COLLECTED_AT,
    clusters,
    failedClusters,
    instanceTypes: instanceTypes('m5.large'),
    unknownInstanceTypes: [],
  };
  return measure(inv);
}

/** `Name=Value,...` of a datum's dimensions, in order. */
const dimsOf = (d: MetricDatum): string => (d.Dimensions ?? []).map((x) => `${x.Name}=${x.Value}`).join(',');

function find(data: MetricDatum[], name: string, dims: string): MetricDatum {
  const hits = data.filter((d) => d.MetricName === name && dimsOf(d) === dims);
  if (hits.length !== 1) throw new Error(`${hits.length} data for ${name} {${dims}}`);
  return hits[0]!;
}

describe('buildMetricData', () => {
  const failed: FailedCluster = { name: 'legacy', problem: { source: 'eks:DescribeCluster', message: 'AccessDeniedException', code: 'AccessDeniedException' } };
  const data = buildMetricData(usageOf([prodInventory()], [failed]));

  const expected: [string, string, 'Count' | 'Percent', number][] = [
    // Per subnet: available, utilization, and one datum per holder.
    [METRIC.SubnetAvailableIps, `ClusterName=prod,SubnetId=${A}`, 'Count', 209],
    [METRIC.SubnetUtilization, `ClusterName=prod,SubnetId=${A}`, 'Percent', 16.73], // 42 / 251
    [METRIC.SubnetIpsHeld, `ClusterName=prod,SubnetId=${A},Holder=NodePrimary`, 'Count', 3],
    [METRIC.SubnetIpsHeld, `ClusterName=prod,SubnetId=${A},Holder=CniSecondary`, 'Count', 27],
    [METRIC.SubnetIpsHeld, `ClusterName=prod,SubnetId=${A},Holder=CniPrefix`, 'Count', 0],
    [METRIC.SubnetIpsHeld, `ClusterName=prod,SubnetId=${A},Holder=ControlPlane`, 'Count', 1],
    [METRIC.SubnetIpsHeld, `ClusterName=prod,SubnetId=${A},Holder=Other`, 'Count', 1],
    [METRIC.SubnetIpsHeld, `ClusterName=prod,SubnetId=${A},Holder=Unaccounted`, 'Count', 10],
    [METRIC.SubnetAvailableIps, `ClusterName=prod,SubnetId=${B}`, 'Count', 11],
    [METRIC.SubnetUtilization, `ClusterName=prod,SubnetId=${B}`, 'Percent', 0],
    // Issue 13, per subnet: this cluster's share (node 30 + control plane 1), the other clusters', the leaked ENIs.
    [METRIC.SubnetClusterIps, `ClusterName=prod,SubnetId=${A}`, 'Count', 31],
    [METRIC.SubnetOtherClustersIps, `ClusterName=prod,SubnetId=${A}`, 'Count', 0],
    [METRIC.SubnetLeakedEniIps, `ClusterName=prod,SubnetId=${A}`, 'Count', 0],
    [METRIC.SubnetClusterIps, `ClusterName=prod,SubnetId=${B}`, 'Count', 0],
    [METRIC.SubnetOtherClustersIps, `ClusterName=prod,SubnetId=${B}`, 'Count', 0],
    [METRIC.SubnetLeakedEniIps, `ClusterName=prod,SubnetId=${B}`, 'Count', 0],
    [METRIC.ClusterLeakedEnis, 'ClusterName=prod', 'Count', 0],
    // Per cluster. B is a cluster subnet only: not a pod subnet.
    [METRIC.ClusterAvailableIps, 'ClusterName=prod', 'Count', 209],
    [METRIC.ClusterMinSubnetAvailableIps, 'ClusterName=prod', 'Count', 209],
    [METRIC.ControlPlaneMinAvailableIps, 'ClusterName=prod', 'Count', 11],
    [METRIC.ControlPlaneAzsWithMinimumFree, 'ClusterName=prod', 'Count', 2],
    [METRIC.Nodes, 'ClusterName=prod', 'Count', 1],
    [METRIC.PodCapacity, 'ClusterName=prod', 'Count', 29],
    [METRIC.PodIps, 'ClusterName=prod', 'Count', 27],
    [METRIC.NodesAtEniLimit, 'ClusterName=prod', 'Count', 1],
    [METRIC.NodesAtIpLimit, 'ClusterName=prod', 'Count', 1],
    [METRIC.DataIncomplete, 'ClusterName=prod', 'Count', 0],
    [METRIC.SamplingFailed, 'ClusterName=prod', 'Count', 0],
    // Per nodegroup.
    [METRIC.NodegroupNodes, 'ClusterName=prod,NodegroupName=general', 'Count', 1],
    [METRIC.NodegroupPodCapacity, 'ClusterName=prod,NodegroupName=general', 'Count', 29],
    [METRIC.NodegroupEniUtilization, 'ClusterName=prod,NodegroupName=general', 'Percent', 100],
    [METRIC.NodegroupIpUtilization, 'ClusterName=prod,NodegroupName=general', 'Percent', 100],
    [METRIC.NodegroupNodesAtEniLimit, 'ClusterName=prod,NodegroupName=general', 'Count', 1],
    [METRIC.NodegroupNodes, 'ClusterName=prod,NodegroupName=spare', 'Count', 0],
    [METRIC.NodegroupEniUtilization, 'ClusterName=prod,NodegroupName=spare', 'Percent', 0],
    [METRIC.NodegroupIpUtilization, 'ClusterName=prod,NodegroupName=spare', 'Percent', 0],
    // A cluster that could not be sampled.
    [METRIC.SamplingFailed, 'ClusterName=legacy', 'Count', 1],
    // Account-wide.
    [METRIC.ClustersSampled, '', 'Count', 1],
    [METRIC.ClustersFailed, '', 'Count', 1],
  ];
  it.each(expected)('%s {%s} is %s %d', (name, dims, unit, value) => {
    const d = find(data, name, dims);
    expect({ unit: d.Unit, value: d.Value }).toEqual({ unit, value });
    expect(d.Timestamp).toEqual(new Date(COLLECTED_AT));
  });

  it('publishes exactly 2 subnets × 12 + 12 cluster + 2 nodegroups × 5 + 1 failed + 2', () => {
    expect(data).toHaveLength(2 * 12 + 12 + 2 * 5 + 1 + 2);
  });

  it('uses only the documented metric names and dimension sets', () => {
    const shapes = new Set(data.map((d) => `${d.MetricName}:${(d.Dimensions ?? []).map((x) => x.Name).join(',')}`));
    const allowed = new Set([
      ...[METRIC.SubnetAvailableIps, METRIC.SubnetUtilization, METRIC.SubnetClusterIps, METRIC.SubnetOtherClustersIps, METRIC.SubnetLeakedEniIps].map(
        (m) => `${m}:ClusterName,SubnetId`,
      ),
      `${METRIC.SubnetIpsHeld}:ClusterName,SubnetId,Holder`,
      ...[
        METRIC.ClusterAvailableIps,
        METRIC.ClusterMinSubnetAvailableIps,
        METRIC.ControlPlaneMinAvailableIps,
        METRIC.ControlPlaneAzsWithMinimumFree,
        METRIC.Nodes,
        METRIC.PodCapacity,
        METRIC.PodIps,
        METRIC.NodesAtEniLimit,
        METRIC.NodesAtIpLimit,
        METRIC.DataIncomplete,
        METRIC.SamplingFailed,
        METRIC.ClusterLeakedEnis,
      ].map((m) => `${m}:ClusterName`),
      ...[
        METRIC.NodegroupNodes,
        METRIC.NodegroupPodCapacity,
        METRIC.NodegroupEniUtilization,
        METRIC.NodegroupIpUtilization,
        METRIC.NodegroupNodesAtEniLimit,
      ].map((m) => `${m}:ClusterName,NodegroupName`),
      `${METRIC.ClustersSampled}:`,
      `${METRIC.ClustersFailed}:`,
    ]);
    for (const shape of shapes) expect(allowed).toContain(shape);
    expect(shapes.size).toBe(allowed.size);
  });

  it('never publishes the same metric and dimensions twice', () => {
    const keys = data.map((d) => `${d.MetricName}{${dimsOf(d)}}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('marks an incomplete cluster with DataIncomplete=1', () => {
    const inv = prodInventory();
    inv.problems.push({ source: 'ec2:DescribeInstances', message: 'cluster prod: UnauthorizedOperation' });
    expect(find(buildMetricData(usageOf([inv])), METRIC.DataIncomplete, 'ClusterName=prod').Value).toBe(1);
  });

  it('with no clusters at all, still says how many were sampled and failed', () => {
    const none = buildMetricData(usageOf([]));
    expect(none.map((d) => [d.MetricName, d.Value, dimsOf(d)])).toEqual([
      [METRIC.ClustersSampled, 0, ''],
      [METRIC.ClustersFailed, 0, ''],
    ]);
  });

  it('with only failed clusters: SamplingFailed=1 for each, by name', () => {
    const only = buildMetricData(usageOf([], [failed, { ...failed, name: 'batch-dev' }]));
    expect(only.map((d) => [d.MetricName, d.Value, dimsOf(d)])).toEqual([
      [METRIC.SamplingFailed, 1, 'ClusterName=legacy'],
      [METRIC.SamplingFailed, 1, 'ClusterName=batch-dev'],
      [METRIC.ClustersSampled, 0, ''],
      [METRIC.ClustersFailed, 2, ''],
    ]);
  });
});

describe('buildMetricData: the number of metrics', () => {
  /** Upper bound of data per cluster that is not per subnet or nodegroup. */
  const PER_CLUSTER = 12;

  /**
   * A cluster with `subnets` /24 subnets and `nodegroups` managed nodegroups of `nodesPerGroup`
   * m5.large nodes each, every node with a primary ENI and a CNI ENI.
   */
  function cluster(name: string, subnets: number, nodegroups: number, nodesPerGroup: number): ClusterInventory {
    const subnetIds = Array.from({ length: subnets }, (_, i) => `subnet-0${name}${String(i).padStart(4, '0')}`);
    const instances = [];
    const enis = [];
    for (let g = 0; g < nodegroups; g++) {
      for (let n = 0; n < nodesPerGroup; n++) {
        const id = `i-0${name}${String(g).padStart(3, '0')}${String(n).padStart(5, '0')}`;
        const s = subnetIds[n % subnets]!;
        instances.push(instance(id, 'm5.large', s, 'eu-west-1a', managedTags(name, `ng-${g}`)));
        enis.push(nodePrimaryEni(id, s, 'eu-west-1a', ['10.0.0.10', '10.0.0.11']), cniEni(id, s, 'eu-west-1a', ['10.0.0.12', '10.0.0.13']));
      }
    }
    return clusterInventory({
      name,
      subnets: subnetIds.map((id, i) => [subnet(id, `10.${i}.0.0/16`, i % 2 === 0 ? 'eu-west-1a' : 'eu-west-1b', 60000), ['cluster', 'node']]),
      networkInterfaces: enis,
      instances,
      nodegroups: Array.from({ length: nodegroups }, (_, g) => nodegroup(name, `ng-${g}`, ['m5.large'], subnetIds, nodesPerGroup)),
    });
  }

  it.each([
    // subnets, nodegroups, clusters, failed, nodes per nodegroup
    [1, 1, 1, 0, 1],
    [3, 2, 1, 0, 10],
    [3, 4, 3, 2, 5],
    [6, 0, 2, 1, 0],
  ])('%i subnets, %i nodegroups, %i clusters, %i failed, %i nodes a group: within subnets×12 + nodegroups×5 + clusters×12 + 2', (subnets, groups, clusters, failed, nodes) => {
    const invs = Array.from({ length: clusters }, (_, c) => cluster(`c${c}`, subnets, groups, nodes));
    const failedClusters = Array.from({ length: failed }, (_, f) => ({ name: `f${f}`, problem: { source: 'eks:DescribeCluster', message: 'AccessDenied' } }));
    const data = buildMetricData(usageOf(invs, failedClusters));
    const bound = clusters * (subnets * 12 + groups * 5 + PER_CLUSTER) + failed + 2;
    expect(data.length).toBeLessThanOrEqual(bound);
    // Every cluster here has cluster subnets and pod subnets, so the bound is exact.
    expect(data.length).toBe(bound);
  });

  it('does not grow with the number of nodes', () => {
    const counts = [1, 10, 100].map((nodes) => buildMetricData(usageOf([cluster('big', 3, 2, nodes)])).length);
    expect(counts).toEqual([counts[0], counts[0], counts[0]]);
    expect(measureCluster(cluster('big', 3, 2, 100), instanceTypes('m5.large')).nodes).toHaveLength(200);
  });
});

describe('figures that rest on a failed read are not published', () => {
  // Problems as the collector makes them: a failed read says what it leaves unread (collect.ts `settle`).
  it.each<[string, CollectionProblem[], boolean, boolean, boolean]>([
    ['complete data', [], true, true, true],
    ['ENIs not read', [{ source: 'ec2:DescribeNetworkInterfaces', message: 'denied', code: 'UnauthorizedOperation', unread: { part: 'network-interfaces', ids: ['subnet-a'] } }], false, false, false],
    ['ENIs not read (a snapshot file that does not parse: no AWS code, no "failed" in the message)', [{ source: 'ec2:DescribeNetworkInterfaces', message: 'ec2/describe-network-interfaces.json: malformed JSON: Unexpected end of JSON input', unread: { part: 'network-interfaces' } }], false, false, false],
    ['instances not read', [{ source: 'ec2:DescribeInstances', message: 'x', code: 'RequestLimitExceeded', unread: { part: 'instances' } }], false, false, false],
    ['instance types not read', [{ source: 'ec2:DescribeInstanceTypes', message: 'x', code: 'UnauthorizedOperation', unread: { part: 'instance-types', ids: ['m5.large'] } }], true, true, false],
    ['one instance type unknown (EC2 answered)', [{ source: 'ec2:DescribeInstanceTypes', message: 'instance type x9.huge is unknown to DescribeInstanceTypes' }], true, true, true],
    ['the add-on not read', [{ source: 'eks:DescribeAddon', message: 'x', code: 'AccessDeniedException', unread: { part: 'cni' } }], true, true, true],
    ['an ENI outside the cluster subnets (read, but odd: a "failed"-free message, no unread)', [{ source: 'ec2:DescribeNetworkInterfaces', message: 'cluster prod: 1 ENI(s) in subnet subnet-z, which is not one of the cluster subnets' }], true, true, true],
  ])('%s', (_name, problems, holders, nodes, capacity) => {
    const inv = prodInventory();
    inv.problems = problems;
    const usage = usageOf([inv]);
    const data = buildMetricData(usage);
    const names = new Set(data.map((d) => d.MetricName));
    expect(names.has(METRIC.SubnetAvailableIps)).toBe(true);
    expect(names.has(METRIC.DataIncomplete)).toBe(true);
    expect(names.has(METRIC.SubnetIpsHeld)).toBe(holders);
    expect(names.has(METRIC.Nodes)).toBe(nodes);
    expect(names.has(METRIC.PodCapacity)).toBe(capacity);
    expect(names.has(METRIC.NodegroupPodCapacity)).toBe(capacity);
    // Only subnet problems withhold the cluster's totals over its subnets.
    expect(names.has(METRIC.ClusterAvailableIps)).toBe(true);
    expect(names.has(METRIC.ControlPlaneMinAvailableIps)).toBe(true);
  });

  it.each<[string, CollectionProblem[]]>([
    ['DescribeSubnets failed', [{ source: 'ec2:DescribeSubnets', message: 'denied', code: 'UnauthorizedOperation', unread: { part: 'subnets', ids: ['subnet-a'] } }]],
    ['CNI discovery failed', [{ source: 'ec2:DescribeSubnets', message: 'denied', code: 'UnauthorizedOperation', unread: { part: 'cni-discovery' } }]],
    ['one subnet record unreadable', [{ source: 'ec2:DescribeSubnets', message: 'Subnets[2].AvailableIpAddressCount: expected number', unread: { part: 'subnets', ids: ['subnet-x'] } }]],
  ])('%s: no cluster total or minimum over the subnets (a sum of those read would alarm as a drop), each read subnet still', (_name, problems) => {
    const inv = prodInventory();
    inv.problems = problems;
    const names = new Set(buildMetricData(usageOf([inv])).map((d) => d.MetricName));
    expect(names.has(METRIC.ClusterAvailableIps)).toBe(false);
    expect(names.has(METRIC.ClusterMinSubnetAvailableIps)).toBe(false);
    expect(names.has(METRIC.ControlPlaneMinAvailableIps)).toBe(false);
    expect(names.has(METRIC.SubnetAvailableIps)).toBe(true);
    expect(names.has(METRIC.DataIncomplete)).toBe(true);
  });
});

describe('issue 13: shares of a shared subnet and leaked ENIs', () => {
  /** prod's subnet A, where `staging` also has a node (1 + 9 addresses) and a leaked ENI of prod holds 4. */
  function shared(confirmed: boolean): Usage {
    const prod = prodInventory();
    const stagingNode = instance('i-0bbb2222bbbb2222b', 'm5.large', A, 'eu-west-1a', managedTags('staging', 'ng'));
    const stagingEnis = [nodePrimaryEni('i-0bbb2222bbbb2222b', A, 'eu-west-1a', addresses('10.0.1.0', 100, 1)), cniEni('i-0bbb2222bbbb2222b', A, 'eu-west-1a', addresses('10.0.1.0', 101, 9))];
    const leaked = cniEni('i-0gone', A, 'eu-west-1a', addresses('10.0.1.0', 120, 4), { attached: false });
    leaked.TagSet = [...(leaked.TagSet ?? []), { Key: 'cluster.k8s.amazonaws.com/name', Value: 'prod' }];
    const s = prod.subnets[0]!;
    s.AvailableIpAddressCount = (s.AvailableIpAddressCount ?? 0) - 14;
    prod.networkInterfaces.push(...stagingEnis, leaked);
    if (confirmed) prod.eniInstances = { asked: ['i-0gone'], found: [] };
    const staging = clusterInventory({ name: 'staging', subnets: [[s, ['node']]], networkInterfaces: prod.networkInterfaces, instances: [stagingNode] });
    if (confirmed) staging.eniInstances = { asked: ['i-0gone'], found: [] };
    return usageOf([prod, staging]);
  }

  it("gives each cluster its own share's series and the others' sum", () => {
    const data = buildMetricData(shared(true));
    expect(find(data, METRIC.SubnetClusterIps, `ClusterName=prod,SubnetId=${A}`).Value).toBe(35); // 31 + the leaked ENI tagged prod
    expect(find(data, METRIC.SubnetOtherClustersIps, `ClusterName=prod,SubnetId=${A}`).Value).toBe(10);
    expect(find(data, METRIC.SubnetClusterIps, `ClusterName=staging,SubnetId=${A}`).Value).toBe(10);
    expect(find(data, METRIC.SubnetOtherClustersIps, `ClusterName=staging,SubnetId=${A}`).Value).toBe(35);
    expect(find(data, METRIC.SubnetLeakedEniIps, `ClusterName=prod,SubnetId=${A}`).Value).toBe(4);
    expect(find(data, METRIC.ClusterLeakedEnis, 'ClusterName=prod').Value).toBe(1);
  });

  it('publishes no leaked-ENI figure while some could not be confirmed (it would read 0)', () => {
    const names = new Set(buildMetricData(shared(false)).map((d) => d.MetricName));
    expect(names.has(METRIC.SubnetLeakedEniIps)).toBe(false);
    expect(names.has(METRIC.ClusterLeakedEnis)).toBe(false);
    expect(names.has(METRIC.SubnetClusterIps)).toBe(true);
  });
});

describe('issue 14: Kubernetes metrics', () => {
  const NODE = 'i-0aaa1111aaaa1111a';
  const withView = (view: ClusterInventory['kube']): Usage => usageOf([{ ...prodInventory(), kube: view }]);

  it('PodsFailingIpAssignment {ClusterName}: the distinct pods failing in the window, and 0 when none', () => {
    const failing = buildMetricData(withView(kubeView({ readAt: COLLECTED_AT, ipFailures: [
      { node: 'n1', cause: 'no-free-address', count: 9, pods: ['a/x', 'a/y'], lastSeen: COLLECTED_AT, message: 'm' },
      { node: 'n2', cause: 'no-free-address', count: 2, pods: ['a/y'], lastSeen: COLLECTED_AT, message: 'm' },
    ] })));
    expect(find(failing, METRIC.PodsFailingIpAssignment, 'ClusterName=prod').Value).toBe(2);
    const none = buildMetricData(withView(kubeView({ readAt: COLLECTED_AT })));
    expect(find(none, METRIC.PodsFailingIpAssignment, 'ClusterName=prod').Value).toBe(0);
  });

  it('not published when the events were not read, or the API not at all (no 0 that would clear the alarm)', () => {
    for (const view of [kubeView({ ipFailures: null }), kubeDenied(), undefined]) {
      expect(buildMetricData(withView(view)).filter((d) => d.MetricName === METRIC.PodsFailingIpAssignment)).toEqual([]);
    }
  });

  it('PodIpsAssigned and WarmIps: exact figures when every node has them, nothing when one is estimated', () => {
    const node = kubeNode(NODE);
    const exact = buildMetricData(withView(kubeView({ nodes: [node], pods: { [node.name]: { assignedIpv4: 20 } } })));
    expect(find(exact, METRIC.PodIpsAssigned, 'ClusterName=prod').Value).toBe(20);
    expect(find(exact, METRIC.WarmIps, 'ClusterName=prod').Value).toBe(7);
    const estimated = buildMetricData(withView(kubeView({ nodes: [], pods: {} })));
    expect(estimated.filter((d) => d.MetricName === METRIC.PodIpsAssigned || d.MetricName === METRIC.WarmIps)).toEqual([]);
  });
});
