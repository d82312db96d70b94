/**
 * Loads a snapshot directory (the AWS CLI's JSON) as a SyntheticAccount, so that the AWS
 * emulator can answer with it: the demo snapshot becomes a live account for end-to-end tests.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { SyntheticAccount } from '../../tools/synthetic-account';

const read = (file: string): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

export function accountFromSnapshot(dir: string): SyntheticAccount {
  const meta = read(path.join(dir, 'meta.json')) as { region: string; capturedAt: string };
  const names = (read(path.join(dir, 'eks', 'list-clusters.json')).clusters as string[]) ?? [];
  const account: SyntheticAccount = {
    region: meta.region,
    accountId: '111122223333',
    capturedAt: meta.capturedAt,
    clusters: [],
    nodegroups: {},
    addons: {},
    subnets: read(path.join(dir, 'ec2', 'describe-subnets.json')).Subnets as SyntheticAccount['subnets'],
    networkInterfaces: read(path.join(dir, 'ec2', 'describe-network-interfaces.json')).NetworkInterfaces as SyntheticAccount['networkInterfaces'],
    instances: (read(path.join(dir, 'ec2', 'describe-instances.json')).Reservations as { Instances: SyntheticAccount['instances'] }[]).flatMap(
      (r) => r.Instances,
    ),
    instanceTypes: read(path.join(dir, 'ec2', 'describe-instance-types.json')).InstanceTypes as SyntheticAccount['instanceTypes'],
    // Optional in a snapshot (lib/inventory/snapshot-schemas.ts): none when absent.
    subnetCidrReservations: existsSync(path.join(dir, 'ec2', 'get-subnet-cidr-reservations.json'))
      ? (read(path.join(dir, 'ec2', 'get-subnet-cidr-reservations.json')).SubnetIpv4CidrReservations as SyntheticAccount['subnetCidrReservations'])
      : [],
  };
  for (const name of names) {
    const base = path.join(dir, 'eks', 'clusters', name);
    account.clusters.push(read(path.join(base, 'describe-cluster.json')).cluster as SyntheticAccount['clusters'][number]);
    const ngDir = path.join(base, 'nodegroups');
    account.nodegroups[name] = existsSync(ngDir)
      ? readdirSync(ngDir)
          .filter((f) => f.endsWith('.json'))
          .sort()
          .map((f) => read(path.join(ngDir, f)).nodegroup as SyntheticAccount['nodegroups'][string][number])
      : [];
    const addonFile = path.join(base, 'addon-vpc-cni.json');
    account.addons[name] = existsSync(addonFile) ? (read(addonFile).addon as SyntheticAccount['addons'][string]) : undefined;
  }
  return account;
}

export const DEMO_SNAPSHOT = path.join(__dirname, '..', '..', 'events', 'demo-snapshot');
