import type { SubnetCidrReservation } from '@aws-sdk/client-ec2';
import { measureCluster } from '../../lib/measure/measure';
import { freePrefixBlocks } from '../../lib/measure/prefix-blocks';
import { measureReservations } from '../../lib/measure/reservations';
import { prefixBlocksOf } from '../../lib/diagnose/prefix-fragmentation';
import { clusterInventory, cniEni, instance, instanceTypes, managedTags, nodePrimaryEni, subnet } from './builders';

const reservation = (id: string, cidr: string, type: 'prefix' | 'explicit', subnetId = 'subnet-a'): SubnetCidrReservation => ({
  SubnetCidrReservationId: id,
  SubnetId: subnetId,
  Cidr: cidr,
  ReservationType: type,
  OwnerId: '111122223333',
});

/**
 * A /24 (251 usable) with one node: primary ENI .10/.11, a CNI ENI .12 with the prefix .192/28.
 * An explicit /28 at .128 (unused) and a prefix /27 at .192 (half used, by the node's prefix).
 * EC2 leaves the 32 unused reserved addresses out of AvailableIpAddressCount: 251 − 19 − 32 = 200.
 */
const RESERVATIONS = [reservation('scr-1', '10.0.1.128/28', 'explicit'), reservation('scr-2', '10.0.1.192/27', 'prefix')];
const ID = 'i-0aaaaaaaaaaaaaaa1';
const ENIS = [
  nodePrimaryEni(ID, 'subnet-a', 'eu-west-1a', ['10.0.1.10', '10.0.1.11']),
  cniEni(ID, 'subnet-a', 'eu-west-1a', ['10.0.1.12'], { prefixes: ['10.0.1.192/28'] }),
];

function inventoryWith(reservations: SubnetCidrReservation[] | undefined) {
  const inv = clusterInventory({
    name: 'prod',
    subnets: [[subnet('subnet-a', '10.0.1.0/24', 'eu-west-1a', 200), ['cluster', 'node']]],
    networkInterfaces: ENIS,
    instances: [instance(ID, 'm5.large', 'subnet-a', 'eu-west-1a', managedTags('prod', 'general'))],
  });
  return reservations === undefined ? inv : { ...inv, subnetCidrReservations: reservations };
}

describe('measureReservations', () => {
  it('counts each type, and what of it no ENI holds', () => {
    expect(measureReservations('10.0.1.0/24', RESERVATIONS, ENIS)).toEqual({
      explicit: { count: 1, addresses: 16, unused: 16 },
      prefix: { count: 1, addresses: 32, unused: 16 },
      ranges: [
        { id: 'scr-1', cidr: '10.0.1.128/28', type: 'explicit' },
        { id: 'scr-2', cidr: '10.0.1.192/27', type: 'prefix' },
      ],
    });
  });

  it('is undefined for a subnet without reservations', () => {
    expect(measureReservations('10.0.1.0/24', [], ENIS)).toBeUndefined();
  });

  it('counts a secondary address inside an explicit reservation as used (assigned by hand)', () => {
    const byHand = [...ENIS, cniEni(ID, 'subnet-a', 'eu-west-1a', ['10.0.1.130'])];
    expect(measureReservations('10.0.1.0/24', RESERVATIONS, byHand)?.explicit).toEqual({ count: 1, addresses: 16, unused: 15 });
  });
});

describe('measureCluster: reserved addresses are a holder of their own', () => {
  it('attributes the unused reserved addresses to Reserved, not Unaccounted', () => {
    const [s] = measureCluster(inventoryWith(RESERVATIONS), instanceTypes('m5.large')).subnets;
    expect(s).toMatchObject({ used: 51, held: { NodePrimary: 2, CniSecondary: 1, CniPrefix: 16, Unaccounted: 0, Reserved: 32 } });
    expect(s?.reservations?.prefix).toEqual({ count: 1, addresses: 32, unused: 16 });
  });

  it('without the reservations read, the same addresses look Unaccounted (what the holder fixes)', () => {
    const [s] = measureCluster(inventoryWith(undefined), instanceTypes('m5.large')).subnets;
    expect(s).toMatchObject({ held: { Unaccounted: 32, Reserved: 0 } });
    expect(s?.reservations).toBeUndefined();
  });

  it('never gives Reserved more than the used count leaves (an ENI made between the reads)', () => {
    // EC2 says 10 more free than the reservations allow: only 22 of the 32 can be in the used count.
    const inv = inventoryWith(RESERVATIONS);
    inv.subnets[0]!.AvailableIpAddressCount = 210;
    const [s] = measureCluster(inv, instanceTypes('m5.large')).subnets;
    expect(s).toMatchObject({ used: 41, held: { Reserved: 22, Unaccounted: 0 } });
  });
});

describe('the /28 block map with reservations', () => {
  // The /24's 16 blocks: 0 (.0-.3 reserved, .10-.12 used), 8 explicit, 12 the node's prefix,
  // 13 free inside the prefix reservation, 15 (.255 reserved).
  it('takes an explicit reservation\'s blocks, and counts the free blocks of a prefix one apart', () => {
    const ranges = [
      { cidr: '10.0.1.128/28', type: 'explicit' as const },
      { cidr: '10.0.1.192/27', type: 'prefix' as const },
    ];
    expect(freePrefixBlocks('10.0.1.0/24', ['10.0.1.10', '10.0.1.11', '10.0.1.12'], ['10.0.1.192/28'], ranges)).toEqual({
      freeBlocks: 12,
      totalBlocks: 16,
      freeAddressesOutsideBlocks: 9 + 15,
      freeBlocksInPrefixReservations: 1,
    });
  });

  it('without reservations the explicit block is free and no count apart is given', () => {
    expect(freePrefixBlocks('10.0.1.0/24', ['10.0.1.10', '10.0.1.11', '10.0.1.12'], ['10.0.1.192/28'])).toEqual({
      freeBlocks: 13,
      totalBlocks: 16,
      freeAddressesOutsideBlocks: 9 + 15,
    });
  });

  it('is what the diagnosis counts for a measured subnet (prefixBlocksOf reads its reservations)', () => {
    const [s] = measureCluster(inventoryWith(RESERVATIONS), instanceTypes('m5.large')).subnets;
    expect(prefixBlocksOf(s!, ENIS)).toMatchObject({ freeBlocks: 12, freeBlocksInPrefixReservations: 1 });
  });
});
