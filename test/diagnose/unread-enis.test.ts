/**
 * Findings and figures that rest on ENIs that were not read: measure leaves a node's mode and
 * limits unknown, and diagnose gives no finding (nor evidence) built on the 0 of no data. Each case
 * is run with the ENIs read too, so that the assertion can fail.
 */
import type { Finding } from '../../lib/diagnose/types';
import type { ClusterInventory, CollectionProblem } from '../../lib/inventory/types';
import { AZ_A, managedCni, ofKind, run, World } from './world';

const CLUSTER = 'prod';

/** The subnet-exhaustion finding of a subnet (not of a nodegroup's AZ). */
const subnetFindingOf = (findings: Finding[]): Finding | undefined =>
  ofKind(findings, 'subnet-exhaustion').find((f) => f.subject.type === 'subnet');

/** A DescribeNetworkInterfaces failure as the collector records it (lib/inventory/collect.ts `settle`). */
const enisFailed = (ids: string[] | undefined): CollectionProblem => ({
  source: 'ec2:DescribeNetworkInterfaces',
  message: 'ec2/describe-network-interfaces.json: malformed JSON: Unexpected end of JSON input',
  unread: ids === undefined ? { part: 'network-interfaces' } : { part: 'network-interfaces', ids },
});

/** The inventory as a failed read of the ENIs in `subnetIds` leaves it: none of their ENIs. */
function withoutEnis(inv: ClusterInventory, subnetIds: string[] | undefined): ClusterInventory {
  const gone = (id: string | undefined): boolean => subnetIds === undefined || subnetIds.includes(id ?? '');
  return { ...inv, networkInterfaces: inv.networkInterfaces.filter((e) => !gone(e.SubnetId)), problems: [enisFailed(subnetIds)] };
}

/**
 * 8 m5.large nodes, 2 ENIs of 10 addresses each in subnet-a, in prefix-delegation mode on the
 * add-on but holding secondary IPs (launched before); subnet-a filled to 40 free by other ENIs.
 */
function scarceWorld(): ClusterInventory {
  const w = new World().addSubnet('subnet-a', '10.0.1.0/24', AZ_A);
  for (let i = 0; i < 8; i++) w.node({ cluster: CLUSTER, nodegroup: 'general', type: 'm5.large', subnetId: 'subnet-a', enis: [10, 10] });
  w.fillTo('subnet-a', 40);
  return w.inventory({ name: CLUSTER, subnets: [['subnet-a', ['node']]], cni: managedCni({ ENABLE_PREFIX_DELEGATION: 'true' }) });
}

describe('ENIs not read: a node\'s mode and limits', () => {
  it('are measured when the ENIs were read: the secondary IPs the node holds decide its mode', () => {
    const { usage } = run(scarceWorld());
    expect(usage.nodes[0]).toMatchObject({ mode: 'secondary-ip', limits: { maxPods: 29, podIpSlots: 27 } });
    expect(usage.nodes[0]?.enisUnread).toBeUndefined();
    expect(usage.nodegroups[0]).toMatchObject({ podCapacity: 8 * 29, podIpSlots: 8 * 27, nodesEnisUnread: 0 });
  });

  it.each<[string, string[] | undefined]>([
    ['the read names the subnet', ['subnet-a']],
    ['the read cannot tell which subnets', undefined],
  ])('are unknown, not the add-on\'s prefix mode and an empty node\'s limits (%s)', (_name, ids) => {
    const { usage } = run(withoutEnis(scarceWorld(), ids));
    for (const node of usage.nodes) {
      expect(node.mode).toBeUndefined();
      expect(node.limits).toBeUndefined();
      expect(node.enisUnread).toBe(true);
      expect(node).toMatchObject({ atEniLimit: false, atIpLimit: false });
    }
    // Not counted as nodes of an unknown type, and not in the sums.
    expect(usage.nodegroups[0]).toMatchObject({ nodes: 8, nodesEnisUnread: 8, nodesOfUnknownType: 0, podCapacity: 0, podIpSlots: 0 });
  });

  it('stay known for a node whose subnets\' ENIs were read, when another subnet\'s were not', () => {
    const w = new World().addSubnet('subnet-a', '10.0.1.0/24', AZ_A).addSubnet('subnet-b', '10.0.2.0/24', AZ_A);
    const inA = w.node({ cluster: CLUSTER, nodegroup: 'a', type: 'm5.large', subnetId: 'subnet-a', enis: [10, 10] });
    const inB = w.node({ cluster: CLUSTER, nodegroup: 'b', type: 'm5.large', subnetId: 'subnet-b', enis: [10, 10] });
    const inv = withoutEnis(w.inventory({ name: CLUSTER, subnets: [['subnet-a', ['node']], ['subnet-b', ['node']]] }), ['subnet-b']);
    const { usage } = run(inv);
    expect(usage.nodes.find((x) => x.instanceId === inA)).toMatchObject({ mode: 'secondary-ip', limits: { maxPods: 29 } });
    const b = usage.nodes.find((x) => x.instanceId === inB);
    expect([b?.enisUnread, b?.mode, b?.limits]).toEqual([true, undefined, undefined]);
  });

  it('are unknown for a node with an ENI in a subnet whose ENIs were not read (DescribeInstances names the subnet)', () => {
    const w = new World().addSubnet('subnet-a', '10.0.1.0/24', AZ_A).addSubnet('subnet-b', '10.0.2.0/24', AZ_A);
    const id = w.node({ cluster: CLUSTER, nodegroup: 'a', type: 'm5.large', subnetId: 'subnet-a', enis: [10, 10], eniSubnets: ['subnet-a', 'subnet-b'] });
    const inv = withoutEnis(w.inventory({ name: CLUSTER, subnets: [['subnet-a', ['node']], ['subnet-b', ['node']]] }), ['subnet-b']);
    const i = inv.instances.find((x) => x.InstanceId === id)!;
    i.NetworkInterfaces = [{ SubnetId: 'subnet-a' }, { SubnetId: 'subnet-b' }];
    const node = run(inv).usage.nodes[0];
    expect([node?.enisUnread, node?.mode, node?.limits]).toEqual([true, undefined, undefined]);
  });
});

describe('ENIs not read: the findings of a scarce subnet', () => {
  it('with the ENIs read: who holds the addresses, and a held-by-others finding', () => {
    const { findings } = run(scarceWorld());
    expect(ofKind(findings, 'ips-held-by-others')).toHaveLength(1);
    const f = subnetFindingOf(findings);
    expect(f?.evidenceText[1]).toMatch(/^Held: 16 node\/ENI primary, 144 pod secondary, /);
    expect(f?.evidence).toMatchObject({ heldNodePrimary: 16, nodes: 8 });
  });

  it.each<[string, string[] | undefined]>([
    ['the read names the subnet', ['subnet-a']],
    ['the read cannot tell which subnets', undefined],
  ])('without them: no held-by-others finding, and the holders are unknown, never 0 (%s)', (_name, ids) => {
    const { findings } = run(withoutEnis(scarceWorld(), ids));
    expect(ofKind(findings, 'ips-held-by-others')).toEqual([]);
    // The subnet is still short of addresses: that rests on its own record.
    const f = subnetFindingOf(findings);
    expect(f?.title).toBe('Subnet subnet-a (eu-west-1a): 40 of 251 IPs free, 84% used');
    expect(f?.evidenceText).toContain('Held: unknown (the ENIs here, or the nodes, could not all be read).');
    const text = f?.evidenceText.join('\n') ?? '';
    expect(text).not.toMatch(/node\/ENI primary|unaccounted|on no ENI this account can see|Nodes with ENIs here/);
    expect(f?.evidence).toMatchObject({ heldNodePrimary: 'unknown', heldUnaccounted: 'unknown', nodes: 'unknown', dataComplete: 'no' });
    // Whether the nodes hold prefixes is unknown: the warm-pool advice does not assume either mode.
    expect(f?.fixes[0]).toMatch(/^Shrink warm pools: set WARM_IP_TARGET and MINIMUM_IP_TARGET on the vpc-cni add-on \(whether the nodes here hold/);
  });

  it('a node with ENIs not read elsewhere: its warm pool is not estimated here, and the finding says so', () => {
    const w = new World().addSubnet('subnet-a', '10.0.1.0/24', AZ_A).addSubnet('subnet-b', '10.0.2.0/24', AZ_A);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      ids.push(w.node({ cluster: CLUSTER, nodegroup: 'general', type: 'm5.large', subnetId: 'subnet-a', enis: [10, 10], eniSubnets: ['subnet-a', 'subnet-b'] }));
    }
    w.fillTo('subnet-a', 40);
    const complete = w.inventory({ name: CLUSTER, subnets: [['subnet-a', ['node']], ['subnet-b', ['node']]] });
    for (const i of complete.instances) i.NetworkInterfaces = [{ SubnetId: 'subnet-a' }, { SubnetId: 'subnet-b' }];
    const [read] = ofKind(run(complete).findings, 'ips-held-by-others');
    expect(read?.evidence).toMatchObject({ warmNodes: 8 });

    const [f] = ofKind(run(withoutEnis(complete, ['subnet-b'])).findings, 'ips-held-by-others');
    expect(f?.evidence).toMatchObject({ subnetId: 'subnet-a', warmNodes: 0, warmMin: 0, warmNodesEnisUnread: 8 });
    expect(f?.evidenceText).toContain('8 nodes whose ENIs in other subnets were not read: warm pool not estimated.');
  });
});
