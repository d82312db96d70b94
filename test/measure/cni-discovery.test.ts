/**
 * Which subnets a cluster's VPC CNI would use: one case per rule of ipamd's createENI
 * (aws/amazon-vpc-cni-k8s pkg/awsutils/awsutils.go, cited on each rule in lib/measure/cni-discovery.ts).
 */
import { discoverCniSubnets, discoveryRulesOf, parseCniVersion } from '../../lib/measure/cni-discovery';
import type { ClusterInventory, CniInstall, Subnet } from '../../lib/inventory/types';
import { cniEni, clusterInventory, instance, managedCni, nodegroup, subnet } from './builders';
import { run } from '../diagnose/world';

const AZ_A = 'eu-west-1a';
const AZ_B = 'eu-west-1b';

function tagged(s: Subnet, tags: Record<string, string>): Subnet {
  return { ...s, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) };
}

/**
 * Cluster `prod`: one node in node-a (eu-west-1a, 40 free); `others` are further subnets of the
 * VPC (the collector reads the tagged ones).
 */
function world(o: { cni?: CniInstall; nodeTags?: Record<string, string>; others?: Subnet[]; eniClusterTag?: string; ipv6?: boolean } = {}): ClusterInventory {
  const nodeA = o.nodeTags ? tagged(subnet('node-a', '10.0.1.0/24', AZ_A, 40), o.nodeTags) : subnet('node-a', '10.0.1.0/24', AZ_A, 40);
  const i = instance('i-0a', 'm5.large', 'node-a', AZ_A, { 'kubernetes.io/cluster/prod': 'owned' });
  const eni = cniEni('i-0a', 'node-a', AZ_A, ['10.0.1.10', '10.0.1.11'], { deviceIndex: 1 });
  const enis = o.eniClusterTag ? [{ ...eni, TagSet: [...(eni.TagSet ?? []), { Key: 'cluster.k8s.amazonaws.com/name', Value: o.eniClusterTag }] }] : [eni];
  const inv = clusterInventory({
    name: 'prod',
    subnets: [[nodeA, ['node']], ...(o.others ?? []).map((s): [Subnet, ['cni-discovery']] => [s, ['cni-discovery']])],
    instances: [i],
    networkInterfaces: enis,
    nodegroups: [nodegroup('prod', 'web', ['m5.large'], ['node-a'], 1)],
    cni: o.cni ?? managedCni(undefined, 'v1.22.4-eksbuild.1'),
  });
  return o.ipv6 ? { ...inv, cluster: { ...inv.cluster, kubernetesNetworkConfig: { ipFamily: 'ipv6' } } } : inv;
}

const verdict = (inv: ClusterInventory, id: string): { used: boolean | undefined; reason: string } => {
  const s = discoverCniSubnets(inv).subnets.find((x) => x.subnetId === id);
  if (!s) throw new Error(`${id} not in the discovery`);
  return { used: s.used, reason: s.reason };
};

const POD_A = subnet('pods-a', '100.64.0.0/22', AZ_A, 1000);

describe('discoverCniSubnets', () => {
  it('maps versions to rule sets at the releases that changed them', () => {
    const rules = (v: string): string => discoveryRulesOf(parseCniVersion(v) ?? [0, 0, 0]);
    expect(['v1.17.1-eksbuild.1', 'v1.18.0-eksbuild.1', 'v1.21.2', 'v1.22.0', 'v1.22.1-eksbuild.1', 'v1.23.0'].map(rules)).toEqual([
      'none',
      'key-only',
      'key-only',
      'exclusion',
      'cluster-scoped',
      'cluster-scoped',
    ]);
  });

  it('uses the node subnet without any tag, and a subnet tagged kubernetes.io/role/cni=1, most free first', () => {
    const inv = world({ others: [tagged(POD_A, { 'kubernetes.io/role/cni': '1' })] });
    const d = discoverCniSubnets(inv);
    expect(d.mode).toBe('discovery');
    expect(d.byAz).toEqual([{ availabilityZone: AZ_A, order: ['pods-a', 'node-a'] }]);
    expect(verdict(inv, 'node-a')).toMatchObject({ used: true, reason: expect.stringContaining('in by default') });
  });

  it('leaves out a subnet other than the node one without the tag', () => {
    const inv = world({ others: [POD_A] });
    expect(verdict(inv, 'pods-a')).toMatchObject({ used: false, reason: expect.stringContaining('must opt in') });
  });

  it('excludes a subnet tagged 0 from 1.22, the node subnet too (which leaves the AZ no subnet)', () => {
    const inv = world({ nodeTags: { 'kubernetes.io/role/cni': '0' }, others: [tagged(POD_A, { 'kubernetes.io/role/cni': '0' })] });
    expect(verdict(inv, 'pods-a').used).toBe(false);
    expect(verdict(inv, 'node-a')).toMatchObject({ used: false, reason: expect.stringContaining('the node subnet too') });
    expect(discoverCniSubnets(inv).byAz).toEqual([{ availabilityZone: AZ_A, order: [] }]);
  });

  it('before 1.22 takes the tag key alone: 0 opts a subnet in, and the node subnet is always used', () => {
    const inv = world({
      cni: managedCni(undefined, 'v1.19.2-eksbuild.1'),
      nodeTags: { 'kubernetes.io/role/cni': '0' },
      others: [tagged(POD_A, { 'kubernetes.io/role/cni': '0' })],
    });
    expect(verdict(inv, 'pods-a')).toMatchObject({ used: true, reason: expect.stringContaining('whatever its value') });
    expect(verdict(inv, 'node-a')).toMatchObject({ used: true, reason: expect.stringContaining('excludes nothing before 1.22') });
  });

  it('treats an empty tag value as no tag (getTagValue returns "")', () => {
    const inv = world({ others: [tagged(POD_A, { 'kubernetes.io/role/cni': '' })] });
    expect(verdict(inv, 'pods-a').used).toBe(false);
  });

  it('skips a subnet reserved to another cluster when aws-node runs with CLUSTER_NAME', () => {
    const other = tagged(POD_A, { 'kubernetes.io/role/cni': '1', 'cni.networking.k8s.aws/cluster/staging': 'shared' });
    const inv = world({ others: [other], eniClusterTag: 'prod' });
    expect(discoverCniSubnets(inv).cniClusterName).toBe('prod');
    expect(verdict(inv, 'pods-a')).toMatchObject({ used: false, reason: expect.stringContaining('not prod') });
  });

  it('uses a subnet reserved to several clusters when this one is among them', () => {
    const shared = tagged(POD_A, {
      'kubernetes.io/role/cni': '1',
      'cni.networking.k8s.aws/cluster/prod': '',
      'cni.networking.k8s.aws/cluster/staging': '',
    });
    const inv = world({ others: [shared], cni: managedCni({ CLUSTER_NAME: 'prod' }, 'v1.22.1-eksbuild.1') });
    expect(verdict(inv, 'pods-a')).toMatchObject({ used: true, reason: expect.stringContaining('prod, staging') });
  });

  it('says a reserved subnet is used unless CLUSTER_NAME is set when that is not known', () => {
    const other = tagged(POD_A, { 'kubernetes.io/role/cni': '1', 'cni.networking.k8s.aws/cluster/staging': '' });
    const inv = world({ others: [other] });
    expect(discoverCniSubnets(inv).cniClusterName).toBeUndefined();
    expect(verdict(inv, 'pods-a')).toMatchObject({ used: true, reason: expect.stringContaining('CLUSTER_NAME') });
  });

  it('ignores cluster tags on a node subnet without the cni tag (Rule 3 is not reached)', () => {
    const inv = world({ nodeTags: { 'cni.networking.k8s.aws/cluster/staging': '' }, eniClusterTag: 'prod' });
    expect(verdict(inv, 'node-a').used).toBe(true);
  });

  it('reads the v1.22.0 cluster tags under kubernetes.io/cluster/, not the later prefix', () => {
    const old = tagged(POD_A, { 'kubernetes.io/role/cni': '1', 'kubernetes.io/cluster/staging': 'shared' });
    const inv = world({ others: [old], cni: managedCni({ CLUSTER_NAME: 'prod' }, 'v1.22.0-eksbuild.1') });
    expect(verdict(inv, 'pods-a').used).toBe(false);
    const later = world({ others: [old], cni: managedCni({ CLUSTER_NAME: 'prod' }, 'v1.22.1-eksbuild.1') });
    expect(verdict(later, 'pods-a').used).toBe(true);
  });

  it('uses only the node subnet with ENABLE_SUBNET_DISCOVERY=false, and none when it is tagged 0', () => {
    const off = world({ others: [tagged(POD_A, { 'kubernetes.io/role/cni': '1' })], cni: managedCni({ ENABLE_SUBNET_DISCOVERY: 'false' }, 'v1.22.4') });
    expect(discoverCniSubnets(off)).toMatchObject({ mode: 'primary-only', byAz: [{ availabilityZone: AZ_A, order: ['node-a'] }] });
    const zero = world({ nodeTags: { 'kubernetes.io/role/cni': '0' }, cni: managedCni({ ENABLE_SUBNET_DISCOVERY: 'false' }, 'v1.22.4') });
    expect(verdict(zero, 'node-a')).toMatchObject({ used: false, reason: expect.stringContaining('no ENI at all') });
  });

  it('keeps discovery on for an ENABLE_SUBNET_DISCOVERY value ipamd cannot parse (its default)', () => {
    const inv = world({ cni: managedCni({ ENABLE_SUBNET_DISCOVERY: 'nope' }, 'v1.22.4') });
    expect(discoverCniSubnets(inv).mode).toBe('discovery');
  });

  it('leaves the choice to ENIConfig under custom networking, whatever the tags', () => {
    const inv = world({ others: [tagged(POD_A, { 'kubernetes.io/role/cni': '1' })], cni: managedCni({ AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true' }, 'v1.22.4') });
    const d = discoverCniSubnets(inv);
    expect(d.mode).toBe('custom-networking');
    expect(d.subnets.every((s) => s.used === undefined)).toBe(true);
  });

  it('on an EKS Auto Mode cluster applies no VPC CNI rule: the node subnet, else the NodeClass decides', () => {
    // Auto Mode has no vpc-cni add-on: without the Auto Mode rule it read as a self-managed aws-node.
    const base = world({ others: [tagged(POD_A, { 'kubernetes.io/role/cni': '1' })], cni: { kind: 'self-managed' } });
    const inv = { ...base, cluster: { ...base.cluster, computeConfig: { enabled: true } } };
    const d = discoverCniSubnets(inv);
    expect(d.mode).toBe('auto-mode');
    expect(d.why).toContain('Auto Mode');
    expect(verdict(inv, 'node-a').used).toBe(true);
    expect(verdict(inv, 'pods-a')).toEqual({ used: undefined, reason: expect.stringContaining('NodeClass') });
  });

  it('uses only the node subnet before 1.18 and on IPv6 clusters', () => {
    const old = world({ others: [tagged(POD_A, { 'kubernetes.io/role/cni': '1' })], cni: managedCni(undefined, 'v1.16.0-eksbuild.1') });
    expect(discoverCniSubnets(old).mode).toBe('primary-only');
    expect(verdict(old, 'pods-a').used).toBe(false);
    const v6 = world({ others: [tagged(POD_A, { 'kubernetes.io/role/cni': '1' })], ipv6: true });
    expect(discoverCniSubnets(v6).mode).toBe('primary-only');
  });

  it('says unknown, not used, for a self-managed aws-node', () => {
    const inv = world({ others: [tagged(POD_A, { 'kubernetes.io/role/cni': '1' })], cni: { kind: 'self-managed' } });
    const d = discoverCniSubnets(inv);
    expect(d.mode).toBe('unknown');
    expect(d.subnets.map((s) => s.used)).toEqual([undefined, undefined]);
    expect(d.byAz).toEqual([{ availabilityZone: AZ_A, order: [] }]);
  });

  it('considers only subnets of the node AZ: a tagged subnet elsewhere serves no node there', () => {
    const b = tagged(subnet('pods-b', '100.64.4.0/22', AZ_B, 1000), { 'kubernetes.io/role/cni': '1' });
    const d = discoverCniSubnets(world({ others: [b] }));
    expect(d.byAz.map((z) => z.availabilityZone)).toEqual([AZ_A]);
  });
});

describe('the cni-discovery finding', () => {
  const findings = (inv: ClusterInventory) => run(inv).findings.filter((f) => f.kind === 'cni-discovery');

  it('is critical for an AZ with nodes where the CNI can create no ENI', () => {
    const [f, ...rest] = findings(world({ nodeTags: { 'kubernetes.io/role/cni': '0' } }));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ id: 'prod/cni-discovery/eu-west-1a', severity: 'critical', evidence: { nodeSubnets: 'node-a' } });
    expect(f?.fixes[0]).toContain('aws ec2 delete-tags --resources <subnet> --tags Key=kubernetes.io/role/cni');
  });

  it('warns of a subnet tagged 0 that a CNI before 1.22 uses anyway', () => {
    const inv = world({ cni: managedCni(undefined, 'v1.19.2-eksbuild.1'), others: [tagged(POD_A, { 'kubernetes.io/role/cni': '0' })] });
    expect(findings(inv).map((f) => `${f.severity} ${f.id}`)).toEqual(['warning prod/cni-discovery/pods-a']);
    // From 1.22 the 0 excludes it and the node subnet serves the AZ: nothing to say.
    expect(findings(world({ others: [tagged(POD_A, { 'kubernetes.io/role/cni': '0' })] }))).toEqual([]);
  });

  it('warns of another cluster’s subnet used because CLUSTER_NAME is not known, not once it is', () => {
    const other = tagged(POD_A, { 'kubernetes.io/role/cni': '1', 'cni.networking.k8s.aws/cluster/staging': '' });
    expect(findings(world({ others: [other] })).map((f) => f.id)).toEqual(['prod/cni-discovery/pods-a']);
    expect(findings(world({ others: [other], eniClusterTag: 'prod' }))).toEqual([]);
  });

  it('says nothing under custom networking or for a self-managed aws-node', () => {
    expect(findings(world({ nodeTags: { 'kubernetes.io/role/cni': '0' }, cni: managedCni({ AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG: 'true' }, 'v1.22.4') }))).toEqual([]);
    expect(findings(world({ nodeTags: { 'kubernetes.io/role/cni': '0' }, cni: { kind: 'self-managed' } }))).toEqual([]);
  });
});
