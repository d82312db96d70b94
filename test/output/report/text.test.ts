import { measure } from '../../../lib/measure/measure';
import type { Usage } from '../../../lib/measure/types';
import type { Finding } from '../../../lib/diagnose/types';
import type { ClusterInventory } from '../../../lib/inventory/types';
import { usageJson } from '../../../lib/output/report/gaps';
import { renderReport as renderWrapped, type ReportOptions } from '../../../lib/output/report/text';
import {
  addresses,
  clusterInventory,
  cniEni,
  controlPlaneEni,
  instance,
  instanceTypes,
  managedCni,
  managedTags,
  natGatewayEni,
  nodegroup,
  nodePrimaryEni,
  REGION,
  subnet,
} from '../../measure/builders';

/** The report with no line wrapped, so that a sentence is one line (the 100 columns: report-layout.test.ts). */
const renderReport = (usage: Usage, findings?: Finding[], options: ReportOptions = {}): string =>
  renderWrapped(usage, findings, { width: Infinity, ...options });

const A = 'subnet-0a1a1a1a1a1a1a1a1';
const B = 'subnet-0b2b2b2b2b2b2b2b2';
const STRAY = 'subnet-0fffffffffffffff9';

/**
 * prod: A (10.0.1.0/24, eu-west-1a) holds a node's 1 + 9 addresses, a control-plane ENI and a NAT
 * gateway, 12 visible, with 7 free: 232 used, 220 unaccounted. B (10.0.2.0/28, eu-west-1b) holds
 * nothing visible, 11 free. One node of an unknown type, one ENI in a subnet not collected.
 */
function prod(): ClusterInventory {
  return clusterInventory({
    name: 'prod',
    subnets: [
      [subnet(A, '10.0.1.0/24', 'eu-west-1a', 7), ['cluster', 'node']],
      [subnet(B, '10.0.2.0/28', 'eu-west-1b', 11), ['cluster', 'node']],
    ],
    networkInterfaces: [
      nodePrimaryEni('i-0aaa', A, 'eu-west-1a', addresses('10.0.1.0', 10, 10)),
      controlPlaneEni('prod', A, 'eu-west-1a', '10.0.1.4'),
      natGatewayEni(A, 'eu-west-1a', '10.0.1.5'),
      cniEni('i-0aaa', STRAY, 'eu-west-1c', addresses('10.0.9.0', 10, 2)),
    ],
    instances: [
      instance('i-0aaa', 'm5.large', A, 'eu-west-1a', managedTags('prod', 'general')),
      instance('i-0bbb', 'x9.mega', A, 'eu-west-1a', { 'aws:autoscaling:groupName': 'legacy-workers' }),
    ],
    nodegroups: [nodegroup('prod', 'general', ['m5.large'], [A, B], 1)],
    cni: managedCni({ WARM_IP_TARGET: '2', MINIMUM_IP_TARGET: '12' }),
  });
}

function usage(): Usage {
  return measure({
    region: REGION,
    collectedAt: '2026-12-01T10:00:00.000Z',
    clusters: [prod()],
    failedClusters: [{ name: 'batch-dev', problem: { source: 'eks:DescribeCluster', message: 'AccessDeniedException: not authorized', code: 'AccessDeniedException' } }],
    instanceTypes: instanceTypes('m5.large'),
    unknownInstanceTypes: ['x9.mega'],
  });
}

describe('renderReport', () => {
  const text = renderReport(usage());
  const lines = text.split('\n');
  // A subnet's row in the Subnets table, then its figures in "Who holds the used IPs".
  const row = (subnetId: string): string =>
    lines
      .filter((l) => l.trimStart().startsWith(`${subnetId} `))
      .map((l, i) => (i === 0 ? l : l.trim().slice(subnetId.length)))
      .join(' ');

  it('opens with the region, the time and the counts, naming the failed and the INCOMPLETE clusters', () => {
    expect(lines.slice(0, 2)).toEqual([
      'eks-ip-responder report: eu-west-1, sampled 2026-12-01T10:00:00.000Z',
      '1 cluster(s) sampled, 1 failed (batch-dev), 1 INCOMPLETE (prod)',
    ]);
  });

  it('marks an incomplete cluster INCOMPLETE at the top of its section', () => {
    const at = lines.findIndex((l) => l.startsWith('Cluster prod '));
    expect(lines[at]).toBe('Cluster prod  (Kubernetes 1.31, vpc-05cb6340ff1bbcd88)  INCOMPLETE');
    expect(lines[at + 1]).toMatch(/^ {2}INCOMPLETE: 2 problem\(s\), listed under "Incomplete data" below; .* no action will be taken on this cluster$/);
  });

  it('names the cluster, its version, VPC and CNI settings', () => {
    expect(text).toContain('Cluster prod  (Kubernetes 1.31, vpc-05cb6340ff1bbcd88)');
    expect(text).toContain('CNI: managed vpc-cni v1.19.2-eksbuild.1: WARM_IP_TARGET=2 MINIMUM_IP_TARGET=12');
  });

  it.each([
    // subnet, AZ, CIDR, roles, free, usable, used %, node primary, pod IPs, prefix IPs, control plane, other, unaccounted
    [A, ['eu-west-1a', '10.0.1.0/24', 'cluster,node', '7', '251', '97%', '1', '9', '0', '1', '1', '232']],
    [B, ['eu-west-1b', '10.0.2.0/28', 'cluster,node', '11', '11', '0%', '0', '0', '0', '0', '0', '0']],
  ])('has a row for %s with its AZ, CIDR, free count and holders', (id, cells) => {
    expect(row(id).trim().split(/\s+/)).toEqual([id, ...cells]);
  });

  it('says what the Other addresses are', () => {
    expect(text).toContain(`${A}: NAT gateway 1 IP on 1 ENI`);
  });

  it('explains Unaccounted addresses', () => {
    const line = lines.find((l) => l.includes('Unaccounted:'))!;
    expect(line).toContain(`${A} 232`);
    expect(line).toContain('AWS RAM');
    expect(line).not.toContain(B);
  });

  it('reports the control plane against EKS\'s 6 and 16, and the upgrade\'s two AZs', () => {
    expect(text).toContain('Control plane: least free in a cluster subnet 7 (EKS needs 6, recommends 16); 2 AZ(s) with the minimum free');
    expect(text).not.toContain('a version upgrade needs two');
  });

  it('lists the nodegroups', () => {
    const general = lines.find((l) => l.trimStart().startsWith('general'))!;
    // NODEGROUP KIND INSTANCE-TYPES NODES ENIS(attached/max) POD-IPS(held/slots) MAX-PODS ENI-LIMIT IP-LIMIT
    // (POD-IPS 10: 9 on the primary ENI, 1 on the ENI in the subnet that was not collected)
    expect(general.trim().split(/\s+/)).toEqual(['general', 'managed', 'm5.large', '1', '2/3', '10/27', '29', '0', '0']);
    // x9.mega's limits are not known: its capacity figures are unknown, not 0.
    const asg = lines.find((l) => l.trimStart().startsWith('asg:legacy-workers'))!;
    expect(asg.trim().split(/\s+/)).toEqual(['asg:legacy-workers', 'self-managed', 'x9.mega', '1', '0/?', '0/?', '?', '?', '?']);
    expect(text).toContain('  Nodes: 2, 10 pod IPs held, max pods unknown; at their ENI or IP limit unknown');
  });

  it('lists the problems under "Incomplete data"', () => {
    const at = lines.findIndex((l) => l.includes('Incomplete data (no action will be taken on this cluster):'));
    expect(at).toBeGreaterThan(0);
    const problems = lines.slice(at + 1).filter((l) => l.startsWith('    - '));
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toContain(STRAY);
    expect(problems.join('\n')).toContain('x9.mega');
  });

  it('names the clusters that could not be sampled, and the unknown instance types', () => {
    expect(text).toContain('Clusters that could not be sampled:\n  - batch-dev: AccessDeniedException: not authorized');
    expect(text).toContain('Instance types unknown to DescribeInstanceTypes: x9.mega');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('says when a version upgrade lacks a second AZ', () => {
    const inv = prod();
    inv.subnets[1]!.AvailableIpAddressCount = 5;
    const u = measure({ region: REGION, collectedAt: '2026-12-01T10:00:00.000Z', clusters: [inv], failedClusters: [], instanceTypes: instanceTypes('m5.large'), unknownInstanceTypes: [] });
    expect(renderReport(u)).toContain('least free in a cluster subnet 5 (EKS needs 6, recommends 16); 1 AZ(s) with the minimum free — a version upgrade needs two');
  });

  it.each([
    [{ kind: 'self-managed' } as const, 'CNI: self-managed aws-node (its settings are not visible to the AWS API)'],
    [{ kind: 'unknown', reason: 'AccessDeniedException' } as const, 'CNI: unknown (the vpc-cni add-on could not be read)'],
    [managedCni(), 'CNI: managed vpc-cni v1.19.2-eksbuild.1 (CNI defaults): WARM_ENI_TARGET=1'],
    [managedCni({ ENABLE_PREFIX_DELEGATION: 'true' }), 'CNI: managed vpc-cni v1.19.2-eksbuild.1: ENABLE_PREFIX_DELEGATION=true WARM_ENI_TARGET=1 WARM_PREFIX_TARGET=1'],
  ])('renders the CNI line for %j', (cni, expected) => {
    const inv = prod();
    inv.cni = cni;
    const u = measure({ region: REGION, collectedAt: '2026-12-01T10:00:00.000Z', clusters: [inv], failedClusters: [], instanceTypes: instanceTypes('m5.large'), unknownInstanceTypes: [] });
    expect(renderReport(u)).toContain(expected);
  });

  it('an empty sample is still a report', () => {
    const u: Usage = { region: REGION, collectedAt: '2026-12-01T10:00:00.000Z', clusters: [], failedClusters: [], unknownInstanceTypes: [] };
    expect(renderReport(u)).toBe('eks-ip-responder report: eu-west-1, sampled 2026-12-01T10:00:00.000Z\n0 cluster(s) sampled, 0 failed\n');
  });
});

describe('renderReport on reads that failed', () => {
  const base = { region: REGION, collectedAt: '2026-12-01T10:00:00.000Z', failedClusters: [], instanceTypes: instanceTypes('m5.large'), unknownInstanceTypes: [] };
  const render = (inv: ClusterInventory) => {
    const inventory = { ...base, clusters: [inv] };
    return { text: renderReport(measure(inventory), [], { inventory }), json: usageJson(measure(inventory), inventory).clusters[0]! };
  };

  it('prints the figures resting on an unread subnet as unknown, never 0', () => {
    const inv = prod();
    // B could not be read: DescribeSubnets gave no record of it.
    inv.subnets = inv.subnets.filter((s) => s.SubnetId !== B);
    inv.problems.push({ source: 'ec2:DescribeSubnets', message: `subnet ${B}: bad record`, unread: { part: 'subnets', ids: [B] } });
    const { text, json } = render(inv);
    expect(text).toContain(`Pod subnets: free IPs unknown (${B} not read), 7 free in the 1 read, least in one of them 7\n`);
    expect(text).toContain(`Control plane: free IPs in the cluster subnets unknown (${B} not read)`);
    expect(text).toContain(`Not in the tables: ${B} (DescribeSubnets gave no record that could be read).`);
    expect(text).not.toMatch(/least free in a cluster subnet/);
    expect(json).toMatchObject({ totals: { availableIps: null, minSubnetAvailable: null }, controlPlane: { minAvailable: null, upgradeReady: null } });
    expect(json['unknown']).toEqual(expect.arrayContaining(['totals.availableIps', 'controlPlane']));
  });

  it('prints holders, pod IPs and node limits as unknown when the ENIs could not be read', () => {
    const inv = prod();
    inv.networkInterfaces = [];
    inv.problems.push({ source: 'ec2:DescribeNetworkInterfaces', message: 'UnauthorizedOperation', code: 'UnauthorizedOperation', unread: { part: 'network-interfaces', ids: [A, B] } });
    const { text, json } = render(inv);
    const [rowA, heldA] = text.split('\n').filter((l) => l.trimStart().startsWith(`${A} `));
    // Free, usable and used come from DescribeSubnets: known. Who holds them is not.
    expect(rowA!.trim().split(/\s+/)).toEqual([A, 'eu-west-1a', '10.0.1.0/24', 'cluster,node', '7', '251', '97%']);
    expect(heldA!.trim().split(/\s+/)).toEqual([A, '?', '?', '?', '?', '?', '?']);
    expect(text).toContain('Pod subnets: 18 free IPs, least in one subnet 7\n  Nodes: 2, pod IPs held unknown, max pods unknown;');
    expect(text).not.toContain('Unaccounted:');
    expect(json['subnets']).toEqual([expect.objectContaining({ subnetId: A, held: null }), expect.objectContaining({ subnetId: B, held: null })]);
    expect(json).toMatchObject({ totals: { availableIps: 18, podIps: null } });
  });

  it('prints the nodes as unknown when DescribeInstances failed', () => {
    const inv = prod();
    inv.instances = [];
    inv.problems.push({ source: 'ec2:DescribeInstances', message: 'denied', unread: { part: 'instances' } });
    const { text, json } = render(inv);
    expect(text).toContain('Nodes: unknown (DescribeInstances failed)');
    const general = text.split('\n').find((l) => l.trimStart().startsWith('general'))!;
    expect(general.trim().split(/\s+/)).toEqual(['general', 'managed', 'm5.large', '?', '?/?', '?/?', '?', '?', '?']);
    expect(json).toMatchObject({ totals: { nodes: null, podCapacity: null } });
  });

  it('says "none in the data that could be read" rather than "Findings: none" on incomplete data', () => {
    const inv = prod();
    expect(renderReport(measure({ ...base, clusters: [inv] }), [])).toContain('  Findings: none in the data that could be read (it is incomplete: a finding may be missing)');
    inv.problems = [];
    inv.networkInterfaces = inv.networkInterfaces.filter((e) => e.SubnetId !== STRAY);
    inv.instances = inv.instances.filter((i) => i.InstanceType === 'm5.large');
    expect(renderReport(measure({ ...base, clusters: [inv] }), [])).toContain('  Findings: none\n');
  });

  it('a complete cluster is in the JSON as measured, with nothing unknown', () => {
    const inv = prod();
    inv.problems = [];
    inv.networkInterfaces = inv.networkInterfaces.filter((e) => e.SubnetId !== STRAY);
    inv.instances = inv.instances.filter((i) => i.InstanceType === 'm5.large');
    const inventory = { ...base, clusters: [inv] };
    const usage = measure(inventory);
    expect(usage.clusters[0]?.complete).toBe(true);
    expect(usageJson(usage, inventory).clusters[0]).toEqual({ ...usage.clusters[0], unknown: [] });
  });
});

describe('renderReport: the Kubernetes line', () => {
  const base = { region: REGION, collectedAt: '2026-12-01T10:00:00.000Z', failedClusters: [], instanceTypes: instanceTypes('m5.large'), unknownInstanceTypes: [] };
  const text = (inv: ClusterInventory) => {
    const inventory = { ...base, clusters: [inv] };
    return renderReport(measure(inventory), [], { inventory });
  };

  it('says once per cluster whether Kubernetes was read, and when not, why and the fix; nothing when the source does not read it', () => {
    const read = prod();
    read.kube = { readAt: '2026-12-01T10:00:00.000Z', access: { ok: true }, nodes: [{ name: 'a' }, { name: 'b' }], unread: [] };
    expect(text(read).split('\n').filter((l) => l.includes('Kubernetes:'))).toEqual(['  Kubernetes: read (2 nodes)']);
    const off = prod();
    off.kube = { readAt: '2026-12-01T10:00:00.000Z', access: { ok: false, reason: 'not-enabled', detail: 'not listed', fix: 'add prod to the stage param kubernetesClusters' }, unread: [] };
    expect(text(off)).toContain('\n  Kubernetes: not read: not-enabled — add prod to the stage param kubernetesClusters\n');
    expect(text(prod())).not.toContain('Kubernetes:');
  });
});
