import { diagnoseCluster } from '../../lib/diagnose/diagnose';
import { networkChecks, routeTableOf } from '../../lib/diagnose/network-preflight';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import type { ClusterInventory, RouteTable, SecurityGroup, VpcEndpoint, VpcNetwork } from '../../lib/inventory/types';
import { measureCluster } from '../../lib/measure/measure';
import { clusterInventory, managedCni, subnet, VPC } from '../measure/builders';

const R = 'eu-west-1';
const local = { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' as const };
const mainTable = (routes = [local, { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' as const }]): RouteTable => ({
  RouteTableId: 'rtb-main',
  VpcId: VPC,
  Associations: [{ Main: true }],
  Routes: routes,
});
const isolated: RouteTable = { RouteTableId: 'rtb-iso', VpcId: VPC, Associations: [{ Main: false, SubnetId: 'subnet-b' }], Routes: [local] };
// As EC2 answers it (lower case), though the SDK's State enum spells it `Available`.
const AVAILABLE = 'available' as VpcEndpoint['State'];
const sg = (rules: SecurityGroup['IpPermissions']): SecurityGroup => ({ GroupId: 'sg-vpce', VpcId: VPC, IpPermissions: rules });
const open443 = sg([{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/16' }] }]);
function iface(service: string, o: Partial<VpcEndpoint> = {}): VpcEndpoint {
  return { VpcEndpointId: `vpce-${service}`, VpcId: VPC, ServiceName: `com.amazonaws.${R}.${service}`, VpcEndpointType: 'Interface', State: AVAILABLE, PrivateDnsEnabled: true, Groups: [{ GroupId: 'sg-vpce' }], ...o };
}
const s3gw = (tables: string[]): VpcEndpoint => ({ VpcEndpointId: 'vpce-s3', VpcId: VPC, ServiceName: `com.amazonaws.${R}.s3`, VpcEndpointType: 'Gateway', State: AVAILABLE, RouteTableIds: tables });
const allEndpoints = (): VpcEndpoint[] => [iface('ec2'), iface('ecr.api'), iface('ecr.dkr'), s3gw(['rtb-main', 'rtb-iso'])];

function inv(network: Partial<VpcNetwork> | undefined, o: { privateAccess?: boolean; problems?: ClusterInventory['problems'] } = {}): ClusterInventory {
  const c = clusterInventory({
    name: 'prod',
    subnets: [
      [subnet('subnet-a', '10.0.0.0/20', 'eu-west-1a', 3000), ['cluster', 'node']],
      [subnet('subnet-b', '10.0.16.0/20', 'eu-west-1b', 3000), ['cluster', 'node']],
    ],
    cni: managedCni(),
  });
  c.cluster.resourcesVpcConfig = { ...c.cluster.resourcesVpcConfig, endpointPrivateAccess: o.privateAccess ?? true };
  if (network) {
    c.network = {
      vpcId: VPC,
      vpc: { VpcId: VPC, DhcpOptionsId: 'dopt-1' },
      enableDnsSupport: true,
      enableDnsHostnames: true,
      dhcpOptions: { DhcpOptionsId: 'dopt-1', DhcpConfigurations: [{ Key: 'domain-name-servers', Values: [{ Value: 'AmazonProvidedDNS' }] }] },
      routeTables: [mainTable(), isolated],
      endpoints: allEndpoints(),
      securityGroups: [open443],
      ...network,
    };
  }
  c.problems.push(...(o.problems ?? []));
  return c;
}
const checks = (i: ClusterInventory) => networkChecks(measureCluster(i, {}), i, R);
const subnetB = (i: ClusterInventory) => checks(i).subnets.find((s) => s.subnetId === 'subnet-b');

describe('route tables', () => {
  it('takes the explicit association, else the main table', () => {
    expect(routeTableOf('subnet-b', [mainTable(), isolated])).toMatchObject({ table: { RouteTableId: 'rtb-iso' }, main: false });
    expect(routeTableOf('subnet-a', [mainTable(), isolated])).toMatchObject({ table: { RouteTableId: 'rtb-main' }, main: true });
  });
});

describe('node egress', () => {
  it('is ok with a default route to a NAT gateway (through the main table)', () => {
    const a = checks(inv({})).subnets.find((s) => s.subnetId === 'subnet-a');
    expect(a).toMatchObject({ verdict: 'ok', defaultRoute: 'nat-1', routeTableId: 'rtb-main', mainRouteTable: true });
  });

  it('is ok without a default route when every endpoint nodes need is there and reachable', () => {
    expect(subnetB(inv({}))).toMatchObject({ verdict: 'ok', routeTableId: 'rtb-iso' });
  });

  it('names the missing ecr.dkr endpoint and the route table without a default route', () => {
    const b = subnetB(inv({ endpoints: allEndpoints().filter((e) => e.ServiceName !== `com.amazonaws.${R}.ecr.dkr`) }));
    expect(b?.verdict).toBe('missing');
    expect(b?.missing).toEqual([
      'subnet-b route table rtb-iso has no default route (0.0.0.0/0) to a NAT or internet gateway and the VPC has no com.amazonaws.eu-west-1.ecr.dkr endpoint',
    ]);
  });

  it('does not take a blackhole default route for egress', () => {
    const blackhole = mainTable([local, { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-gone', State: 'blackhole' as never }]);
    const a = checks(inv({ routeTables: [blackhole, isolated], endpoints: [] })).subnets.find((s) => s.subnetId === 'subnet-a');
    expect(a?.verdict).toBe('missing');
  });

  it('finds an endpoint unreachable when its group admits no 443 from the nodes, or private DNS is off', () => {
    const closed = subnetB(inv({ securityGroups: [sg([{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/16' }] }])] }));
    expect(closed?.verdict).toBe('missing');
    expect(closed?.missing.join('\n')).toContain('admit no TCP 443');
    const noDns = subnetB(inv({ endpoints: [iface('ec2', { PrivateDnsEnabled: false }), iface('ecr.api'), iface('ecr.dkr'), s3gw(['rtb-main', 'rtb-iso'])] }));
    expect(noDns?.missing.join('\n')).toContain('vpce-ec2 has private DNS off');
    // A rule from the nodes' security group (the cluster security group) admits them too.
    const byGroup = inv({ securityGroups: [sg([{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-cluster' }] }])] });
    byGroup.cluster.resourcesVpcConfig = { ...byGroup.cluster.resourcesVpcConfig, clusterSecurityGroupId: 'sg-cluster' };
    expect(subnetB(byGroup)?.verdict).toBe('ok');
  });

  it('needs the S3 gateway endpoint on the subnet\'s route table', () => {
    const b = subnetB(inv({ endpoints: [iface('ec2'), iface('ecr.api'), iface('ecr.dkr'), s3gw(['rtb-main'])] }));
    expect(b?.missing.join('\n')).toContain('gateway endpoint vpce-s3 is not on route table rtb-iso');
  });

  it('needs sts when the vpc-cni add-on uses IAM roles for service accounts', () => {
    const i = inv({});
    if (i.cni.kind === 'managed') i.cni.addon.serviceAccountRoleArn = 'arn:aws:iam::111122223333:role/vpc-cni';
    expect(subnetB(i)?.missing.join('\n')).toContain('com.amazonaws.eu-west-1.sts');
  });

  it('says unknown, never missing, when the route tables or endpoints were not read', () => {
    const unread = (ids: string[]) => [{ source: 'ec2:DescribeRouteTables', message: 'denied', unread: { part: 'vpc-network' as const, ids } }];
    const i = inv({}, { problems: unread(['routeTables']) });
    delete i.network?.routeTables;
    expect(checks(i).subnets.map((s) => s.verdict)).toEqual(['unknown', 'unknown']);
    const j = inv({}, { problems: unread(['endpoints']) });
    delete j.network?.endpoints;
    expect(subnetB(j)).toMatchObject({ verdict: 'unknown', missing: [] });
    expect(diagnoseCluster(measureCluster(j, {}), j, DEFAULT_THRESHOLDS).filter((f) => f.kind === 'node-egress')).toEqual([]);
  });

  it('without private access, a subnet with no way out cannot reach the API server', () => {
    expect(subnetB(inv({}, { privateAccess: false }))?.missing.join('\n')).toContain('endpoint private access off');
  });
});

describe('VPC DNS', () => {
  it('is ok with support, hostnames and AmazonProvidedDNS', () => {
    expect(checks(inv({})).dns?.verdict).toBe('ok');
  });

  it('is missing with hostnames off, and the finding is critical with the command that turns them on', () => {
    const i = inv({ enableDnsHostnames: false });
    expect(checks(i).dns).toMatchObject({ verdict: 'missing', missing: [`${VPC} has enableDnsHostnames off`] });
    const [f] = diagnoseCluster(measureCluster(i, {}), i, DEFAULT_THRESHOLDS).filter((x) => x.kind === 'vpc-dns');
    expect(f).toMatchObject({ severity: 'critical', subject: { type: 'cluster', id: 'prod' } });
    expect(f?.fixes).toEqual([`aws ec2 modify-vpc-attribute --vpc-id ${VPC} --enable-dns-hostnames '{"Value":true}'`]);
  });

  it('wants AmazonProvidedDNS in the DHCP options when the private endpoint is on, not otherwise', () => {
    const custom = { dhcpOptions: { DhcpOptionsId: 'dopt-1', DhcpConfigurations: [{ Key: 'domain-name-servers', Values: [{ Value: '10.0.0.2' }] }] } };
    expect(checks(inv(custom)).dns?.missing).toEqual([`DHCP options dopt-1 of ${VPC} name 10.0.0.2 and not AmazonProvidedDNS`]);
    expect(checks(inv(custom, { privateAccess: false })).dns?.verdict).toBe('ok');
  });

  it('is unknown when an attribute was not read, and raises no finding', () => {
    const i = inv({}, { problems: [{ source: 'ec2:DescribeVpcAttribute', message: 'denied', unread: { part: 'vpc-network', ids: ['enableDnsHostnames'] } }] });
    delete i.network?.enableDnsHostnames;
    expect(checks(i).dns?.verdict).toBe('unknown');
    expect(diagnoseCluster(measureCluster(i, {}), i, DEFAULT_THRESHOLDS).filter((f) => f.kind === 'vpc-dns')).toEqual([]);
  });

  it('is not collected when the inventory has no network', () => {
    expect(checks(inv(undefined))).toMatchObject({ subnets: [], notCollected: expect.stringContaining('not read') });
  });
});
