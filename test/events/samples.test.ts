// The sample events in events/ are what EventBridge delivers to the responder's Lambda function
// (`serverless invoke local -p events/<file>`); handler tests reuse them. Each must parse to the
// event below and be selected by exactly one of the stack's EventBridge rules.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseResponderEvent, type ResponderEvent } from '../../lib/events/parse';
import { eventPatterns, matchesPattern, type EventPatternName } from '../../lib/events/patterns';

const EVENTS_DIR = path.join(__dirname, '..', '..', 'events');
const ALARM_NAME_PREFIX = 'eks-ip-responder-dev-';
const opts = { alarmNamePrefix: ALARM_NAME_PREFIX };

function loadEvent(file: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(EVENTS_DIR, file), 'utf8')) as unknown;
}

const where = { region: 'eu-west-1', account: '111122223333' };

const samples: { file: string; pattern: EventPatternName | undefined; expected: ResponderEvent }[] = [
  {
    file: 'cloudtrail-insufficient-free-addresses.json',
    pattern: 'cloudTrailAllocationFailure',
    expected: {
      type: 'allocation-failure',
      eventId: '3f6c2a9e-8d41-4b7a-9e25-6a1f0c7d4e83',
      time: '2026-11-26T09:41:07Z',
      ...where,
      source: 'cloudtrail',
      kind: 'subnet-addresses',
      errorCode: 'InsufficientFreeAddressesInSubnet',
      errorMessage: 'The specified subnet does not have enough free addresses to satisfy the request.',
      api: 'ec2:CreateNetworkInterface',
      subnetIds: ['subnet-0e59dfd0c9e3779b1'],
      networkInterfaceIds: [],
      instanceIds: ['i-0a38667ecafd9d5ab'],
      clusterNameHint: 'payments-prod',
    },
  },
  {
    file: 'cloudtrail-insufficient-cidr-blocks.json',
    pattern: 'cloudTrailAllocationFailure',
    expected: {
      type: 'allocation-failure',
      eventId: '9a4d7e21-05bc-4f3e-8c6a-2d9b1e7f4a50',
      time: '2026-11-26T09:43:52Z',
      ...where,
      source: 'cloudtrail',
      kind: 'prefix-space',
      errorCode: 'InsufficientCidrBlocks',
      errorMessage: 'The specified subnet does not have enough free cidr blocks to satisfy the request.',
      api: 'ec2:AssignPrivateIpAddresses',
      subnetIds: [],
      networkInterfaceIds: ['eni-0e15485b6c623a9b0'],
      instanceIds: [],
    },
  },
  {
    file: 'cloudtrail-private-ip-limit.json',
    pattern: 'cloudTrailAllocationFailure',
    expected: {
      type: 'allocation-failure',
      eventId: 'c5e80b3d-2f71-4a96-b0d4-8e1a6f3c9b27',
      time: '2026-11-26T09:44:30Z',
      ...where,
      source: 'cloudtrail',
      kind: 'eni-ip-limit',
      errorCode: 'PrivateIpAddressLimitExceeded',
      errorMessage: 'Number of private addresses will exceed limit.',
      api: 'ec2:AssignPrivateIpAddresses',
      subnetIds: [],
      networkInterfaceIds: ['eni-07a05cdf92344b7f4'],
      instanceIds: [],
    },
  },
  {
    file: 'cloudtrail-attachment-limit.json',
    pattern: 'cloudTrailAllocationFailure',
    expected: {
      type: 'allocation-failure',
      eventId: '71b3f9c4-6a2e-4d05-9f18-3c7e0a5b2d96',
      time: '2026-11-26T09:45:16Z',
      ...where,
      source: 'cloudtrail',
      kind: 'eni-attachment-limit',
      errorCode: 'AttachmentLimitExceeded',
      errorMessage: 'Interface count 4 exceeds the limit for m5.large',
      api: 'ec2:AttachNetworkInterface',
      subnetIds: [],
      networkInterfaceIds: ['eni-0b4e7a19c3d5f2608'],
      instanceIds: ['i-050c2d4ce516f78de'],
    },
  },
  {
    file: 'cloudtrail-network-interface-limit.json',
    pattern: 'cloudTrailAllocationFailure',
    expected: {
      type: 'allocation-failure',
      eventId: '5c81d2e7-3a94-4f1b-b6e0-8d27c4a9f013',
      time: '2026-11-26T09:47:31Z',
      ...where,
      source: 'cloudtrail',
      kind: 'eni-quota',
      errorCode: 'NetworkInterfaceLimitExceeded',
      errorMessage: "You've reached the limit on the number of network interfaces that you can create.",
      api: 'ec2:CreateNetworkInterface',
      subnetIds: ['subnet-0e59dfd0c9e3779b1'],
      networkInterfaceIds: [],
      instanceIds: ['i-0a38667ecafd9d5ab'],
      clusterNameHint: 'payments-prod',
    },
  },
  {
    file: 'cloudtrail-network-address-usage-limit.json',
    pattern: 'cloudTrailAllocationFailure',
    expected: {
      type: 'allocation-failure',
      eventId: 'e3f6a0c2-91d8-4b57-a4c9-0b2e7d5f8163',
      time: '2026-11-26T09:49:02Z',
      ...where,
      source: 'cloudtrail',
      kind: 'network-address-usage',
      errorCode: 'NetworkAddressUsageLimitExceeded',
      errorMessage: 'The VPC has reached its Network Address Usage limit.',
      api: 'ec2:AssignPrivateIpAddresses',
      subnetIds: [],
      networkInterfaceIds: ['eni-0e15485b6c623a9b0'],
      instanceIds: [],
    },
  },
  {
    file: 'cloudtrail-invalid-parameter-free-ipv4.json',
    pattern: 'cloudTrailAllocationFailure',
    expected: {
      type: 'allocation-failure',
      eventId: '2e8a5d17-c4b9-4f60-8d3e-b1a7f6c0e942',
      time: '2026-11-26T09:46:03Z',
      ...where,
      source: 'cloudtrail',
      // The request asked for a /28 prefix: the full subnet is out of prefix space.
      kind: 'prefix-space',
      errorCode: 'InvalidParameterValue',
      errorMessage: "There aren't sufficient free Ipv4 addresses or prefixes",
      api: 'ec2:AssignPrivateIpAddresses',
      subnetIds: [],
      networkInterfaceIds: ['eni-0c229db1ea0ca16c3'],
      instanceIds: [],
    },
  },
  {
    file: 'autoscaling-launch-unsuccessful.json',
    pattern: 'autoScalingLaunchFailure',
    expected: {
      type: 'allocation-failure',
      eventId: '6b9e2d40-3c1f-4a87-b5d2-e0f7a1c83b59',
      time: '2026-11-26T09:48:40Z',
      ...where,
      source: 'autoscaling',
      kind: 'subnet-addresses',
      errorCode: 'InsufficientFreeAddressesInSubnet',
      errorMessage:
        "There are not enough free addresses in subnet 'subnet-0e59dfd0c9e3779b1' to satisfy the requested number of instances. Launching EC2 instance failed.",
      api: 'ec2:RunInstances',
      subnetIds: ['subnet-0e59dfd0c9e3779b1'],
      networkInterfaceIds: [],
      instanceIds: [],
      autoScalingGroupName: 'eks-api-m5l-1eb29475-f3f3-44d5-afdd-a5a12a06eeda',
      nodegroupHint: 'api-m5l',
    },
  },
  {
    file: 'alarm-subnet-free-ips.json',
    pattern: 'alarmStateChange',
    expected: {
      type: 'alarm',
      eventId: 'a7c3e9f1-4b25-0d68-3e9a-5f1b7c2d8e40',
      time: '2026-11-26T09:50:12Z',
      ...where,
      alarmName: 'eks-ip-responder-dev-subnet-free-ips-low',
      state: 'ALARM',
      previousState: 'OK',
      reason: '1 out of 9 time series evaluated to ALARM',
    },
  },
  {
    file: 'alarm-contributor-subnet-free-ips.json',
    pattern: 'alarmStateChange',
    expected: {
      type: 'alarm',
      eventId: '5d1f8b3a-e7c2-9a40-6b1d-0c8e4f2a7d93',
      time: '2026-11-26T09:50:12Z',
      ...where,
      alarmName: 'eks-ip-responder-dev-subnet-free-ips-low',
      state: 'ALARM',
      previousState: '',
      reason:
        'Threshold Crossed: 2 datapoints were less than the threshold (64.0). The most recent datapoint which crossed the threshold: [7.0 (26/11/26 09:45:00)].',
      contributors: [{ clusterName: 'payments-prod', subnetId: 'subnet-0e59dfd0c9e3779b1' }],
    },
  },
  {
    // Issue 14: the pods-failing-ip-assignment alarm's contributor (ClusterName only).
    file: 'alarm-contributor-pods-failing-ip.json',
    pattern: 'alarmStateChange',
    expected: {
      type: 'alarm',
      eventId: '7a2c9e41-3f6d-4b8a-9c15-2e8d0f4b6a71',
      time: '2026-11-26T09:55:08Z',
      ...where,
      alarmName: 'eks-ip-responder-dev-pods-failing-ip-assignment',
      state: 'ALARM',
      previousState: '',
      reason:
        'Threshold Crossed: 1 datapoint was greater than or equal to the threshold (1.0). The most recent datapoint which crossed the threshold: [4.0 (26/11/26 09:50:00)].',
      contributors: [{ clusterName: 'payments-prod' }],
    },
  },
  {
    // Karpenter's CreateFleet (instant): succeeded as a call, its launch in subnet-0e760afd… failed in
    // the response's errorSet; the other error (InsufficientInstanceCapacity) is not exhaustion.
    file: 'cloudtrail-create-fleet-insufficient-free-addresses.json',
    pattern: 'cloudTrailAllocationFailure',
    expected: {
      type: 'allocation-failure',
      eventId: 'b7d3e1f0-5c2a-4e8b-9a61-0f4c8d2e7b35',
      time: '2026-11-26T09:52:18Z',
      ...where,
      source: 'cloudtrail',
      kind: 'subnet-addresses',
      errorCode: 'InsufficientFreeAddressesInSubnet',
      errorMessage: "There are not enough free addresses in subnet 'subnet-0e760afd646006f89' to satisfy the requested number of instances.",
      api: 'ec2:CreateFleet',
      subnetIds: ['subnet-0e760afd646006f89'],
      networkInterfaceIds: [],
      instanceIds: [],
      clusterNameHint: 'events-karpenter',
    },
  },
  {
    file: 'cloudtrail-unauthorized.json',
    pattern: undefined,
    expected: {
      type: 'ignored',
      eventId: 'd04f6b83-9e2a-4c57-a1b8-7f3e5c9d0a62',
      reason: 'ec2:CreateNetworkInterface failed with UnauthorizedOperation, which is not IPv4 address exhaustion',
    },
  },
];

describe('sample events in events/', () => {
  it('covers every responder sample file (a new one needs its expected event here)', () => {
    const files = fs.readdirSync(EVENTS_DIR).filter((f) => /^(cloudtrail|autoscaling|alarm)-.*\.json$/.test(f));
    expect(files.sort()).toEqual(samples.map((s) => s.file).sort());
  });

  describe.each(samples)('$file', ({ file, pattern, expected }) => {
    const event = loadEvent(file);

    it('has the shape EventBridge delivers, in the demo account and region', () => {
      expect(Object.keys(event as object).sort()).toEqual(
        ['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail'].sort(),
      );
      expect(event).toMatchObject({ version: '0', account: '111122223333', region: 'eu-west-1' });
      const e = event as { id: string; time: string };
      expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    });

    it('parses to the expected responder event', () => {
      expect(parseResponderEvent(event, opts)).toStrictEqual(expected);
    });

    it(pattern === undefined ? 'matches no EventBridge rule of the stack' : `matches exactly the ${pattern} rule`, () => {
      const patterns = eventPatterns(ALARM_NAME_PREFIX);
      const matching = (Object.keys(patterns) as EventPatternName[]).filter((name) => matchesPattern(patterns[name], event));
      expect(matching).toEqual(pattern === undefined ? [] : [pattern]);
    });
  });
});
