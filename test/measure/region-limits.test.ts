/**
 * The NAU counting rules (Amazon VPC user guide, "How NAU is calculated") and the region-level
 * measure: what an ENI counts, the larger of count and metric, and what is unknown stays unknown.
 */
import type { NetworkInterface } from '@aws-sdk/client-ec2';
import { regionEniOf } from '../../lib/inventory/region-limits';
import type { Inventory, RegionEni } from '../../lib/inventory/types';
import { measureRegionLimits, nauOfEni, nauTotal } from '../../lib/measure/region-limits';

const base = (over: Partial<RegionEni>): RegionEni => ({
  NetworkInterfaceId: 'eni-1',
  VpcId: 'vpc-1',
  InterfaceType: 'interface',
  privateIpv4: 0,
  publicIpv4: 0,
  ipv6: 0,
  ipv4Prefixes: 0,
  ipv6Prefixes: 0,
  ...over,
});

describe('nauOfEni', () => {
  it.each([
    ['a node primary ENI: its private address', base({ privateIpv4: 1, instanceDeviceIndex: 0 }), 1],
    ['each private and public IPv4 and each IPv6 address is 1', base({ privateIpv4: 10, publicIpv4: 1, ipv6: 3, instanceDeviceIndex: 0 }), 14],
    ['an additional ENI of an instance adds 1', base({ privateIpv4: 10, instanceDeviceIndex: 1 }), 11],
    ['an ENI on a second network card adds 1', base({ privateIpv4: 2, instanceDeviceIndex: 0, instanceNetworkCardIndex: 1 }), 3],
    ['a /28 prefix is 1 unit, not 16', base({ privateIpv4: 1, ipv4Prefixes: 4, instanceDeviceIndex: 1 }), 6],
    ['IPv6 prefixes count 1 each', base({ privateIpv4: 1, ipv6Prefixes: 2 }), 3],
    ['a Network Load Balancer ENI is 6', base({ InterfaceType: 'network_load_balancer', privateIpv4: 1 }), 6],
    ['a VPC endpoint ENI is 6', base({ InterfaceType: 'vpc_endpoint', privateIpv4: 1 }), 6],
    ['a NAT gateway ENI is 6 (as EC2 spells it)', base({ InterfaceType: 'nat_gateway', privateIpv4: 1, publicIpv4: 1 }), 6],
    ['a NAT gateway ENI is 6 (as the SDK enum spells it)', base({ InterfaceType: 'natGateway', privateIpv4: 1 }), 6],
    ['a Lambda ENI is 6', base({ InterfaceType: 'lambda', privateIpv4: 1 }), 6],
    ['a transit gateway attachment ENI is 6', base({ InterfaceType: 'transit_gateway', privateIpv4: 1 }), 6],
    ['an unattached (available) ENI counts its addresses, no additional-ENI unit', base({ privateIpv4: 5 }), 5],
  ])('%s', (_name, eni, units) => {
    expect(nauTotal(nauOfEni(eni))).toBe(units);
  });
});

describe('regionEniOf', () => {
  it('reduces a NetworkInterface to its counts', () => {
    const ni: NetworkInterface = {
      NetworkInterfaceId: 'eni-0a',
      VpcId: 'vpc-1',
      InterfaceType: 'interface',
      Attachment: { InstanceId: 'i-1', DeviceIndex: 1, NetworkCardIndex: 0 },
      PrivateIpAddress: '10.0.0.4',
      PrivateIpAddresses: [
        { PrivateIpAddress: '10.0.0.4', Primary: true, Association: { PublicIp: '52.1.2.3' } },
        { PrivateIpAddress: '10.0.0.5' },
        { PrivateIpAddress: '10.0.0.6' },
      ],
      Ipv6Addresses: [{ Ipv6Address: '2001:db8::1' }],
      Ipv4Prefixes: [{ Ipv4Prefix: '10.0.1.0/28' }, { Ipv4Prefix: '10.0.1.16/28' }],
    };
    expect(regionEniOf(ni)).toEqual({
      NetworkInterfaceId: 'eni-0a',
      VpcId: 'vpc-1',
      InterfaceType: 'interface',
      instanceDeviceIndex: 1,
      instanceNetworkCardIndex: 0,
      privateIpv4: 3,
      publicIpv4: 1,
      ipv6: 1,
      ipv4Prefixes: 2,
      ipv6Prefixes: 0,
    });
  });

  it('an ENI attached to no instance (an ELB, a trunk branch) has no instance device index', () => {
    expect(regionEniOf({ NetworkInterfaceId: 'eni-b', Attachment: { DeviceIndex: 1 }, PrivateIpAddress: '10.0.0.9' })).toMatchObject({
      privateIpv4: 1,
      NetworkInterfaceId: 'eni-b',
    });
    expect(regionEniOf({ NetworkInterfaceId: 'eni-b', Attachment: { DeviceIndex: 1 } }).instanceDeviceIndex).toBeUndefined();
  });
});

function inventory(over: Partial<NonNullable<Inventory['regionLimits']>>): Inventory {
  return {
    region: 'eu-west-1',
    collectedAt: '2026-11-26T12:00:00Z',
    clusters: [
      { name: 'a', cluster: { name: 'a', resourcesVpcConfig: { vpcId: 'vpc-1' } } },
      { name: 'b', cluster: { name: 'b', resourcesVpcConfig: { vpcId: 'vpc-1' } } },
    ] as unknown as Inventory['clusters'],
    failedClusters: [],
    instanceTypes: {},
    unknownInstanceTypes: [],
    regionLimits: {
      eniQuota: { serviceCode: 'vpc', quotaCode: 'L-DF5E4CA3', value: 5000, source: 'applied' },
      vpcIds: ['vpc-1'],
      nauMetrics: {},
      problems: [],
      ...over,
    },
  };
}

describe('measureRegionLimits', () => {
  const enis = [base({ privateIpv4: 30, instanceDeviceIndex: 0 }), base({ VpcId: 'vpc-2', privateIpv4: 99 }), base({ InterfaceType: 'vpc_endpoint', privateIpv4: 1 })];

  it('counts the region and each cluster VPC, the clusters of a VPC named once', () => {
    const u = measureRegionLimits(inventory({ networkInterfaces: enis, eniScope: 'region' }));
    expect(u?.eniCount).toBe(3);
    expect(u?.vpcs).toEqual([
      expect.objectContaining({ vpcId: 'vpc-1', clusters: ['a', 'b'], counted: 36, used: 36, usedFrom: 'count', enis: 2, quota: 64000, peeredQuota: 128000 }),
    ]);
  });

  it('judges the larger of the count and the metric', () => {
    const lower = measureRegionLimits(inventory({ networkInterfaces: enis, eniScope: 'region', nauMetrics: { 'vpc-1': { vpcId: 'vpc-1', networkAddressUsage: 20 } } }));
    expect(lower?.vpcs[0]).toMatchObject({ used: 36, usedFrom: 'count', metric: 20 });
    const higher = measureRegionLimits(inventory({ networkInterfaces: enis, eniScope: 'region', nauMetrics: { 'vpc-1': { vpcId: 'vpc-1', networkAddressUsage: 900 } } }));
    expect(higher?.vpcs[0]).toMatchObject({ used: 900, usedFrom: 'metric', counted: 36 });
  });

  it('ENIs of the clusters’ VPCs only (a snapshot without the region file): NAU counted, the region count unknown', () => {
    const u = measureRegionLimits(inventory({ networkInterfaces: [enis[0] as RegionEni], eniScope: 'vpcs' }));
    expect(u?.eniCount).toBeUndefined();
    expect(u?.vpcs[0]?.counted).toBe(30);
  });

  it('ENIs not read: neither the region count nor the NAU count is 0, both unknown', () => {
    const u = measureRegionLimits(inventory({}));
    expect(u?.eniCount).toBeUndefined();
    expect(u?.vpcs[0]?.counted).toBeUndefined();
    expect(u?.vpcs[0]?.used).toBeUndefined();
  });
});
