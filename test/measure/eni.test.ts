import type { NetworkInterface } from '@aws-sdk/client-ec2';
import { classifyEni, eniAddressCount, nodeEniRole, otherLabel, type EniKind, type NodeEniRole } from '../../lib/measure/eni';
import {
  branchEni,
  cniEni,
  controlPlaneEni,
  eni,
  loadBalancerEni,
  natGatewayEni,
  nodePrimaryEni,
} from './builders';

const S = 'subnet-0e59dfd0c9e3779b1';
const AZ = 'eu-west-1a';
const NODE = 'i-06c882c4d5c5581d4';
const STRANGER = 'i-0ffffeeee11112222';
const isNode = (id: string): boolean => id === NODE;

describe('classifyEni', () => {
  const cases: [string, NetworkInterface, EniKind][] = [
    ["a node's primary ENI (no description, attached to a node)", nodePrimaryEni(NODE, S, AZ, ['10.0.1.10', '10.0.1.11']), { kind: 'node', instanceId: NODE, cni: false }],
    ['a CNI ENI attached to a node', cniEni(NODE, S, AZ, ['10.0.1.20']), { kind: 'node', instanceId: NODE, cni: true }],
    [
      'a CNI ENI of another cluster\'s node is still the CNI\'s',
      cniEni(STRANGER, S, AZ, ['10.0.1.21']),
      { kind: 'node', instanceId: STRANGER, cni: true },
    ],
    [
      'a detached CNI ENI (leaked) names its instance by the node tag',
      cniEni(NODE, S, AZ, ['10.0.1.22'], { attached: false }),
      { kind: 'node', instanceId: NODE, cni: true },
    ],
    [
      'a CNI ENI without attachment or tag falls back to its description',
      { ...cniEni(NODE, S, AZ, ['10.0.1.23'], { attached: false }), TagSet: [] },
      { kind: 'node', instanceId: NODE, cni: true },
    ],
    ['a branch ENI of security groups for pods', branchEni(S, AZ, '10.0.1.30'), { kind: 'pod' }],
    ['an EKS control-plane ENI', controlPlaneEni('payments-prod', S, AZ, '10.0.1.4'), { kind: 'control-plane', cluster: 'payments-prod' }],
    [
      "another cluster's control-plane ENI keeps that cluster's name",
      controlPlaneEni('batch-dev', S, AZ, '10.0.1.5'),
      { kind: 'control-plane', cluster: 'batch-dev' },
    ],
    ['a NAT gateway', natGatewayEni(S, AZ, '10.0.1.6'), { kind: 'other', label: 'NAT gateway' }],
    ['a load balancer', loadBalancerEni(S, AZ, '10.0.1.7'), { kind: 'other', label: 'load balancer' }],
    [
      'the primary ENI of an instance that is not a node',
      nodePrimaryEni(STRANGER, S, AZ, ['10.0.1.8']),
      { kind: 'other', label: 'EC2 instance (not a node of this cluster)' },
    ],
  ];
  it.each(cases)('%s', (_, e, expected) => {
    expect(classifyEni(e, isNode)).toEqual(expected);
  });

  it('tells the lower-case branch prefix from the CNI\'s upper-case one', () => {
    // `aws-k8s-branch-eni` must not be read as a CNI ENI of an instance called "branch-eni".
    expect(classifyEni(branchEni(S, AZ, '10.0.1.31'), () => true)).toEqual({ kind: 'pod' });
  });
});

describe('otherLabel', () => {
  const base = { SubnetId: S, PrivateIpAddress: '10.0.1.50' };
  const cases: [string, NetworkInterface, string][] = [
    ['nat_gateway as EC2 answers it', { ...base, InterfaceType: 'nat_gateway' as NetworkInterface['InterfaceType'] }, 'NAT gateway'],
    ['natGateway as the SDK enum spells it', { ...base, InterfaceType: 'natGateway' }, 'NAT gateway'],
    ['NAT gateway by description only', { ...base, Description: 'Interface for NAT Gateway nat-0123' }, 'NAT gateway'],
    ['application load balancer', { ...base, Description: 'ELB app/web/403c69f4ebeb70df', InterfaceType: 'interface' }, 'load balancer'],
    [
      'network load balancer (InterfaceType network_load_balancer)',
      { ...base, Description: 'ELB net/api/0a1b2c3d4e5f6a7b', InterfaceType: 'network_load_balancer' },
      'load balancer',
    ],
    ['classic load balancer', { ...base, Description: 'ELB legacy-web' }, 'load balancer'],
    ['VPC endpoint', { ...base, Description: 'VPC Endpoint Interface vpce-050bf94e64540215f', InterfaceType: 'vpc_endpoint' }, 'VPC endpoint'],
    ['Lambda', { ...base, Description: 'AWS Lambda VPC ENI-fn-766d9c74', InterfaceType: 'lambda' }, 'Lambda'],
    ['another AWS type, underscores as spaces', { ...base, InterfaceType: 'transit_gateway' }, 'transit gateway'],
    ['an instance that is not a node', { ...base, Attachment: { InstanceId: 'i-0123', DeviceIndex: 0 } }, 'EC2 instance (not a node of this cluster)'],
    ['requester-managed, named by requester', { ...base, RequesterManaged: true, RequesterId: 'amazon-rds' }, 'AWS-managed (amazon-rds)'],
    ['requester-managed, requester unknown', { ...base, RequesterManaged: true }, 'AWS-managed (unknown requester)'],
    ['an unattached ENI', { ...base, Status: 'available' }, 'unattached ENI'],
    ['anything else', { ...base, Status: 'in-use' }, 'other ENI'],
  ];
  it.each(cases)('%s', (_, e, expected) => {
    expect(otherLabel(e)).toBe(expected);
  });
});

describe('eniAddressCount', () => {
  const cases: [string, NetworkInterface, { primary: number; secondary: number; prefixes: number }][] = [
    ['primary only', eni({ subnetId: S, az: AZ, ips: ['10.0.1.4'] }), { primary: 1, secondary: 0, prefixes: 0 }],
    ['primary and 9 secondaries', nodePrimaryEni(NODE, S, AZ, Array.from({ length: 10 }, (_, i) => `10.0.1.${10 + i}`)), { primary: 1, secondary: 9, prefixes: 0 }],
    ['primary and two /28 prefixes', nodePrimaryEni(NODE, S, AZ, ['10.0.1.7'], ['10.0.1.224/28', '10.0.1.208/28']), { primary: 1, secondary: 0, prefixes: 2 }],
    ['no address list but a primary address', { PrivateIpAddress: '10.0.1.9' }, { primary: 1, secondary: 0, prefixes: 0 }],
    ['nothing at all', {}, { primary: 0, secondary: 0, prefixes: 0 }],
  ];
  it.each(cases)('%s', (_, e, expected) => {
    expect(eniAddressCount(e)).toEqual(expected);
  });
});

describe('nodeEniRole: what ipamd does with a node ENI (pkg/awsutils DescribeAllENIs, pkg/ipamd setUnmanagedENIs)', () => {
  const noManage = (value: string) => [{ Key: 'node.k8s.amazonaws.com/no_manage', Value: value }];
  const cases: [string, NetworkInterface, NodeEniRole][] = [
    ['the primary ENI', nodePrimaryEni(NODE, S, AZ, ['10.0.1.10']), 'ipamd'],
    ['an ENI the CNI attached', cniEni(NODE, S, AZ, ['10.0.1.20']), 'ipamd'],
    ['InterfaceType trunk', eni({ subnetId: S, az: AZ, interfaceType: 'trunk', instanceId: NODE, deviceIndex: 2, ips: ['10.0.1.30'] }), 'trunk'],
    [
      'described aws-k8s-trunk-eni (the VPC resource controller)',
      eni({ subnetId: S, az: AZ, description: 'aws-k8s-trunk-eni', instanceId: NODE, deviceIndex: 2, ips: ['10.0.1.31'] }),
      'trunk',
    ],
    ['InterfaceType efa-only', eni({ subnetId: S, az: AZ, interfaceType: 'efa-only', instanceId: NODE, deviceIndex: 1, ips: [] }), 'efa-only'],
    ['InterfaceType efa (EFA with an IP) stays ipamd\'s', eni({ subnetId: S, az: AZ, interfaceType: 'efa', instanceId: NODE, deviceIndex: 1, ips: ['10.0.1.32'] }), 'ipamd'],
    ['tagged no_manage=true', eni({ subnetId: S, az: AZ, instanceId: NODE, deviceIndex: 1, ips: ['10.0.1.33'], tags: noManage('true') }), 'unmanaged'],
    ['tagged no_manage=false', eni({ subnetId: S, az: AZ, instanceId: NODE, deviceIndex: 1, ips: ['10.0.1.34'], tags: noManage('false') }), 'ipamd'],
    // setUnmanagedENIs compares with the exact string "true".
    ['tagged no_manage=True', eni({ subnetId: S, az: AZ, instanceId: NODE, deviceIndex: 1, ips: ['10.0.1.35'], tags: noManage('True') }), 'ipamd'],
    [
      'the primary ENI tagged no_manage=true: "always managed"',
      eni({ subnetId: S, az: AZ, instanceId: NODE, deviceIndex: 0, ips: ['10.0.1.36'], tags: noManage('true') }),
      'ipamd',
    ],
  ];
  it.each(cases)('%s: %s', (_, e, role) => {
    expect(nodeEniRole(e)).toBe(role);
  });
});
