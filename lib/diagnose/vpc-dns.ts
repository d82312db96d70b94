/**
 * vpc-dns: the cluster VPC lacks what DNS needs: `enableDnsSupport` or `enableDnsHostnames` off
 * (nodes cannot register: EKS network requirements), or, with the private API endpoint on, DHCP
 * options without AmazonProvidedDNS (the endpoint's private hosted zone does not resolve: cluster
 * endpoint guide). From the network preflight (network-preflight.ts); silent on what was not read.
 */
import { finding, type ClusterContext } from './context';
import { networkChecks } from './network-preflight';
import type { Finding } from './types';

export function diagnoseVpcDns(ctx: ClusterContext): Finding[] {
  const dns = networkChecks(ctx.usage, ctx.inventory).dns;
  if (!dns || dns.verdict !== 'missing') return [];
  const attrsOff = dns.enableDnsSupport === false || dns.enableDnsHostnames === false;
  const fixes = [
    ...(dns.enableDnsSupport === false ? [`aws ec2 modify-vpc-attribute --vpc-id ${dns.vpcId} --enable-dns-support '{"Value":true}'`] : []),
    ...(dns.enableDnsHostnames === false ? [`aws ec2 modify-vpc-attribute --vpc-id ${dns.vpcId} --enable-dns-hostnames '{"Value":true}'`] : []),
    ...(dns.missing.some((m) => m.startsWith('DHCP'))
      ? [
          `Associate DHCP options whose domain-name-servers include AmazonProvidedDNS (aws ec2 create-dhcp-options --dhcp-configurations Key=domain-name-servers,Values=AmazonProvidedDNS, then aws ec2 associate-dhcp-options --vpc-id ${dns.vpcId} --dhcp-options-id <id>), or have the custom DNS forward the cluster endpoint's domain to the Route 53 Resolver.`,
        ]
      : []),
  ];
  return [
    finding(ctx, {
      kind: 'vpc-dns',
      severity: attrsOff ? 'critical' : 'warning',
      subject: { type: 'cluster', id: ctx.usage.name },
      title: `VPC of ${ctx.usage.name}: ${dns.missing[0] ?? `${dns.vpcId}: DNS is not set up for EKS`}`,
      evidence: {
        vpcId: dns.vpcId,
        enableDnsSupport: dns.enableDnsSupport === undefined ? 'unknown' : String(dns.enableDnsSupport),
        enableDnsHostnames: dns.enableDnsHostnames === undefined ? 'unknown' : String(dns.enableDnsHostnames),
        domainNameServers: dns.domainNameServers?.join(',') ?? 'unknown',
      },
      evidenceText: [
        ...dns.missing.map((m) => `${m}.`),
        'EKS needs DNS resolution and DNS hostnames on the VPC (nodes cannot register otherwise), and for the private API endpoint DHCP options with AmazonProvidedDNS (its Route 53 private hosted zone).',
      ],
      fixes,
    }),
  ];
}
