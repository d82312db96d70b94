import type { CniInstall } from '../../lib/inventory/types';
import { AZ_A, managedCni, ofKind, run, World } from './world';

const CLUSTER = 'batch';
const PD_ON = managedCni({ ENABLE_PREFIX_DELEGATION: 'true' });

/**
 * A /24 pod subnet (16 aligned /28 blocks): block 0 holds the reserved .0-.3 and the node's own
 * address .4, block 14 the node's /28 prefix (10.0.1.224/28), block 15 the reserved .255. Blocks
 * 1..13 are free but for one address of another ENI in each of the first `13 - free` of them.
 */
function fragmented(free: number, o: { cni?: CniInstall; nodeMode?: 'prefix' | 'secondary'; unaccounted?: number } = {}) {
  const w = new World().addSubnet('subnet-p', '10.0.1.0/24', AZ_A, { unaccounted: o.unaccounted });
  const prefix = (o.nodeMode ?? 'prefix') === 'prefix';
  w.node({ cluster: CLUSTER, nodegroup: 'spot', type: 'm5.large', subnetId: 'subnet-p', enis: prefix ? [1] : [2], prefixes: prefix ? [1] : [0] });
  for (let block = 1; block <= 13 - free; block++) w.other('subnet-p', 1, [`10.0.1.${16 * block + 5}`]);
  return run(w.inventory({ name: CLUSTER, subnets: [['subnet-p', ['node']]], cni: o.cni ?? PD_ON })).findings;
}

describe('prefix-fragmentation', () => {
  // Default: a warning below 4 free /28 blocks, critical at 0.
  it.each<[string, number, Parameters<typeof fragmented>[1], string | undefined]>([
    ['13 free blocks', 13, {}, undefined],
    ['4 free blocks: at the warning count', 4, {}, undefined],
    ['3 free blocks: warning', 3, {}, 'warning'],
    ['1 free block: warning', 1, {}, 'warning'],
    ['no free block: critical', 0, {}, 'critical'],
    ['no free block, prefix delegation off and no node in prefix mode', 0, { cni: managedCni(), nodeMode: 'secondary' }, undefined],
    ['no free block, prefix delegation turned off but a node keeps its prefixes', 0, { cni: managedCni() }, 'critical'],
    ['no free block, self-managed CNI (setting unknown), a node in prefix mode', 0, { cni: { kind: 'self-managed' } }, 'critical'],
  ])('%s', (_name, free, o, severity) => {
    expect(ofKind(fragmented(free, o), 'prefix-fragmentation').map((f) => f.severity)).toEqual(severity ? [severity] : []);
  });

  it('says the subnet has free addresses but no /28, and names InsufficientCidrBlocks', () => {
    const [f] = ofKind(fragmented(0), 'prefix-fragmentation');
    // 251 usable − 1 (node) − 16 (prefix) − 13 (others) = 221 free, none in a free block.
    expect(f).toMatchObject({
      id: 'batch/prefix-fragmentation/subnet-p',
      title: 'Subnet subnet-p: no free /28 block for prefixes (221 IPs free but scattered)',
      evidence: { freeBlocks: 0, totalBlocks: 16, freeAddressesOutsideBlocks: 221, free: 221, countIs: 'exact', prefixModeNodes: 1 },
    });
    expect(f?.evidenceText.join('\n')).toContain('InsufficientCidrBlocks');
    expect(f?.fixes[0]).toMatch(/^Contiguous space for prefixes: a new subnet in eu-west-1a/);
    expect(f?.fixes[1]).toContain('aws ec2 create-subnet-cidr-reservation --subnet-id subnet-p --reservation-type prefix');
    expect(f?.fixes[2]).toMatch(/^Secondary-IP mode for spot:/);
  });

  it('calls the count an upper bound when the subnet has unaccounted addresses', () => {
    // 251 usable − 1 (node) − 16 (prefix) − 11 (others) − 5 unaccounted = 218 free.
    const [f] = ofKind(fragmented(2, { unaccounted: 5 }), 'prefix-fragmentation');
    expect(f).toMatchObject({
      title: 'Subnet subnet-p: ≤2 free /28 blocks left for prefixes (218 IPs free)',
      evidence: { freeBlocks: 2, freeBlocksLowerBound: 0, unaccounted: 5, countIs: 'upper bound' },
    });
    expect(f?.evidenceText.join('\n')).toContain('Upper bound: 5 used IPs are on ENIs this account cannot see');
  });
});
