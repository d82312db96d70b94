/**
 * Network preflight: what a node needs from its VPC to join the cluster and pull images, read from
 * the VPC's network (`ClusterInventory.network`): DNS support and hostnames and AmazonProvidedDNS
 * for the private API endpoint, and for each node subnet a default route to a NAT or internet
 * gateway, or the VPC endpoints a private cluster needs, reachable from the nodes. Pure. A piece
 * that was not read gives `unknown`, never a missing piece. Sources: docs/models.md, "Network preflight".
 */
import type { ClusterInventory, RouteTable, SecurityGroup, VpcEndpoint, VpcNetworkPiece } from '../inventory/types';
import { parseIpv4Cidr } from '../measure/cidr';
import type { ClusterUsage } from '../measure/types';

/**
 * The endpoints nodes without a route to the internet need to join and pull images: EC2 (the VPC
 * CNI's calls), ECR's API and registry and S3 (image layers) (EKS user guide, "Deploy private
 * clusters with limited internet access", https://docs.aws.amazon.com/eks/latest/userguide/private-clusters.html;
 * awsdocs/amazon-eks-user-guide@4d52b4d latest/ug/clusters/private-clusters.adoc, the table of
 * endpoints). STS is "required when using IAM roles for service accounts" (same table): required
 * when the vpc-cni add-on has a service account role. The guide's others (elasticloadbalancing,
 * xray, logs; autoscaling for Cluster Autoscaler) are listed as recommended, if used.
 */
export const REQUIRED_ENDPOINT_SERVICES = ['ec2', 'ecr.api', 'ecr.dkr', 's3'] as const;
export const IRSA_ENDPOINT_SERVICE = 'sts';
export const OPTIONAL_ENDPOINT_SERVICES = ['sts', 'elasticloadbalancing', 'logs', 'xray'] as const;

/** The DNS name servers a private endpoint's hosted zone resolves through (cluster-endpoint guide). */
export const AMAZON_PROVIDED_DNS = 'AmazonProvidedDNS';

export type NetworkVerdict = 'ok' | 'missing' | 'unknown';

/** The VPC's DNS, as the private API endpoint needs it. */
export interface VpcDnsCheck {
  vpcId: string;
  verdict: NetworkVerdict;
  enableDnsSupport?: boolean;
  enableDnsHostnames?: boolean;
  /** domain-name-servers of the VPC's DHCP options; absent when unknown or the VPC has no set. */
  domainNameServers?: string[];
  /** Each thing missing, in words that name it. */
  missing: string[];
  /** Why a verdict is unknown. */
  unknown: string[];
}

/** One endpoint service a private node subnet needs. */
export interface EndpointNeed {
  service: string;
  serviceName: string;
  required: boolean;
  /** The endpoint found (its id), or absent. */
  endpointId?: string;
  verdict: NetworkVerdict;
  /** What is wrong with it (no private DNS, its security groups do not admit the nodes, not on the route table). */
  problem?: string;
}

/** One node subnet's way out. */
export interface SubnetEgressCheck {
  subnetId: string;
  availabilityZone?: string;
  routeTableId?: string;
  /** The route table is the VPC's main one (the subnet has no explicit association). */
  mainRouteTable?: boolean;
  /** The default route's target (nat-…, igw-…, tgw-…, eni-…), if any. */
  defaultRoute?: string;
  verdict: NetworkVerdict;
  /** Without a default route: the endpoints and what each lacks. */
  endpoints: EndpointNeed[];
  missing: string[];
  unknown: string[];
}

export interface NetworkChecks {
  cluster: string;
  /** Absent when the network was not collected. */
  dns?: VpcDnsCheck;
  subnets: SubnetEgressCheck[];
  /** Set when the network was not collected at all (the source does not read it). */
  notCollected?: string;
  /** The cluster's API endpoint is private only: nodes reach it only inside the VPC. */
  privateOnly: boolean;
}

/** The pieces a `vpc-network` problem says were not read; every piece when it names none. */
function unreadPieces(inv: ClusterInventory): Set<VpcNetworkPiece> | 'all' {
  const out = new Set<VpcNetworkPiece>();
  for (const p of inv.problems) {
    if (p.unread?.part !== 'vpc-network') continue;
    if (!p.unread.ids) return 'all';
    for (const id of p.unread.ids) out.add(id as VpcNetworkPiece);
  }
  return out;
}

function cidrContains(outer: string, inner: string): boolean {
  try {
    const a = parseIpv4Cidr(outer);
    const b = parseIpv4Cidr(inner);
    return a.base <= b.base && b.base + b.size <= a.base + a.size;
  } catch {
    return false;
  }
}

/**
 * The route table a subnet uses: its explicit association, else the VPC's main table, which every
 * subnet without an explicit association uses (VPC user guide, route tables,
 * https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html).
 */
export function routeTableOf(subnetId: string, tables: readonly RouteTable[]): { table?: RouteTable; main: boolean } {
  const explicit = tables.find((t) => (t.Associations ?? []).some((a) => a.SubnetId === subnetId));
  if (explicit) return { table: explicit, main: false };
  const main = tables.find((t) => (t.Associations ?? []).some((a) => a.Main === true));
  return main ? { table: main, main: true } : { main: true };
}

/**
 * The target of an active 0.0.0.0/0 route that leads out: a NAT gateway, an internet gateway, a
 * transit gateway (central egress), or a NAT instance's ENI. A blackhole route leads nowhere.
 */
export function defaultRouteOf(table: RouteTable): string | undefined {
  for (const r of table.Routes ?? []) {
    if (r.DestinationCidrBlock !== '0.0.0.0/0' || r.State === 'blackhole') continue;
    const target = r.NatGatewayId ?? (r.GatewayId?.startsWith('igw-') ? r.GatewayId : undefined) ?? r.TransitGatewayId ?? r.NetworkInterfaceId ?? r.InstanceId;
    if (target) return target;
  }
  return undefined;
}

/** Whether a group admits TCP 443 from one of the node groups or from a CIDR holding the subnet. */
export function admits443(sg: SecurityGroup, nodeGroups: ReadonlySet<string>, subnetCidr: string | undefined): boolean {
  return (sg.IpPermissions ?? []).some((p) => {
    const port = p.IpProtocol === '-1' || (p.IpProtocol === 'tcp' && (p.FromPort ?? 0) <= 443 && (p.ToPort ?? 65535) >= 443);
    if (!port) return false;
    if ((p.UserIdGroupPairs ?? []).some((g) => g.GroupId !== undefined && nodeGroups.has(g.GroupId))) return true;
    return subnetCidr !== undefined && (p.IpRanges ?? []).some((r) => r.CidrIp !== undefined && cidrContains(r.CidrIp, subnetCidr));
  });
}

function endpointNeed(
  service: string,
  required: boolean,
  region: string,
  endpoints: readonly VpcEndpoint[],
  routeTableId: string | undefined,
  groups: readonly SecurityGroup[] | undefined,
  nodeGroups: ReadonlySet<string>,
  subnetCidr: string | undefined,
): EndpointNeed {
  const serviceName = `com.amazonaws.${region}.${service}`;
  const live = endpoints.filter((e) => e.ServiceName === serviceName && (e.State ?? '').toLowerCase() === 'available');
  const base = { service, serviceName, required };
  if (live.length === 0) return { ...base, verdict: 'missing', problem: `the VPC has no ${serviceName} endpoint` };
  // S3: a gateway endpoint on the subnet's route table, or an interface endpoint.
  const gateway = live.find((e) => e.VpcEndpointType === 'Gateway');
  if (gateway) {
    if (routeTableId && (gateway.RouteTableIds ?? []).includes(routeTableId)) return { ...base, endpointId: gateway.VpcEndpointId, verdict: 'ok' };
    if (!live.some((e) => e.VpcEndpointType === 'Interface')) {
      return { ...base, endpointId: gateway.VpcEndpointId, verdict: 'missing', problem: `gateway endpoint ${gateway.VpcEndpointId ?? ''} is not on route table ${routeTableId ?? '?'}` };
    }
  }
  const iface = live.filter((e) => e.VpcEndpointType === 'Interface');
  const problems: string[] = [];
  for (const e of iface) {
    const dns = e.PrivateDnsEnabled === true || service === 's3';
    if (!groups) return { ...base, endpointId: e.VpcEndpointId, verdict: 'unknown', problem: 'its security groups were not read' };
    const own = groups.filter((g) => (e.Groups ?? []).some((x) => x.GroupId === g.GroupId));
    const reach = own.some((g) => admits443(g, nodeGroups, subnetCidr));
    if (dns && reach) return { ...base, endpointId: e.VpcEndpointId, verdict: 'ok' };
    problems.push(
      [
        ...(dns ? [] : [`interface endpoint ${e.VpcEndpointId ?? ''} has private DNS off`]),
        ...(reach ? [] : [`the security groups of ${e.VpcEndpointId ?? ''} (${(e.Groups ?? []).map((g) => g.GroupId).join(', ')}) admit no TCP 443 from the nodes' security groups or the subnet's CIDR`]),
      ].join(' and '),
    );
  }
  return { ...base, endpointId: iface[0]?.VpcEndpointId, verdict: 'missing', problem: problems.join('; ') };
}

/** The cluster's region: its ARN's, else its subnets' AZ less the letter. */
function regionOf(usage: ClusterUsage, inv: ClusterInventory): string {
  const fromArn = inv.cluster.arn?.split(':')[3];
  if (fromArn) return fromArn;
  return usage.subnets[0]?.availabilityZone.replace(/[a-z]$/, '') ?? '';
}

/** The network checks of one cluster (empty subnets when the network was not collected). */
export function networkChecks(usage: ClusterUsage, inv: ClusterInventory, region: string = regionOf(usage, inv)): NetworkChecks {
  const access = inv.cluster.resourcesVpcConfig;
  const privateOnly = access?.endpointPublicAccess === false;
  const net = inv.network;
  if (!net) {
    const failed = inv.problems.find((p) => p.unread?.part === 'vpc-network');
    return { cluster: inv.name, subnets: [], privateOnly, notCollected: failed ? `the VPC's network was not read: ${failed.message}` : "the VPC's network was not read (not asked for, or not in the snapshot)" };
  }
  const unread = unreadPieces(inv);
  const isUnread = (p: VpcNetworkPiece): boolean => unread === 'all' || unread.has(p);

  // DNS: the private endpoint's hosted zone (cluster-endpoint guide).
  const dns: VpcDnsCheck = { vpcId: net.vpcId, verdict: 'ok', missing: [], unknown: [] };
  for (const [attr, value] of [
    ['enableDnsSupport', net.enableDnsSupport],
    ['enableDnsHostnames', net.enableDnsHostnames],
  ] as const) {
    if (value === undefined) dns.unknown.push(`${attr} was not read`);
    else {
      dns[attr] = value;
      if (!value) dns.missing.push(`${net.vpcId} has ${attr} off`);
    }
  }
  if (net.dhcpOptions) {
    const servers = (net.dhcpOptions.DhcpConfigurations ?? []).find((c) => c.Key === 'domain-name-servers');
    const names = (servers?.Values ?? []).map((v) => v.Value ?? '').filter((v) => v !== '');
    dns.domainNameServers = names;
    // Only the private endpoint's hosted zone needs it (cluster-endpoint guide).
    if (access?.endpointPrivateAccess === true && names.length > 0 && !names.includes(AMAZON_PROVIDED_DNS)) {
      dns.missing.push(`DHCP options ${net.dhcpOptions.DhcpOptionsId ?? ''} of ${net.vpcId} name ${names.join(', ')} and not ${AMAZON_PROVIDED_DNS}`);
    }
  } else if (isUnread('dhcpOptions') || !net.vpc || (net.vpc.DhcpOptionsId !== undefined && net.vpc.DhcpOptionsId !== 'default')) {
    dns.unknown.push('the DHCP options were not read');
  }
  dns.verdict = dns.missing.length > 0 ? 'missing' : dns.unknown.length > 0 ? 'unknown' : 'ok';

  // Egress per node subnet.
  const nodeSubnets = usage.subnets.filter((s) => s.roles.includes('node')).sort((a, b) => a.subnetId.localeCompare(b.subnetId));
  const clusterSg = access?.clusterSecurityGroupId;
  const checks: SubnetEgressCheck[] = [];
  const irsa = inv.cni.kind === 'managed' && typeof inv.cni.addon.serviceAccountRoleArn === 'string' && inv.cni.addon.serviceAccountRoleArn !== '';
  for (const s of nodeSubnets) {
    const check: SubnetEgressCheck = { subnetId: s.subnetId, availabilityZone: s.availabilityZone, verdict: 'ok', endpoints: [], missing: [], unknown: [] };
    checks.push(check);
    if (!net.routeTables) {
      check.verdict = 'unknown';
      check.unknown.push('the route tables were not read');
      continue;
    }
    const { table, main } = routeTableOf(s.subnetId, net.routeTables);
    check.mainRouteTable = main;
    if (table?.RouteTableId) check.routeTableId = table.RouteTableId;
    const target = table ? defaultRouteOf(table) : undefined;
    if (target) {
      check.defaultRoute = target;
      continue;
    }
    const rtb = table?.RouteTableId ?? 'none';
    const noRoute = `${s.subnetId} route table ${rtb}${main ? ' (the main table: no explicit association)' : ''} has no default route (0.0.0.0/0) to a NAT or internet gateway`;
    if (!net.endpoints) {
      check.verdict = 'unknown';
      check.unknown.push(`${noRoute}, and the VPC endpoints were not read`);
      continue;
    }
    const nodeGroups = new Set<string>([
      ...(clusterSg ? [clusterSg] : []),
      ...inv.instances.filter((i) => i.SubnetId === s.subnetId).flatMap((i) => (i.SecurityGroups ?? []).map((g) => g.GroupId ?? '')),
    ]);
    nodeGroups.delete('');
    const services: [string, boolean][] = [...REQUIRED_ENDPOINT_SERVICES.map((x): [string, boolean] => [x, true]), [IRSA_ENDPOINT_SERVICE, irsa]];
    check.endpoints = services.map(([svc, required]) =>
      endpointNeed(svc, required, region, net.endpoints ?? [], table?.RouteTableId, isUnread('securityGroups') ? undefined : net.securityGroups, nodeGroups, s.cidrBlock),
    );
    const lacking = check.endpoints.filter((e) => e.required && e.verdict === 'missing');
    const unsure = check.endpoints.filter((e) => e.required && e.verdict === 'unknown');
    for (const e of lacking) check.missing.push(`${noRoute} and ${e.problem ?? `no ${e.serviceName} endpoint`}`);
    for (const e of unsure) check.unknown.push(`${e.serviceName} (${e.endpointId ?? ''}): ${e.problem ?? 'not known'}`);
    // "Your cluster must have endpoint private access enabled. This is required for nodes to register" (private-clusters).
    if (access?.endpointPrivateAccess !== true) {
      check.missing.push(`${noRoute}, and cluster ${inv.name} has endpoint private access off: its nodes cannot reach the API server`);
    }
    check.verdict = check.missing.length > 0 ? 'missing' : check.unknown.length > 0 ? 'unknown' : 'ok';
  }
  return { cluster: inv.name, dns, subnets: checks, privateOnly };
}
