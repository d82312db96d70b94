/**
 * The account the wire tests run over (test/wire/wire.test.ts, test/stack/bundle-wire.test.ts):
 * 2 clusters of 300 nodes, ~1,200 ENIs each, so that the ENI reads take more than one page.
 */
import { generateAccount, type SyntheticAccount } from '../../tools/synthetic-account';

export const WIRE_ACCOUNT_OPTIONS = { clusters: 2, nodes: 600, subnetsPerCluster: 4, seed: 11, enisPerNode: 4, instanceTypes: ['m5.xlarge', 'c6g.2xlarge'] };

/** The account, with one subnet nearly full (a finding to notify). */
export function makeWireAccount(): SyntheticAccount {
  const account = generateAccount(WIRE_ACCOUNT_OPTIONS);
  const first = account.subnets.find((s) => s.SubnetId === account.clusters[0]?.resourcesVpcConfig?.subnetIds?.[0]);
  if (first) first.AvailableIpAddressCount = 3;
  return account;
}
