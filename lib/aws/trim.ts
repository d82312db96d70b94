/**
 * Keeps only the fields the pipeline reads from ENIs and instances. A DescribeNetworkInterfaces
 * answer carries security groups, MAC and DNS names, IPv6 and association data for every ENI;
 * at 15,000 ENIs the unread fields are most of what the Lambda holds in memory (the benchmark's
 * "answers' objects"). The deployed functions trim; the CLI's capture keeps everything, so that
 * a snapshot is what the AWS CLI would print.
 */
import type { Instance, NetworkInterface, Tag } from '@aws-sdk/client-ec2';

/** Tag keys anything downstream reads (node and cluster membership, nodegroups, the CNI's ENI tags). */
const KEPT_TAG_PREFIXES = ['eks:', 'kubernetes.io/cluster/', 'karpenter.sh/', 'aws:autoscaling:', 'node.k8s.amazonaws.com/', 'cluster.k8s.amazonaws.com/'];

/** Whether a tag is one that anything downstream reads. */
export function isKeptTag(t: Tag): boolean {
  return KEPT_TAG_PREFIXES.some((p) => t.Key?.startsWith(p));
}

function keptTags(tags: Tag[] | undefined): Tag[] | undefined {
  if (!tags) return undefined;
  const kept = tags.filter(isKeptTag);
  return kept.length > 0 ? kept.map((t) => ({ Key: t.Key, Value: t.Value })) : undefined;
}

/**
 * Object literals of one shape each, undefined fields included: V8 keeps them compact (one hidden
 * class for every ENI); building them key by key, or deleting keys, costs more memory than the
 * fields it saves. JSON and the tests' toEqual treat an undefined field as absent.
 */
export function trimNetworkInterface(e: NetworkInterface): NetworkInterface {
  return {
    NetworkInterfaceId: e.NetworkInterfaceId,
    SubnetId: e.SubnetId,
    VpcId: e.VpcId,
    AvailabilityZone: e.AvailabilityZone,
    Description: e.Description,
    InterfaceType: e.InterfaceType,
    RequesterId: e.RequesterId,
    RequesterManaged: e.RequesterManaged,
    Status: e.Status,
    PrivateIpAddress: e.PrivateIpAddress,
    PrivateIpAddresses: e.PrivateIpAddresses?.map((a) => ({ PrivateIpAddress: a.PrivateIpAddress, Primary: a.Primary })),
    Ipv4Prefixes: e.Ipv4Prefixes?.map((p) => ({ Ipv4Prefix: p.Ipv4Prefix })),
    Attachment: e.Attachment
      ? {
          InstanceId: e.Attachment.InstanceId,
          DeviceIndex: e.Attachment.DeviceIndex,
          NetworkCardIndex: e.Attachment.NetworkCardIndex,
          Status: e.Attachment.Status,
        }
      : undefined,
    TagSet: keptTags(e.TagSet),
  };
}

export function trimInstance(i: Instance): Instance {
  return {
    InstanceId: i.InstanceId,
    InstanceType: i.InstanceType,
    SubnetId: i.SubnetId,
    VpcId: i.VpcId,
    State: i.State ? { Name: i.State.Name } : undefined,
    Placement: i.Placement ? { AvailabilityZone: i.Placement.AvailabilityZone } : undefined,
    PrivateIpAddress: i.PrivateIpAddress,
    Tags: keptTags(i.Tags),
    NetworkInterfaces: i.NetworkInterfaces?.map((n) => ({ NetworkInterfaceId: n.NetworkInterfaceId, SubnetId: n.SubnetId })),
    // The network preflight: whether an interface endpoint's security group admits the nodes'.
    ...(i.SecurityGroups ? { SecurityGroups: i.SecurityGroups.map((g) => ({ GroupId: g.GroupId })) } : {}),
  };
}
