/**
 * node-egress: a node subnet whose route table has no default route to a NAT or internet gateway
 * and whose VPC lacks an endpoint a private cluster's nodes need (or has it unreachable: private
 * DNS off, security groups closed to the nodes on 443, an S3 gateway off the route table): nodes
 * there cannot pull images and never join. One finding per subnet, naming each missing piece. From
 * the network preflight (network-preflight.ts); silent on what was not read.
 */
import { finding, list, type ClusterContext } from './context';
import { networkChecks, type EndpointNeed, type SubnetEgressCheck } from './network-preflight';
import type { Finding } from './types';

function fixOf(c: SubnetEgressCheck, e: EndpointNeed, vpcId: string): string {
  const rtb = c.routeTableId ?? '<route-table-id>';
  if (e.problem?.startsWith('the VPC has no')) {
    return e.service === 's3'
      ? `aws ec2 create-vpc-endpoint --vpc-id ${vpcId} --vpc-endpoint-type Gateway --service-name ${e.serviceName} --route-table-ids ${rtb}`
      : `aws ec2 create-vpc-endpoint --vpc-id ${vpcId} --vpc-endpoint-type Interface --service-name ${e.serviceName} --subnet-ids ${c.subnetId} --security-group-ids <sg admitting 443 from the nodes> --private-dns-enabled`;
  }
  if (e.problem?.includes('not on route table')) return `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${e.endpointId ?? ''} --add-route-table-ids ${rtb}`;
  const out: string[] = [];
  if (e.problem?.includes('private DNS off')) out.push(`aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${e.endpointId ?? ''} --private-dns-enabled`);
  if (e.problem?.includes('admit no TCP 443')) out.push(`aws ec2 authorize-security-group-ingress --group-id <the endpoint's sg> --protocol tcp --port 443 --source-group <the nodes' sg> (or --cidr of ${c.subnetId})`);
  return out.join('; ');
}

export function diagnoseNodeEgress(ctx: ClusterContext): Finding[] {
  const checks = networkChecks(ctx.usage, ctx.inventory);
  const vpcId = ctx.inventory.network?.vpcId ?? ctx.usage.vpcId ?? '<vpc-id>';
  const findings: Finding[] = [];
  for (const c of checks.subnets) {
    if (c.verdict !== 'missing') continue;
    const lacking = c.endpoints.filter((e) => e.required && e.verdict === 'missing');
    const nodegroups = ctx.usage.nodegroups.filter((ng) => ng.subnetIds.includes(c.subnetId)).map((ng) => ng.name);
    findings.push(
      finding(ctx, {
        kind: 'node-egress',
        severity: 'critical',
        subject: { type: 'subnet', id: c.subnetId, ...(c.availabilityZone ? { availabilityZone: c.availabilityZone } : {}) },
        title: `Subnet ${c.subnetId}: no way out for nodes: ${c.missing[0] ?? 'no default route and no VPC endpoints'}`,
        evidence: {
          routeTableId: c.routeTableId ?? 'none',
          mainRouteTable: c.mainRouteTable ? 'yes' : 'no',
          missingEndpoints: lacking.map((e) => e.service).join(',') || 'none',
          nodegroups: nodegroups.join(',') || 'none',
        },
        evidenceText: [
          ...c.missing.map((m) => `${m}.`),
          ...(nodegroups.length > 0 ? [`Nodegroups with nodes here: ${list(nodegroups)}: new nodes cannot pull images or reach AWS APIs, and never join.`] : []),
          'Nodes without internet egress need the VPC endpoints of EC2, ECR (api and dkr), S3 and, with IAM roles for service accounts, STS; with private DNS, reachable on 443 from the nodes.',
        ],
        fixes: [
          `Give the subnet egress: aws ec2 create-route --route-table-id ${c.routeTableId ?? '<route-table-id>'} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <nat-…>`,
          ...lacking.map((e) => `Or, for a private cluster: ${fixOf(c, e, vpcId)}`),
        ],
      }),
    );
  }
  return findings;
}
