import { diagnoseCluster } from '../../lib/diagnose/diagnose';
import { kubeAccessLine } from '../../lib/diagnose/kube-access';
import { DEFAULT_THRESHOLDS, type Finding } from '../../lib/diagnose/types';
import type { KubeAccessReason, KubeClusterView } from '../../lib/inventory/kube-types';
import type { ClusterInventory, FunctionPlacement, RouteTable, SecurityGroup } from '../../lib/inventory/types';
import { measureCluster } from '../../lib/measure/measure';
import { clusterInventory, managedCni, subnet, VPC } from '../measure/builders';

const CLUSTER_SG = 'sg-cluster';
const FN_SG = 'sg-fn';
const view = (access: KubeClusterView['access'], nodes?: number): KubeClusterView => ({
  readAt: '2026-01-01T00:00:00Z',
  access,
  ...(nodes !== undefined ? { nodes: Array.from({ length: nodes }, (_, i) => ({ name: `n${i}` })) } : {}),
  unread: [],
});
const failed = (reason: KubeAccessReason, detail = 'connect ETIMEDOUT 10.0.0.5:443'): KubeClusterView['access'] => ({ ok: false, reason, detail, fix: `the reader's fix for ${reason}` });

interface Setup {
  reason?: KubeAccessReason;
  mode?: 'API' | 'API_AND_CONFIG_MAP' | 'CONFIG_MAP';
  publicAccess?: boolean;
  privateAccess?: boolean;
  cidrs?: string[];
  dns?: { support?: boolean; hostnames?: boolean };
  groups?: SecurityGroup[];
  routes?: RouteTable[];
}

function inv(s: Setup = {}): ClusterInventory {
  const c = clusterInventory({ name: 'prod', subnets: [[subnet('subnet-a', '10.0.0.0/20', 'eu-west-1a', 3000), ['cluster', 'node']]], cni: managedCni() });
  c.cluster.accessConfig = { authenticationMode: s.mode ?? 'API_AND_CONFIG_MAP' };
  c.cluster.resourcesVpcConfig = {
    ...c.cluster.resourcesVpcConfig,
    vpcId: VPC,
    clusterSecurityGroupId: CLUSTER_SG,
    endpointPublicAccess: s.publicAccess ?? false,
    endpointPrivateAccess: s.privateAccess ?? true,
    publicAccessCidrs: s.cidrs ?? ['0.0.0.0/0'],
  };
  c.network = { vpcId: VPC, enableDnsSupport: s.dns?.support ?? true, enableDnsHostnames: s.dns?.hostnames ?? true, ...(s.routes ? { routeTables: s.routes } : {}) };
  if (s.groups) c.clusterSecurityGroups = s.groups;
  c.kube = view(failed(s.reason ?? 'unreachable'));
  return c;
}

const inClusterVpc: FunctionPlacement = {
  subnetIds: ['subnet-fn'],
  securityGroupIds: [FN_SG],
  subnets: [{ SubnetId: 'subnet-fn', VpcId: VPC, CidrBlock: '10.0.64.0/24' }],
};
const notPlaced: FunctionPlacement = { subnetIds: [], securityGroupIds: [] };
const clusterSg = (rules: SecurityGroup['IpPermissions']): SecurityGroup => ({ GroupId: CLUSTER_SG, VpcId: VPC, IpPermissions: rules });
const fromFnSg = clusterSg([{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: FN_SG }] }]);
const fromNodesOnly = clusterSg([{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: 'sg-nodes' }] }]);

function diagnosed(i: ClusterInventory, placement?: FunctionPlacement): Finding[] {
  return diagnoseCluster(measureCluster(i, {}), i, DEFAULT_THRESHOLDS, {}, placement).filter((f) => f.kind === 'kube-access');
}
function one(i: ClusterInventory, placement?: FunctionPlacement): Finding {
  const findings = diagnosed(i, placement);
  expect(findings).toHaveLength(1);
  return findings[0]!;
}

describe('kube-access', () => {
  it('says nothing when Kubernetes was read, not read by this source, or not enabled for the cluster', () => {
    const read = inv();
    read.kube = view({ ok: true }, 3);
    expect(diagnosed(read, inClusterVpc)).toEqual([]);
    const unread = inv();
    delete unread.kube;
    expect(diagnosed(unread, inClusterVpc)).toEqual([]);
    const off = inv();
    off.kube = view(failed('not-enabled'));
    expect(diagnosed(off, inClusterVpc)).toEqual([]);
  });

  it('authentication mode CONFIG_MAP: the one-way update-cluster-config command', () => {
    const f = one(inv({ reason: 'authentication-mode', mode: 'CONFIG_MAP' }));
    expect(f).toMatchObject({ id: 'prod/kube-access/prod', severity: 'warning', evidence: { reason: 'authentication-mode', blockedBy: 'authentication-mode', authenticationMode: 'CONFIG_MAP' } });
    expect(f.fixes[0]).toBe(
      'aws eks update-cluster-config --name prod --access-config authenticationMode=API_AND_CONFIG_MAP (one way: CONFIG_MAP cannot be set back), then redeploy the stack so that its access entries are created',
    );
  });

  it('401: the access entry, by the stack param or the create-access-entry command', () => {
    const f = one(inv({ reason: 'no-access-entry', mode: 'API' }));
    expect(f.evidence['blockedBy']).toBe('access-entry');
    expect(f.fixes[0]).toMatch(/^add prod to the stage param kubernetesClusters and redeploy, or: aws eks create-access-entry --cluster-name prod .* --type STANDARD --kubernetes-groups eks-ip-responder-reader$/);
  });

  it('401 on a CONFIG_MAP cluster: the authentication mode, not the entry', () => {
    expect(one(inv({ reason: 'no-access-entry', mode: 'CONFIG_MAP' })).evidence['blockedBy']).toBe('authentication-mode');
  });

  it('403: RBAC, fixed by the rbac command', () => {
    const f = one(inv({ reason: 'forbidden' }));
    expect(f.evidence['blockedBy']).toBe('rbac');
    expect(f.fixes[0]).toContain('npx eks-ip-responder rbac | kubectl apply -f -');
  });

  it('private endpoint, functions not in a VPC: the placement params', () => {
    const f = one(inv({ reason: 'private-endpoint', publicAccess: false }), notPlaced);
    expect(f.evidence).toMatchObject({ blockedBy: 'placement', functionPlacement: 'not in a VPC', endpointPublicAccess: 'false' });
    expect(f.title).toBe('Kubernetes API of prod not read: the endpoint is private only and the functions are not in a VPC: they cannot reach it');
    expect(f.fixes[0]).toContain('--param "vpcSubnetIds=<private subnets of vpc-');
  });

  it('private endpoint, functions in another VPC without routing: place them in the cluster VPC', () => {
    const other: FunctionPlacement = { ...inClusterVpc, subnets: [{ SubnetId: 'subnet-fn', VpcId: 'vpc-other', CidrBlock: '172.16.0.0/24' }] };
    const f = one(inv({ reason: 'unreachable' }), other);
    expect(f.evidence).toMatchObject({ blockedBy: 'placement', functionPlacement: 'other VPC (vpc-other)' });
    expect(f.evidenceText.join(' ')).toContain('not in the cluster');
  });

  it('in the cluster VPC, DNS hostnames off: the modify-vpc-attribute command', () => {
    const f = one(inv({ reason: 'dns', dns: { hostnames: false }, groups: [fromFnSg] }), inClusterVpc);
    expect(f.evidence['blockedBy']).toBe('dns');
    expect(f.fixes[0]).toBe(`aws ec2 modify-vpc-attribute --vpc-id ${VPC} --enable-dns-hostnames '{"Value":true}'`);
  });

  it('in the cluster VPC, DNS on, no 443 from the functions on the cluster security group: authorize-security-group-ingress', () => {
    const f = one(inv({ reason: 'unreachable', groups: [fromNodesOnly] }), inClusterVpc);
    expect(f.evidence['blockedBy']).toBe('security-group');
    expect(f.fixes[0]).toBe(`aws ec2 authorize-security-group-ingress --group-id ${CLUSTER_SG} --protocol tcp --port 443 --source-group ${FN_SG}`);
  });

  it('takes a 443 rule from the functions’ group, or from a CIDR holding their subnet, as reaching', () => {
    const byCidr = clusterSg([{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/16' }] }]);
    for (const groups of [[fromFnSg], [byCidr], [fromNodesOnly, fromFnSg]]) {
      // Nothing the checks can name: the reader's own detail and fix.
      const f = one(inv({ reason: 'unreachable', groups }), inClusterVpc);
      expect(f.evidence['blockedBy']).toBe('other');
      expect(f.fixes).toEqual(["the reader's fix for unreachable"]);
    }
  });

  it('public endpoint with a CIDR allow-list, functions not in a VPC: the private endpoint and placement', () => {
    const f = one(inv({ reason: 'unreachable', publicAccess: true, privateAccess: false, cidrs: ['203.0.113.0/24'] }), notPlaced);
    expect(f.evidence).toMatchObject({ blockedBy: 'endpoint-access', publicAccessCidrs: '203.0.113.0/24' });
    expect(f.title).toContain("Lambda's own AWS addresses");
  });

  it('public endpoint only, functions in the cluster VPC without a NAT route: turn private access on', () => {
    const noNat: RouteTable = { RouteTableId: 'rtb-main', VpcId: VPC, Associations: [{ Main: true }], Routes: [{ DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1', State: 'active' }] };
    const f = one(inv({ reason: 'unreachable', publicAccess: true, privateAccess: false, routes: [noNat] }), inClusterVpc);
    expect(f.evidence['blockedBy']).toBe('placement');
    expect(f.fixes[0]).toMatch(/^aws eks update-cluster-config --name prod --resources-vpc-config endpointPrivateAccess=true/);
    const nat: RouteTable = { ...noNat, Routes: [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' }] };
    expect(one(inv({ reason: 'unreachable', publicAccess: true, privateAccess: false, routes: [nat] }), inClusterVpc).evidence['blockedBy']).toBe('other');
  });

  it('tls: the certificate did not verify', () => {
    expect(one(inv({ reason: 'tls' })).evidence['blockedBy']).toBe('tls');
  });
});

describe('kubeAccessLine', () => {
  it('says read with the node count, not read with the reason and fix, or nothing when not read by the source', () => {
    const read = inv();
    read.kube = view({ ok: true }, 12);
    expect(kubeAccessLine(read)).toBe('Kubernetes: read (12 nodes)');
    const off = inv();
    off.kube = view({ ok: false, reason: 'not-enabled', detail: 'x', fix: 'add prod to kubernetesClusters' });
    expect(kubeAccessLine(off)).toBe('Kubernetes: not read: not-enabled — add prod to kubernetesClusters');
    const none = inv();
    delete none.kube;
    expect(kubeAccessLine(none)).toBeUndefined();
  });
});
