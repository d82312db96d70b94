/**
 * The EC2 reads and write of the `leaked-enis` action (lib/act/execute-enis.ts): the ENIs read
 * again by id right before their delete, and DeleteNetworkInterface; and a subnet's ENIs, read
 * again by the `subnet-reservations` executor before it reserves. Every failure is rethrown as an
 * `AwsCallError` naming the operation and the ENIs or subnet.
 */
import { DeleteNetworkInterfaceCommand, paginateDescribeNetworkInterfaces, type EC2Client, type NetworkInterface } from '@aws-sdk/client-ec2';
import { awsErrorCode, withAwsCall } from '../errors';
import { chunk } from './chunk';
import { EC2_FILTER_VALUES_MAX, EC2_PAGE_SIZE_MAX } from './limits';

/**
 * The ENIs with these ids that exist, by the `network-interface-id` filter: the
 * NetworkInterfaceIds parameter fails the whole call (InvalidNetworkInterfaceID.NotFound) for an
 * ENI that is gone, where the filter leaves it out of the answer.
 */
export async function describeNetworkInterfacesById(ec2: EC2Client, ids: string[]): Promise<NetworkInterface[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  return withAwsCall('ec2:DescribeNetworkInterfaces', `for ${unique.join(', ')}`, async () => {
    const out: NetworkInterface[] = [];
    for (const batch of chunk(unique, EC2_FILTER_VALUES_MAX)) {
      const pages = paginateDescribeNetworkInterfaces({ client: ec2, pageSize: EC2_PAGE_SIZE_MAX }, { Filters: [{ Name: 'network-interface-id', Values: batch }] });
      for await (const page of pages) out.push(...(page.NetworkInterfaces ?? []));
    }
    return out;
  });
}

/** Every ENI of one subnet (the `subnet-id` filter), every page. */
export async function describeNetworkInterfacesInSubnet(ec2: EC2Client, subnetId: string): Promise<NetworkInterface[]> {
  return withAwsCall('ec2:DescribeNetworkInterfaces', `subnet ${subnetId}`, async () => {
    const out: NetworkInterface[] = [];
    const pages = paginateDescribeNetworkInterfaces({ client: ec2, pageSize: EC2_PAGE_SIZE_MAX }, { Filters: [{ Name: 'subnet-id', Values: [subnetId] }] });
    for await (const page of pages) out.push(...(page.NetworkInterfaces ?? []));
    return out;
  });
}

/**
 * EC2 DeleteNetworkInterface. 'gone' when EC2 answers InvalidNetworkInterfaceID.NotFound: the ENI
 * is deleted already (as the VPC CNI's own deleteENI takes it: aws/amazon-vpc-cni-k8s@b52188387f2e
 * pkg/awsutils/awsutils.go `deleteENI`, "If already deleted, we are good"); 'in-use' when EC2
 * answers InvalidNetworkInterface.InUse (attached since it was read: "You must detach the network
 * interface before you can delete it", EC2 API reference, DeleteNetworkInterface).
 */
export async function deleteNetworkInterface(ec2: EC2Client, id: string): Promise<'deleted' | 'gone' | 'in-use'> {
  return withAwsCall('ec2:DeleteNetworkInterface', id, async () => {
    try {
      await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id }));
      return 'deleted' as const;
    } catch (err) {
      const code = awsErrorCode(err);
      if (code === 'InvalidNetworkInterfaceID.NotFound') return 'gone' as const;
      if (code === 'InvalidNetworkInterface.InUse') return 'in-use' as const;
      throw err;
    }
  });
}
