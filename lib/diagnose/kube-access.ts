/**
 * kube-access: the cluster's Kubernetes API could not be read (inventory.kube.access, any reason but
 * `not-enabled`), and which of the authentication mode, the access entry, RBAC, endpoint access,
 * DNS of the private endpoint, the cluster security group's 443 rule or the functions' placement
 * blocks it, each with its fix. Pure. Design and sources: docs/kubernetes.md, "Private endpoints".
 */
import type { ClusterInventory, FunctionPlacement } from '../inventory/types';
import type { KubeAccess } from '../inventory/kube-types';
import { KUBE_READER_GROUP } from '../names';
import { finding, type ClusterContext } from './context';
import { admits443, defaultRouteOf, routeTableOf } from './network-preflight';
import type { Finding } from './types';

/** What a cause is about, as the docs' checks name them. */
export type KubeAccessCheck =
  | 'authentication-mode'
  | 'access-entry'
  | 'rbac'
  | 'endpoint-access'
  | 'dns'
  | 'security-group'
  | 'placement'
  | 'tls'
  | 'other';

export interface KubeAccessCause {
  check: KubeAccessCheck;
  /** One sentence: what blocks the API. */
  problem: string;
  /** The command or stack param that fixes it. */
  fix: string;
}

/** Where the functions run, relative to the cluster's VPC. */
export type PlacementVerdict =
  | { kind: 'unknown' }
  | { kind: 'none' }
  | { kind: 'cluster-vpc'; subnetIds: string[]; securityGroupIds: string[]; cidrs: (string | undefined)[] }
  | { kind: 'other-vpc'; vpcIds: string[] }
  | { kind: 'subnets-unread'; subnetIds: string[] };

export function placementOf(placement: FunctionPlacement | undefined, clusterVpcId: string | undefined): PlacementVerdict {
  if (placement === undefined) return { kind: 'unknown' };
  if (placement.subnetIds.length === 0) return { kind: 'none' };
  if (placement.subnets === undefined) return { kind: 'subnets-unread', subnetIds: placement.subnetIds };
  const vpcIds = [...new Set(placement.subnets.map((s) => s.VpcId ?? ''))].filter((v) => v !== '').sort();
  if (clusterVpcId !== undefined && vpcIds.length === 1 && vpcIds[0] === clusterVpcId) {
    return {
      kind: 'cluster-vpc',
      subnetIds: placement.subnetIds,
      securityGroupIds: placement.securityGroupIds,
      cidrs: placement.subnetIds.map((id) => placement.subnets?.find((s) => s.SubnetId === id)?.CidrBlock),
    };
  }
  return { kind: 'other-vpc', vpcIds };
}

const PLACEMENT_PARAMS = (vpcId: string) =>
  `deploy with --param "vpcSubnetIds=<private subnets of ${vpcId}>" --param "vpcSecurityGroupIds=<a security group>" (docs/kubernetes.md, "Private endpoints")`;

/**
 * The causes, most specific first. Facts (EKS user guide, "Control network access to cluster API
 * server endpoint", https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html): with
 * the public endpoint off, the API is reachable only from within the cluster's VPC or a connected
 * network; the private endpoint resolves to private addresses inside the VPC only when the VPC has
 * enableDnsHostnames and enableDnsSupport; the cluster security group must allow 443 from the
 * client; publicAccessCidrs restricts the public endpoint to the listed source addresses. A
 * function in a VPC has no public address: it reaches public endpoints only through a NAT (Lambda
 * developer guide, "Giving Lambda functions access to resources in an Amazon VPC").
 */
export function kubeAccessCauses(inv: ClusterInventory, access: Extract<KubeAccess, { ok: false }>, placement: FunctionPlacement | undefined): KubeAccessCause[] {
  const name = inv.name;
  const causes: KubeAccessCause[] = [];
  const mode = inv.cluster.accessConfig?.authenticationMode;
  const modeFix = `aws eks update-cluster-config --name ${name} --access-config authenticationMode=API_AND_CONFIG_MAP (one way: CONFIG_MAP cannot be set back), then redeploy the stack so that its access entries are created`;
  if (mode === 'CONFIG_MAP' || access.reason === 'authentication-mode') {
    causes.push({
      check: 'authentication-mode',
      problem: `the cluster's authentication mode is ${mode ?? 'CONFIG_MAP'}: access entries are not used (API or API_AND_CONFIG_MAP needed)`,
      fix: modeFix,
    });
  }
  switch (access.reason) {
    case 'authentication-mode':
      break;
    case 'no-access-entry':
      if (mode !== 'CONFIG_MAP') {
        causes.push({
          check: 'access-entry',
          problem: 'the API refused the token (401): the function role has no access entry in the cluster',
          fix: `add ${name} to the stage param kubernetesClusters and redeploy, or: aws eks create-access-entry --cluster-name ${name} --principal-arn <the function role's ARN> --type STANDARD --kubernetes-groups ${KUBE_READER_GROUP}`,
        });
      }
      break;
    case 'forbidden':
      causes.push({
        check: 'rbac',
        problem: `every read was forbidden (403): the access entry's group ${KUBE_READER_GROUP} has no ClusterRole bound in the cluster`,
        fix: `npx eks-ip-responder rbac | kubectl apply -f -   (with a kubeconfig for ${name})`,
      });
      break;
    case 'tls':
      causes.push({
        check: 'tls',
        problem: "the server's certificate did not verify against the cluster CA from DescribeCluster (a TLS-inspecting proxy on the path, or another host answering)",
        fix: 'let the functions reach the endpoint without TLS interception (an egress proxy exception for *.eks.amazonaws.com)',
      });
      break;
    default:
      causes.push(...networkCauses(inv, placement));
  }
  if (causes.length === 0) causes.push({ check: 'other', problem: access.detail, fix: access.fix });
  return causes;
}

function networkCauses(inv: ClusterInventory, placement: FunctionPlacement | undefined): KubeAccessCause[] {
  const name = inv.name;
  const config = inv.cluster.resourcesVpcConfig ?? {};
  const vpcId = config.vpcId ?? '<the cluster VPC>';
  const publicOn = config.endpointPublicAccess !== false;
  const privateOn = config.endpointPrivateAccess === true;
  const cidrs = config.publicAccessCidrs ?? ['0.0.0.0/0'];
  const openToAll = cidrs.includes('0.0.0.0/0');
  const where = placementOf(placement, config.vpcId);
  const network = inv.network;
  const dnsOff = network?.enableDnsSupport === false || network?.enableDnsHostnames === false;
  const causes: KubeAccessCause[] = [];
  const enablePrivate = `aws eks update-cluster-config --name ${name} --resources-vpc-config endpointPrivateAccess=true`;

  if (!publicOn) {
    if (where.kind === 'none') {
      causes.push({
        check: 'placement',
        problem: `the endpoint is private only and the functions are not in a VPC: they cannot reach it`,
        fix: `${PLACEMENT_PARAMS(vpcId)}; or turn the public endpoint on with an allow-list: aws eks update-cluster-config --name ${name} --resources-vpc-config endpointPublicAccess=true,publicAccessCidrs=<your NAT's address>/32`,
      });
    } else if (where.kind === 'other-vpc') {
      causes.push({
        check: 'placement',
        problem: `the endpoint is private only and the functions run in ${where.vpcIds.join(', ') || 'another VPC'}, not in the cluster's ${vpcId}: that needs routing (peering or a transit gateway) and the endpoint's DNS resolved from there`,
        fix: `place the functions in subnets of ${vpcId}: ${PLACEMENT_PARAMS(vpcId)}`,
      });
    } else if (where.kind === 'unknown') {
      causes.push({
        check: 'placement',
        problem: `the endpoint is private only: it is reachable only from within ${vpcId} or a network connected to it`,
        fix: `run from there; the stack's functions need ${PLACEMENT_PARAMS(vpcId)}`,
      });
    }
  }
  const privatePath = privateOn && where.kind === 'cluster-vpc';
  if (privatePath && dnsOff) {
    const off = [network?.enableDnsSupport === false ? 'enableDnsSupport' : '', network?.enableDnsHostnames === false ? 'enableDnsHostnames' : ''].filter((a) => a);
    causes.push({
      check: 'dns',
      problem: `${vpcId} has ${off.join(' and ')} off: the private endpoint's name does not resolve to its private addresses in the VPC`,
      fix: off.map((a) => `aws ec2 modify-vpc-attribute --vpc-id ${vpcId} --${a === 'enableDnsSupport' ? 'enable-dns-support' : 'enable-dns-hostnames'} '{"Value":true}'`).join('; '),
    });
  }
  if (privatePath && !dnsOff && where.kind === 'cluster-vpc') {
    const groups = inv.clusterSecurityGroups;
    const clusterSg = config.clusterSecurityGroupId ?? '<the cluster security group>';
    if (groups !== undefined && groups.length > 0) {
      const fnGroups = new Set(where.securityGroupIds);
      const admitted = (cidr: string | undefined) => groups.some((g) => admits443(g, fnGroups, cidr));
      if (!where.cidrs.every((cidr) => admitted(cidr))) {
        causes.push({
          check: 'security-group',
          problem: `no 443 ingress on the cluster's security groups (${groups.map((g) => g.GroupId).join(', ')}) from the functions' group ${where.securityGroupIds.join(', ')} or their subnets' CIDRs`,
          fix: `aws ec2 authorize-security-group-ingress --group-id ${clusterSg} --protocol tcp --port 443 --source-group ${where.securityGroupIds[0] ?? '<the functions group>'}`,
        });
      }
    }
  }
  if (publicOn && !privatePath) {
    if (!openToAll) {
      causes.push({
        check: 'endpoint-access',
        problem: `the public endpoint admits only ${cidrs.join(', ')}: the functions' egress (${where.kind === 'cluster-vpc' || where.kind === 'other-vpc' ? "their NAT gateway's Elastic IP" : "Lambda's own AWS addresses, which no allow-list can name"}) must be in it`,
        fix:
          where.kind === 'none' || where.kind === 'unknown'
            ? `place the functions in ${vpcId} and turn the private endpoint on (${PLACEMENT_PARAMS(vpcId)}; ${enablePrivate})`
            : `aws eks update-cluster-config --name ${name} --resources-vpc-config publicAccessCidrs=${[...cidrs, '<NAT Elastic IP>/32'].join(',')}; or ${enablePrivate}`,
      });
    }
    if (where.kind === 'cluster-vpc' && network?.routeTables) {
      const noEgress = where.subnetIds.filter((id) => {
        const { table } = routeTableOf(id, network.routeTables ?? []);
        const target = table ? defaultRouteOf(table) : undefined;
        // An internet gateway gives nothing to a Lambda ENI: it has no public address.
        return target === undefined || target.startsWith('igw-');
      });
      if (noEgress.length > 0) {
        causes.push({
          check: 'placement',
          problem: `the functions' subnets ${noEgress.join(', ')} have no default route through a NAT: a function in a VPC reaches the public endpoint only through one`,
          fix: `${enablePrivate} (the functions then use the private endpoint); or route those subnets' 0.0.0.0/0 to a NAT gateway`,
        });
      }
    }
  }
  return causes;
}

/** The evidence value of a placement. */
function placementText(where: PlacementVerdict): string {
  switch (where.kind) {
    case 'unknown':
      return 'unknown';
    case 'none':
      return 'not in a VPC';
    case 'cluster-vpc':
      return `cluster VPC (${where.subnetIds.join(',')})`;
    case 'other-vpc':
      return `other VPC (${where.vpcIds.join(',')})`;
    case 'subnets-unread':
      return `subnets not read (${where.subnetIds.join(',')})`;
  }
}

/** One warning per cluster whose Kubernetes API could not be read for a reason other than `not-enabled`. */
export function diagnoseKubeAccess(ctx: ClusterContext, placement: FunctionPlacement | undefined): Finding[] {
  const inv = ctx.inventory;
  const access = inv.kube?.access;
  if (!access || access.ok || access.reason === 'not-enabled') return [];
  const causes = kubeAccessCauses(inv, access, placement);
  const config = inv.cluster.resourcesVpcConfig ?? {};
  const fixes = [...new Set([...causes.map((c) => c.fix), access.fix])];
  return [
    finding(ctx, {
      kind: 'kube-access',
      severity: 'warning',
      subject: { type: 'cluster', id: ctx.usage.name },
      title: `Kubernetes API of ${ctx.usage.name} not read: ${causes[0]!.problem}`,
      evidence: {
        reason: access.reason,
        blockedBy: causes.map((c) => c.check).join(','),
        authenticationMode: inv.cluster.accessConfig?.authenticationMode ?? 'unknown',
        endpointPublicAccess: String(config.endpointPublicAccess ?? 'unknown'),
        endpointPrivateAccess: String(config.endpointPrivateAccess ?? 'unknown'),
        publicAccessCidrs: (config.publicAccessCidrs ?? []).join(',') || 'unknown',
        functionPlacement: placementText(placementOf(placement, config.vpcId)),
      },
      evidenceText: [
        `The reader: ${access.reason}: ${access.detail}.`,
        ...causes.map((c) => `Blocked by ${c.check}: ${c.problem}.`),
        'Without Kubernetes data the product works from the AWS API alone (warm vs assigned addresses estimated, no pod events).',
      ],
      fixes,
    }),
  ];
}

/**
 * The report's one line on a cluster's Kubernetes data: `Kubernetes: read (N nodes)` or
 * `Kubernetes: not read: <reason> — <fix>`; undefined when the source reads no Kubernetes.
 */
export function kubeAccessLine(inv: ClusterInventory): string | undefined {
  const kube = inv.kube;
  if (!kube) return undefined;
  if (kube.access.ok) return `Kubernetes: read (${kube.nodes === undefined ? 'nodes not read' : `${kube.nodes.length} node${kube.nodes.length === 1 ? '' : 's'}`})`;
  return `Kubernetes: not read: ${kube.access.reason} — ${kube.access.fix}`;
}
