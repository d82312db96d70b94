/**
 * The EC2 write of the `cni-subnets` action (the read before it is the subnet provider's,
 * lib/aws/subnets.ts): tag the allow-listed spare subnets `kubernetes.io/role/cni` so that the
 * VPC CNI's subnet discovery (1.18+) creates new pod ENIs in them (EKS user guide, "Configure
 * subnet selection for Pod IP addresses",
 * https://docs.aws.amazon.com/eks/latest/userguide/cni-subnet-selection.html).
 *
 * `tagSubnetsForCni` is the only write here. Every failure is rethrown as an `AwsCallError` that
 * names the operation and the subnets.
 */
import { CreateTagsCommand, DeleteTagsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { withAwsCall } from '../errors';
import { chunk } from './chunk';

/**
 * CreateTags takes at most 1,000 resource ids per request (EC2 API reference, CreateTags,
 * ResourceId.N: "Up to 1000 resource IDs").
 */
export const CREATE_TAGS_RESOURCES_MAX = 1000;

/**
 * EC2 CreateTags: sets `tag` on the subnets (an existing value of the key is overwritten, other
 * tags are kept: EC2 API reference, CreateTags). Tags apply at once; there is nothing to wait for.
 */
export async function tagSubnetsForCni(
  ec2: EC2Client,
  subnetIds: string[],
  tag: { key: string; value: string },
): Promise<void> {
  const ids = [...new Set(subnetIds)];
  if (ids.length === 0) return;
  await withAwsCall('ec2:CreateTags', `${tag.key}=${tag.value} on ${ids.join(', ')}`, async () => {
    for (const batch of chunk(ids, CREATE_TAGS_RESOURCES_MAX)) {
      await ec2.send(new CreateTagsCommand({ Resources: batch, Tags: [{ Key: tag.key, Value: tag.value }] }));
    }
  });
}

/**
 * EC2 DeleteTags: removes the tag `key` from the subnets, whatever its value (a tag given without
 * a value is deleted "regardless of its value": EC2 API reference, DeleteTags, Tag.N). At most
 * 1,000 resources per request, as CreateTags. Deleting a tag that is not there is not an error.
 */
export async function untagSubnets(ec2: EC2Client, subnetIds: string[], key: string): Promise<void> {
  const ids = [...new Set(subnetIds)];
  if (ids.length === 0) return;
  await withAwsCall('ec2:DeleteTags', `${key} from ${ids.join(', ')}`, async () => {
    for (const batch of chunk(ids, CREATE_TAGS_RESOURCES_MAX)) {
      await ec2.send(new DeleteTagsCommand({ Resources: batch, Tags: [{ Key: key }] }));
    }
  });
}
