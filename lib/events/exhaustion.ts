/**
 * Which failed EC2 calls and Auto Scaling launch failures mean IPv4 address exhaustion, and of
 * which kind. Pure: a table and the rules that read it. Sources are cited on the table entries.
 */

/** What ran out. Each kind has different fixes (see DESIGN.md, "Why clusters run out of IPs"). */
export type ExhaustionKind =
  | 'subnet-addresses'
  | 'prefix-space'
  | 'eni-ip-limit'
  | 'eni-attachment-limit'
  /** The account's ENIs-per-Region quota. */
  | 'eni-quota'
  /** The VPC's Network Address Usage quota, or its peered one. */
  | 'network-address-usage';

/**
 * The EC2 APIs through which a node or the VPC CNI takes IPv4 addresses. A failure of any other
 * API (AssignIpv6Addresses is IPv6; AttachVolume's AttachmentLimitExceeded is about EBS) is not
 * IPv4 exhaustion of a cluster.
 */
export const IPV4_ALLOCATION_APIS = [
  'AssignPrivateIpAddresses',
  'CreateNetworkInterface',
  'AttachNetworkInterface',
  'RunInstances',
] as const;

export type Ipv4AllocationApi = (typeof IPV4_ALLOCATION_APIS)[number];

export function isIpv4AllocationApi(eventName: string): eventName is Ipv4AllocationApi {
  return (IPV4_ALLOCATION_APIS as readonly string[]).includes(eventName);
}

interface ExhaustionCode {
  readonly kind: ExhaustionKind;
  /** Only these APIs mean this kind; on other APIs the code is about something else. */
  readonly apis?: readonly Ipv4AllocationApi[];
  /** Why, in the words of the source. */
  readonly meaning: string;
}

/**
 * EC2 error codes (without CloudTrail's `Client.` prefix) that mean one of the exhaustion kinds.
 * `InvalidParameterValue` is not here: only its "sufficient free Ipv4 addresses or prefixes"
 * message means exhaustion ({@link FREE_IPV4_MESSAGE_RE}).
 *
 * EC2 API error codes: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
 * (also at https://docs.aws.amazon.com/ec2/latest/devguide/errors-overview.html)
 */
export const EXHAUSTION_ERROR_CODES: Readonly<Record<string, ExhaustionCode>> = {
  InsufficientFreeAddressesInSubnet: {
    kind: 'subnet-addresses',
    meaning: 'the subnet does not contain enough free private IP addresses to fulfil the request',
  },
  // `InsufficientCidrBlocks` ("The specified subnet does not have enough free cidr blocks to
  // satisfy the request") is what prefix delegation meets when a subnet has no contiguous /28
  // left ("Using IP prefixes can fail if IP addresses are scattered throughout the subnet CIDR",
  // https://docs.aws.amazon.com/eks/latest/userguide/cni-increase-ip-addresses-procedure.html);
  // the VPC CNI treats it like a full subnet (aws/amazon-vpc-cni-k8s pkg/ipamd/ipamd.go,
  // `INSUFFICIENT_CIDR_BLOCKS`, aws/amazon-vpc-cni-k8s#1773).
  InsufficientCidrBlocks: {
    kind: 'prefix-space',
    meaning: 'the subnet has no free contiguous /28 block for an IPv4 prefix (often fragmentation)',
  },
  PrivateIpAddressLimitExceeded: {
    kind: 'eni-ip-limit',
    meaning: 'the network interface already has the most private IPs its instance type allows per ENI',
  },
  // RunInstances asked for more addresses on one interface than the instance type allows: the
  // same per-ENI limit, met at launch (a launch template asking too much).
  'InvalidInterface.IpAddressLimitExceeded': {
    kind: 'eni-ip-limit',
    meaning: 'the private IPs requested for a network interface exceed the instance type’s per-ENI limit',
  },
  // The same code is returned for EBS volumes ("the limit on the number of Amazon EBS volumes or
  // network interfaces that can be attached to a single instance"), so only AttachNetworkInterface
  // makes it the ENI limit; on RunInstances it could be either.
  AttachmentLimitExceeded: {
    kind: 'eni-attachment-limit',
    apis: ['AttachNetworkInterface'],
    meaning: 'the instance already has as many network interfaces attached as its instance type allows',
  },
  // "You've reached the limit on the number of network interfaces that you can create" (EC2 API
  // error codes, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html): the
  // account's "Network interfaces per Region" quota, vpc/L-DF5E4CA3, met by CreateNetworkInterface
  // (the VPC CNI's new ENIs) and by the secondary interfaces RunInstances creates.
  NetworkInterfaceLimitExceeded: {
    kind: 'eni-quota',
    apis: ['CreateNetworkInterface', 'RunInstances'],
    meaning: 'the account has as many network interfaces in the region as its quota allows (Service Quotas vpc/L-DF5E4CA3)',
  },
  // Past a VPC's NAU quota "the following API calls fail with a client-side exception:
  // RunInstances, AttachNetworkInterface, AssignPrivateIpAddresses, AssignIpv6Addresses,
  // AcceptVpcPeeringConnection ... NetworkAddressUsageLimitExceeded – The VPC exceeds its NAU quota.
  // NetworkAddressUsagePeeredLimitExceeded – The VPC exceeds its peered-VPC NAU quota" (Amazon VPC
  // user guide, "Network Address Usage for your VPC", Exceeding NAU Quotas,
  // https://docs.aws.amazon.com/vpc/latest/userguide/network-address-usage.html; the EC2 error-code
  // page does not list these two). Of those APIs, the IPv4 allocation ones.
  NetworkAddressUsageLimitExceeded: {
    kind: 'network-address-usage',
    apis: ['RunInstances', 'AttachNetworkInterface', 'AssignPrivateIpAddresses'],
    meaning: 'the VPC has as many Network Address Usage units as its quota allows (64,000 by default)',
  },
  NetworkAddressUsagePeeredLimitExceeded: {
    kind: 'network-address-usage',
    apis: ['RunInstances', 'AttachNetworkInterface', 'AssignPrivateIpAddresses'],
    meaning: 'the VPC and its peered VPCs have as many Network Address Usage units as their quota allows (128,000 by default)',
  },
};

/**
 * Codes that look like exhaustion but are not one we handle, with the reason given when an event
 * carries them. The responder's fixes (warm targets, subnets, prefixes, instance types) do not
 * raise an account quota, so these are logged and ignored rather than diagnosed.
 */
export const NOT_HANDLED_ERROR_CODES: Readonly<Record<string, string>> = {
  // Elastic IP / public address capacity, not private subnet addresses.
  InsufficientAddressCapacity: 'InsufficientAddressCapacity is about public (Elastic IP) addresses, not subnet IPv4 addresses',
};

/**
 * The `InvalidParameterValue` message that means a full subnet: "There aren't sufficient free Ipv4 addresses or prefixes".
 *
 * `InvalidParameterValue` "There aren't sufficient free Ipv4 addresses or prefixes": EC2 still
 * answers a full subnet this way, to secondary-IP and to prefix requests (cilium/cilium#31016,
 * from an AWS support case; cilium pkg/aws/ec2/ec2.go `SubnetFullErrMsgStr`).
 */
const FREE_IPV4_MESSAGE_RE = /sufficient free ipv4 addresses or prefixes/i;

/**
 * The error code without the `Client.` (or `Server.`) prefix CloudTrail puts on EC2 error codes
 * (`Client.InsufficientFreeAddressesInSubnet`); the EC2 API itself answers without it.
 */
export function normalizeEc2ErrorCode(errorCode: string): string {
  return errorCode.replace(/^(?:Client|Server)\./, '');
}

/** What a failed EC2 call means to the responder. */
export type Ec2ErrorClassification =
  | { readonly exhaustion: true; readonly kind: ExhaustionKind; readonly errorCode: string }
  | { readonly exhaustion: false; readonly errorCode: string; readonly reason: string };

/**
 * Classifies a failed EC2 call. `requestedPrefixes` says whether the request asked for /28
 * prefixes (ipv4PrefixCount or explicit prefixes): it decides what a full subnet means for the
 * ambiguous `InvalidParameterValue` message.
 */
export function classifyEc2Error(call: {
  eventName: string;
  errorCode: string;
  errorMessage: string;
  requestedPrefixes: boolean;
}): Ec2ErrorClassification {
  const errorCode = normalizeEc2ErrorCode(call.errorCode);
  const api = `ec2:${call.eventName}`;
  if (!isIpv4AllocationApi(call.eventName)) {
    return {
      exhaustion: false,
      errorCode,
      reason: `${api} failed with ${errorCode}, but ${call.eventName} does not allocate IPv4 addresses to nodes or pods`,
    };
  }
  const entry = EXHAUSTION_ERROR_CODES[errorCode];
  if (entry !== undefined) {
    if (entry.apis !== undefined && !entry.apis.includes(call.eventName)) {
      return {
        exhaustion: false,
        errorCode,
        reason:
          errorCode === 'AttachmentLimitExceeded'
            ? `${api} failed with ${errorCode}, which on ${call.eventName} may be about EBS volumes as well as network interfaces`
            : `${api} failed with ${errorCode}, which the responder answers only on ${entry.apis.join(', ')}`,
      };
    }
    return { exhaustion: true, kind: entry.kind, errorCode };
  }
  if (errorCode === 'InvalidParameterValue' && FREE_IPV4_MESSAGE_RE.test(call.errorMessage)) {
    return { exhaustion: true, kind: call.requestedPrefixes ? 'prefix-space' : 'subnet-addresses', errorCode };
  }
  const notHandled = NOT_HANDLED_ERROR_CODES[errorCode];
  if (notHandled !== undefined) return { exhaustion: false, errorCode, reason: `${api}: ${notHandled}` };
  return { exhaustion: false, errorCode, reason: `${api} failed with ${errorCode}, which is not IPv4 address exhaustion` };
}

/**
 * Auto Scaling reports a failed launch only as text (`StatusMessage`), which quotes EC2's message,
 * sometimes with its code ("... InsufficientFreeAddressesInSubnet - There are not enough free
 * addresses in subnet 'subnet-0abc' to satisfy the requested number of instances. Launching EC2
 * instance failed."). Matched case-insensitively; the first rule that matches wins.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-event-reference.html
 */
const LAUNCH_FAILURE_RULES: readonly { re: RegExp; kind: ExhaustionKind; errorCode: string }[] = [
  { re: /InsufficientCidrBlocks|free cidr blocks/i, kind: 'prefix-space', errorCode: 'InsufficientCidrBlocks' },
  // An Auto Scaling launch asks for addresses, not prefixes, unless its launch template says so;
  // the event cannot tell, so a full subnet is the reading.
  { re: FREE_IPV4_MESSAGE_RE, kind: 'subnet-addresses', errorCode: 'InvalidParameterValue' },
  { re: /InsufficientFreeAddressesInSubnet|free addresses/i, kind: 'subnet-addresses', errorCode: 'InsufficientFreeAddressesInSubnet' },
];

/** The exhaustion an Auto Scaling launch failure message reports, if it reports one. */
export function classifyLaunchFailureMessage(statusMessage: string): { kind: ExhaustionKind; errorCode: string } | undefined {
  const rule = LAUNCH_FAILURE_RULES.find((r) => r.re.test(statusMessage));
  return rule === undefined ? undefined : { kind: rule.kind, errorCode: rule.errorCode };
}
