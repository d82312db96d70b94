import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  EVENT_LIMITS,
  eventHead,
  MalformedEventError,
  nodegroupNameFromAsgName,
  parseResponderEvent,
  type AllocationFailureEvent,
  type ResponderEvent,
} from '../../lib/events/parse';

const opts = { alarmNamePrefix: 'eks-ip-responder-dev-' };
const EVENTS_DIR = path.join(__dirname, '..', '..', 'events');

type Json = Record<string, unknown>;

function sample(file: string): Json {
  return JSON.parse(fs.readFileSync(path.join(EVENTS_DIR, file), 'utf8')) as Json;
}

function detailOf(event: Json): Json {
  return event.detail as Json;
}

/** A CloudTrail event like the CreateNetworkInterface sample, with the given call and outcome. */
function cloudTrailEvent(call: { eventName: string; errorCode?: string; errorMessage?: string; requestParameters?: unknown }): Json {
  const event = sample('cloudtrail-insufficient-free-addresses.json');
  const detail = detailOf(event);
  detail.eventName = call.eventName;
  if (call.errorCode === undefined) delete detail.errorCode;
  else detail.errorCode = call.errorCode;
  if (call.errorMessage === undefined) delete detail.errorMessage;
  else detail.errorMessage = call.errorMessage;
  if ('requestParameters' in call) detail.requestParameters = call.requestParameters;
  return event;
}

function autoScalingEvent(statusMessage: string, patch: Json = {}): Json {
  const event = sample('autoscaling-launch-unsuccessful.json');
  Object.assign(detailOf(event), { StatusMessage: statusMessage }, patch);
  return event;
}

function parse(event: unknown): ResponderEvent {
  return parseResponderEvent(event, opts);
}

function allocationFailure(event: unknown): AllocationFailureEvent {
  const parsed = parse(event);
  if (parsed.type !== 'allocation-failure') throw new Error(`expected an allocation failure, got ${JSON.stringify(parsed)}`);
  return parsed;
}

function malformed(event: unknown): MalformedEventError {
  try {
    parse(event);
  } catch (err) {
    if (err instanceof MalformedEventError) return err;
    throw err;
  }
  throw new Error('expected a MalformedEventError, parsed without error');
}

const secondaryIps = { networkInterfaceId: 'eni-0aaa', secondaryPrivateIpAddressCount: 3 };
const prefixes = { networkInterfaceId: 'eni-0aaa', ipv4PrefixCount: 1 };

describe('parseResponderEvent: CloudTrail EC2 error codes', () => {
  // Every exhaustion code, as CloudTrail writes it (Client.) and as the EC2 API answers it.
  const table: { eventName: string; code: string; message: string; requestParameters: Json; kind: string }[] = [
    { eventName: 'CreateNetworkInterface', code: 'InsufficientFreeAddressesInSubnet', message: 'The specified subnet does not have enough free addresses to satisfy the request.', requestParameters: { subnetId: 'subnet-0aaa' }, kind: 'subnet-addresses' },
    { eventName: 'RunInstances', code: 'InsufficientFreeAddressesInSubnet', message: "There are not enough free addresses in subnet 'subnet-0aaa' to satisfy the requested number of instances.", requestParameters: { subnetId: 'subnet-0aaa' }, kind: 'subnet-addresses' },
    { eventName: 'AssignPrivateIpAddresses', code: 'InsufficientCidrBlocks', message: 'The specified subnet does not have enough free cidr blocks to satisfy the request.', requestParameters: prefixes, kind: 'prefix-space' },
    { eventName: 'AssignPrivateIpAddresses', code: 'PrivateIpAddressLimitExceeded', message: 'Number of private addresses will exceed limit.', requestParameters: secondaryIps, kind: 'eni-ip-limit' },
    { eventName: 'RunInstances', code: 'InvalidInterface.IpAddressLimitExceeded', message: 'The number of private IP addresses exceeds the limit.', requestParameters: { subnetId: 'subnet-0aaa' }, kind: 'eni-ip-limit' },
    { eventName: 'AttachNetworkInterface', code: 'AttachmentLimitExceeded', message: 'Interface count 4 exceeds the limit for m5.large', requestParameters: { networkInterfaceId: 'eni-0aaa', instanceId: 'i-0aaa', deviceIndex: 3 }, kind: 'eni-attachment-limit' },
    { eventName: 'AssignPrivateIpAddresses', code: 'InvalidParameterValue', message: "There aren't sufficient free Ipv4 addresses or prefixes", requestParameters: secondaryIps, kind: 'subnet-addresses' },
    { eventName: 'AssignPrivateIpAddresses', code: 'InvalidParameterValue', message: "There aren't sufficient free Ipv4 addresses or prefixes", requestParameters: prefixes, kind: 'prefix-space' },
    { eventName: 'CreateNetworkInterface', code: 'InvalidParameterValue', message: "There aren't sufficient free Ipv4 addresses or prefixes", requestParameters: { subnetId: 'subnet-0aaa', ipv4PrefixCount: 2 }, kind: 'prefix-space' },
    { eventName: 'RunInstances', code: 'InvalidParameterValue', message: "There aren't sufficient free Ipv4 addresses or prefixes", requestParameters: { networkInterfaceSet: { items: [{ deviceIndex: 0, subnetId: 'subnet-0aaa', ipv4PrefixCount: 1 }] } }, kind: 'prefix-space' },
    // Issue 13 item 8: the account's ENI quota and the VPC's Network Address Usage.
    { eventName: 'CreateNetworkInterface', code: 'NetworkInterfaceLimitExceeded', message: "You've reached the limit on the number of network interfaces that you can create.", requestParameters: { subnetId: 'subnet-0aaa' }, kind: 'eni-quota' },
    { eventName: 'RunInstances', code: 'NetworkInterfaceLimitExceeded', message: "You've reached the limit on the number of network interfaces that you can create.", requestParameters: { subnetId: 'subnet-0aaa' }, kind: 'eni-quota' },
    { eventName: 'AssignPrivateIpAddresses', code: 'NetworkAddressUsageLimitExceeded', message: 'The VPC exceeds its Network Address Usage quota.', requestParameters: secondaryIps, kind: 'network-address-usage' },
    { eventName: 'AttachNetworkInterface', code: 'NetworkAddressUsageLimitExceeded', message: 'The VPC exceeds its Network Address Usage quota.', requestParameters: { networkInterfaceId: 'eni-0aaa', instanceId: 'i-0aaa', deviceIndex: 1 }, kind: 'network-address-usage' },
    { eventName: 'RunInstances', code: 'NetworkAddressUsageLimitExceeded', message: 'The VPC exceeds its Network Address Usage quota.', requestParameters: { subnetId: 'subnet-0aaa' }, kind: 'network-address-usage' },
    { eventName: 'RunInstances', code: 'NetworkAddressUsagePeeredLimitExceeded', message: 'The VPC exceeds its peered Network Address Usage quota.', requestParameters: { subnetId: 'subnet-0aaa' }, kind: 'network-address-usage' },
  ];
  const rows = table.flatMap((row) => [
    { ...row, errorCode: `Client.${row.code}` },
    { ...row, errorCode: row.code },
  ]);

  it.each(rows)('$eventName $errorCode ($message) is $kind', ({ eventName, errorCode, code, message, requestParameters, kind }) => {
    const parsed = allocationFailure(cloudTrailEvent({ eventName, errorCode, errorMessage: message, requestParameters }));
    expect(parsed.kind).toBe(kind);
    expect(parsed.errorCode).toBe(code);
    expect(parsed.errorMessage).toBe(message);
    expect(parsed.api).toBe(`ec2:${eventName}`);
  });

  const ignoredRows: { case: string; eventName: string; errorCode?: string; errorMessage?: string; requestParameters?: unknown; reason: RegExp }[] = [
    { case: 'a call that succeeded', eventName: 'CreateNetworkInterface', reason: /^ec2:CreateNetworkInterface succeeded \(no errorCode\)$/ },
    { case: 'access denied', eventName: 'CreateNetworkInterface', errorCode: 'Client.UnauthorizedOperation', errorMessage: 'You are not authorized to perform this operation.', reason: /UnauthorizedOperation, which is not IPv4 address exhaustion/ },
    { case: 'a missing subnet', eventName: 'CreateNetworkInterface', errorCode: 'Client.InvalidSubnetID.NotFound', errorMessage: "The subnet ID 'subnet-0bbb' does not exist", reason: /InvalidSubnetID\.NotFound, which is not IPv4 address exhaustion/ },
    { case: 'another InvalidParameterValue', eventName: 'AssignPrivateIpAddresses', errorCode: 'Client.InvalidParameterValue', errorMessage: 'Value (eni-x) for parameter networkInterface is invalid.', requestParameters: secondaryIps, reason: /InvalidParameterValue, which is not IPv4 address exhaustion/ },
    { case: 'the account ENI quota on an API that creates no ENI', eventName: 'AssignPrivateIpAddresses', errorCode: 'Client.NetworkInterfaceLimitExceeded', errorMessage: 'You have reached the limit on the number of network interfaces.', requestParameters: secondaryIps, reason: /answers only on CreateNetworkInterface, RunInstances/ },
    { case: 'the NAU quota on CreateNetworkInterface (not among the APIs the VPC guide names)', eventName: 'CreateNetworkInterface', errorCode: 'Client.NetworkAddressUsageLimitExceeded', errorMessage: 'NAU', requestParameters: { subnetId: 'subnet-0aaa' }, reason: /answers only on RunInstances, AttachNetworkInterface, AssignPrivateIpAddresses/ },
    { case: 'IPv6 addresses', eventName: 'AssignIpv6Addresses', errorCode: 'Client.InsufficientFreeAddressesInSubnet', errorMessage: 'no free IPv6', reason: /AssignIpv6Addresses does not allocate IPv4 addresses/ },
    { case: 'an EBS attachment limit', eventName: 'AttachVolume', errorCode: 'Client.AttachmentLimitExceeded', errorMessage: 'Volume attachment limit', reason: /AttachVolume does not allocate IPv4 addresses/ },
    { case: 'an attachment limit at launch (volumes or ENIs)', eventName: 'RunInstances', errorCode: 'Client.AttachmentLimitExceeded', errorMessage: 'too many', requestParameters: { subnetId: 'subnet-0aaa' }, reason: /may be about EBS volumes as well as network interfaces/ },
  ];

  it.each(ignoredRows)('ignores $case with the reason', ({ eventName, errorCode, errorMessage, requestParameters, reason }) => {
    const event = cloudTrailEvent({ eventName, errorCode, errorMessage, ...(requestParameters === undefined ? {} : { requestParameters }) });
    const parsed = parse(event);
    expect(parsed).toEqual({ type: 'ignored', eventId: '3f6c2a9e-8d41-4b7a-9e25-6a1f0c7d4e83', reason: expect.stringMatching(reason) });
  });

  it('ignores an event it does not act on even when its request parameters are odd', () => {
    const event = cloudTrailEvent({ eventName: 'CreateNetworkInterface', errorCode: 'Client.UnauthorizedOperation', errorMessage: 'no', requestParameters: { subnetId: 42 } });
    expect(parse(event)).toMatchObject({ type: 'ignored' });
  });

  it('ignores a CloudTrail event of another service delivered with source aws.ec2', () => {
    const event = cloudTrailEvent({ eventName: 'CreateNetworkInterface', errorCode: 'Client.InsufficientFreeAddressesInSubnet', errorMessage: 'x' });
    detailOf(event).eventSource = 'elasticloadbalancing.amazonaws.com';
    expect(parse(event)).toMatchObject({ type: 'ignored', reason: expect.stringContaining('is not an EC2 API call') });
  });
});

describe('parseResponderEvent: what a CloudTrail failure concerns', () => {
  it('reads a RunInstances launch: subnets of the request and its interfaces, cluster, nodegroup and Auto Scaling group tags', () => {
    const parsed = allocationFailure(
      cloudTrailEvent({
        eventName: 'RunInstances',
        errorCode: 'Client.InsufficientFreeAddressesInSubnet',
        errorMessage: 'There are not enough free addresses in subnet',
        requestParameters: {
          instancesSet: { items: [{ imageId: 'ami-0abc', minCount: 1, maxCount: 1 }] },
          instanceType: 'm5.large',
          subnetId: 'subnet-0aaa',
          networkInterfaceSet: { items: [{ deviceIndex: 0, subnetId: 'subnet-0bbb' }, { deviceIndex: 1, subnetId: 'subnet-0aaa', networkInterfaceId: 'eni-0ccc' }] },
          tagSpecificationSet: {
            items: [
              {
                resourceType: 'instance',
                tags: [
                  { key: 'eks:cluster-name', value: 'payments-prod' },
                  { key: 'eks:nodegroup-name', value: 'api-m5l' },
                  { key: 'aws:autoscaling:groupName', value: 'eks-api-m5l-1eb29475-f3f3-44d5-afdd-a5a12a06eeda' },
                  { key: 'Name', value: 'node' },
                ],
              },
            ],
          },
        },
      }),
    );
    expect(parsed).toMatchObject({
      kind: 'subnet-addresses',
      api: 'ec2:RunInstances',
      subnetIds: ['subnet-0aaa', 'subnet-0bbb'],
      networkInterfaceIds: ['eni-0ccc'],
      instanceIds: [],
      clusterNameHint: 'payments-prod',
      nodegroupHint: 'api-m5l',
      autoScalingGroupName: 'eks-api-m5l-1eb29475-f3f3-44d5-afdd-a5a12a06eeda',
    });
  });

  it('takes the cluster from a kubernetes.io/cluster/<name> tag and the nodegroup from the Auto Scaling group name', () => {
    const parsed = allocationFailure(
      cloudTrailEvent({
        eventName: 'RunInstances',
        errorCode: 'Client.InsufficientFreeAddressesInSubnet',
        errorMessage: 'x',
        requestParameters: {
          subnetId: 'subnet-0aaa',
          tagSpecificationSet: {
            items: [{ resourceType: 'instance', tags: [{ key: 'kubernetes.io/cluster/batch-dev', value: 'owned' }, { key: 'aws:autoscaling:groupName', value: 'eks-spot-mixed-c6dcadeb-1960-47e6-a09e-fe9f5e8466de' }] }],
          },
        },
      }),
    );
    expect(parsed.clusterNameHint).toBe('batch-dev');
    expect(parsed.nodegroupHint).toBe('spot-mixed');
  });

  it('takes the node from the VPC CNI’s instance tag when the description does not name it', () => {
    const parsed = allocationFailure(
      cloudTrailEvent({
        eventName: 'CreateNetworkInterface',
        errorCode: 'Client.InsufficientFreeAddressesInSubnet',
        errorMessage: 'x',
        requestParameters: {
          subnetId: 'subnet-0aaa',
          description: 'custom',
          tagSpecificationSet: { items: [{ resourceType: 'network-interface', tags: [{ key: 'node.k8s.amazonaws.com/instance_id', value: 'i-0bbb' }] }] },
        },
      }),
    );
    expect(parsed.instanceIds).toEqual(['i-0bbb']);
  });

  it('leaves hints out when the request names no cluster', () => {
    const parsed = allocationFailure(
      cloudTrailEvent({ eventName: 'CreateNetworkInterface', errorCode: 'Client.InsufficientFreeAddressesInSubnet', errorMessage: 'x', requestParameters: { subnetId: 'subnet-0aaa' } }),
    );
    expect(parsed).not.toHaveProperty('clusterNameHint');
    expect(parsed).not.toHaveProperty('nodegroupHint');
    expect(parsed).not.toHaveProperty('autoScalingGroupName');
    expect(parsed.instanceIds).toEqual([]);
  });

  it('accepts a failure recorded without request parameters', () => {
    const parsed = allocationFailure(
      cloudTrailEvent({ eventName: 'RunInstances', errorCode: 'Client.InsufficientFreeAddressesInSubnet', errorMessage: 'x', requestParameters: null }),
    );
    expect(parsed).toMatchObject({ subnetIds: [], networkInterfaceIds: [], instanceIds: [] });
  });
});

describe('parseResponderEvent: Auto Scaling launch failures', () => {
  it.each([
    ["There are not enough free addresses in subnet 'subnet-0e59dfd0c9e3779b1' to satisfy the requested number of instances. Launching EC2 instance failed.", 'subnet-addresses', 'InsufficientFreeAddressesInSubnet'],
    ['The specified subnet does not have enough free addresses to satisfy the request. Launching EC2 instance failed.', 'subnet-addresses', 'InsufficientFreeAddressesInSubnet'],
    ["Could not launch On-Demand Instances. InsufficientFreeAddressesInSubnet - There are not enough free addresses in subnet 'subnet-0e59dfd0c9e3779b1' to satisfy the requested number of instances. Launching EC2 instance failed.", 'subnet-addresses', 'InsufficientFreeAddressesInSubnet'],
    ["There aren't sufficient free Ipv4 addresses or prefixes. Launching EC2 instance failed.", 'subnet-addresses', 'InvalidParameterValue'],
    ['THERE ARE NOT ENOUGH FREE ADDRESSES IN SUBNET', 'subnet-addresses', 'InsufficientFreeAddressesInSubnet'],
    ['Could not launch On-Demand Instances. InsufficientCidrBlocks - The specified subnet does not have enough free cidr blocks to satisfy the request.', 'prefix-space', 'InsufficientCidrBlocks'],
  ])('reads "%s" as %s', (message, kind, errorCode) => {
    const parsed = allocationFailure(autoScalingEvent(message));
    expect(parsed).toMatchObject({ source: 'autoscaling', kind, errorCode, errorMessage: message, subnetIds: ['subnet-0e59dfd0c9e3779b1'] });
  });

  it.each([
    'We currently do not have sufficient m5.large capacity in the Availability Zone you requested (eu-west-1a). Our system will be working on provisioning additional capacity. Launching EC2 instance failed.',
    'Could not launch Spot Instances. SpotMaxPriceTooLow - Your Spot request price of 0.01 is lower than the minimum required Spot request fulfillment price of 0.0321. Launching EC2 instance failed.',
    'You have requested more vCPU capacity than your current vCPU limit of 32 allows. Launching EC2 instance failed.',
  ])('ignores "%s" with the reason', (message) => {
    expect(parse(autoScalingEvent(message))).toEqual({
      type: 'ignored',
      eventId: '6b9e2d40-3c1f-4a87-b5d2-e0f7a1c83b59',
      reason: `Auto Scaling group eks-api-m5l-1eb29475-f3f3-44d5-afdd-a5a12a06eeda failed to launch an instance for a reason other than IPv4 exhaustion: ${message}`,
    });
  });

  it('takes subnets from the details and the message, and the instance when there is one', () => {
    const parsed = allocationFailure(
      autoScalingEvent("There are not enough free addresses in subnet 'subnet-0bbb' to satisfy the requested number of instances.", {
        Details: { 'Subnet ID': 'subnet-0aaa', 'Availability Zone': 'eu-west-1a' },
        EC2InstanceId: 'i-0123456789abcdef0',
        AutoScalingGroupName: 'self-managed-workers',
      }),
    );
    expect(parsed).toMatchObject({ subnetIds: ['subnet-0aaa', 'subnet-0bbb'], instanceIds: ['i-0123456789abcdef0'], autoScalingGroupName: 'self-managed-workers' });
    expect(parsed).not.toHaveProperty('nodegroupHint');
  });
});

describe('nodegroupNameFromAsgName', () => {
  it.each([
    ['eks-api-m5l-1eb29475-f3f3-44d5-afdd-a5a12a06eeda', 'api-m5l'],
    ['eks-ng-1-5ec5b1d2-0a3e-4b4c-9d2f-8e7a6b5c4d3e', 'ng-1'],
    ['eks-eks-in-a-name-5ec5b1d2-0a3e-4b4c-9d2f-8e7a6b5c4d3e', 'eks-in-a-name'],
    // Before EKS 1.21 the group was eks-<uuid>: no nodegroup name in it.
    ['eks-5ec5b1d2-0a3e-4b4c-9d2f-8e7a6b5c4d3e', undefined],
    ['my-workers', undefined],
    ['eks-api-m5l', undefined],
  ])('%s → %s', (name, expected) => {
    expect(nodegroupNameFromAsgName(name)).toBe(expected);
  });
});

describe('parseResponderEvent: alarms', () => {
  it('ignores an alarm that is not the stack’s', () => {
    const event = sample('alarm-subnet-free-ips.json');
    detailOf(event).alarmName = 'eks-ip-responder-prod-subnet-free-ips-low';
    expect(parse(event)).toEqual({
      type: 'ignored',
      eventId: 'a7c3e9f1-4b25-0d68-3e9a-5f1b7c2d8e40',
      reason: "alarm eks-ip-responder-prod-subnet-free-ips-low is not one of this stack's alarms (eks-ip-responder-dev-*)",
    });
  });

  it("with the stack's alarm names: ignores another name under the prefix, and an unanswered one with its reason", () => {
    const opts = { alarmNamePrefix: 'eks-ip-responder-dev-', stackAlarms: { names: ['subnet-free-ips-low', 'sampler-slow'], unanswered: { 'sampler-slow': 'left to its message' } } };
    const other = sample('alarm-subnet-free-ips.json');
    detailOf(other).alarmName = 'eks-ip-responder-dev-eu-subnet-free-ips-low';
    expect(parseResponderEvent(other, opts)).toMatchObject({ type: 'ignored', reason: expect.stringMatching(/not one of this stack's alarms/) as unknown });
    const slow = sample('alarm-subnet-free-ips.json');
    detailOf(slow).alarmName = 'eks-ip-responder-dev-sampler-slow';
    expect(parseResponderEvent(slow, opts)).toMatchObject({ type: 'ignored', reason: 'alarm eks-ip-responder-dev-sampler-slow: left to its message' });
    expect(parseResponderEvent(sample('alarm-subnet-free-ips.json'), opts)).toMatchObject({ type: 'alarm' });
  });

  it.each(['OK', 'INSUFFICIENT_DATA'] as const)('passes on a change to %s', (value) => {
    const event = sample('alarm-subnet-free-ips.json');
    (detailOf(event).state as Json).value = value;
    expect(parse(event)).toMatchObject({ type: 'alarm', state: value, previousState: 'OK' });
  });

  it('reads the contributor of a Metrics Insights alarm, with only the attributes it has', () => {
    const event = sample('alarm-contributor-subnet-free-ips.json');
    (detailOf(event).alarmContributor as Json).attributes = { ClusterName: 'batch-dev' };
    expect(parse(event)).toMatchObject({ type: 'alarm', contributors: [{ clusterName: 'batch-dev' }] });
    expect((parse(event) as { contributors: object[] }).contributors[0]).toStrictEqual({ clusterName: 'batch-dev' });
  });

  it('ignores alarm configuration changes', () => {
    const event = sample('alarm-subnet-free-ips.json');
    event['detail-type'] = 'CloudWatch Alarm Configuration Change';
    expect(parse(event)).toMatchObject({ type: 'ignored', reason: 'aws.cloudwatch "CloudWatch Alarm Configuration Change" events are not about IPv4 exhaustion' });
  });

  it('refuses an empty alarm name prefix, which would take every alarm of the account for its own', () => {
    expect(() => parseResponderEvent(sample('alarm-subnet-free-ips.json'), { alarmNamePrefix: '' })).toThrow(RangeError);
  });
});

describe('parseResponderEvent: malformed events', () => {
  it('names the field and the detail-type', () => {
    const event = sample('cloudtrail-insufficient-free-addresses.json');
    (detailOf(event).requestParameters as Json).subnetId = 42;
    const err = malformed(event);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('MalformedEventError');
    expect(err.detailType).toBe('AWS API Call via CloudTrail');
    expect(err.path).toBe('detail.requestParameters.subnetId');
    expect(err.message).toBe(
      '"AWS API Call via CloudTrail" event 3f6c2a9e-8d41-4b7a-9e25-6a1f0c7d4e83: detail.requestParameters.subnetId: expected string, received number',
    );
    expect(err.cause).toBeDefined();
  });

  it.each<[string, string, (e: Json) => void, string]>([
    ['cloudtrail-insufficient-free-addresses.json', 'no detail', (e) => delete e.detail, 'detail: expected object, received undefined'],
    ['cloudtrail-insufficient-free-addresses.json', 'no id', (e) => delete e.id, 'id: expected string, received undefined'],
    ['cloudtrail-insufficient-free-addresses.json', 'resources not a list', (e) => (e.resources = 'arn'), 'resources: expected array, received string'],
    ['cloudtrail-insufficient-free-addresses.json', 'eventName a number', (e) => (detailOf(e).eventName = 7), 'detail.eventName: expected string, received number'],
    ['cloudtrail-insufficient-free-addresses.json', 'errorCode an object', (e) => (detailOf(e).errorCode = { code: 'x' }), 'detail.errorCode: expected string, received object'],
    ['cloudtrail-insufficient-free-addresses.json', 'a tag without key', (e) => ((((detailOf(e).requestParameters as Json).tagSpecificationSet as Json).items as Json[])[0]!.tags = [{ value: 'x' }]), 'detail.requestParameters.tagSpecificationSet.items[0].tags[0].key: expected string, received undefined'],
    ['cloudtrail-insufficient-free-addresses.json', 'subnetId missing from CreateNetworkInterface', (e) => delete (detailOf(e).requestParameters as Json).subnetId, 'detail.requestParameters.subnetId: expected string, received undefined'],
    ['cloudtrail-private-ip-limit.json', 'a count that is a string', (e) => ((detailOf(e).requestParameters as Json).secondaryPrivateIpAddressCount = '1'), 'detail.requestParameters.secondaryPrivateIpAddressCount: expected number, received string'],
    ['cloudtrail-attachment-limit.json', 'no instanceId', (e) => delete (detailOf(e).requestParameters as Json).instanceId, 'detail.requestParameters.instanceId: expected string, received undefined'],
    ['autoscaling-launch-unsuccessful.json', 'no StatusMessage', (e) => delete detailOf(e).StatusMessage, 'detail.StatusMessage: expected string, received undefined'],
    ['autoscaling-launch-unsuccessful.json', 'a subnet that is a list', (e) => ((detailOf(e).Details as Json)['Subnet ID'] = ['subnet-0aaa']), 'detail.Details["Subnet ID"]: expected string, received array'],
    ['alarm-subnet-free-ips.json', 'an unknown state', (e) => ((detailOf(e).state as Json).value = 'BROKEN'), 'detail.state.value: Invalid option: expected one of "ALARM"|"OK"|"INSUFFICIENT_DATA"'],
    ['alarm-subnet-free-ips.json', 'no alarmName', (e) => delete detailOf(e).alarmName, 'detail.alarmName: expected string, received undefined'],
    ['alarm-contributor-subnet-free-ips.json', 'a contributor event without its contributor', (e) => delete detailOf(e).alarmContributor, 'detail.alarmContributor: expected object, received undefined'],
  ])('%s with %s: %s', (file, _case, breakIt, problem) => {
    const event = sample(file);
    breakIt(event);
    const err = malformed(event);
    expect(err.message).toContain(problem);
    expect(err.message).toMatch(new RegExp(`^"${String(event['detail-type'])}" event`));
  });

  it('rejects an event from a source the responder does not subscribe to', () => {
    const scheduled = JSON.parse(fs.readFileSync(path.join(EVENTS_DIR, 'scheduled.json'), 'utf8')) as unknown;
    const err = malformed(scheduled);
    expect(err.path).toBe('source');
    expect(err.message).toMatch(/^"Scheduled Event" event a8e3c1d2-5b4f-4c7e-9f10-2d6b8e4f1a37: source: unexpected source "aws.events"/);
  });

  it.each([null, 'event', 42, []])('rejects %p, which is not an event at all', (event) => {
    const err = malformed(event);
    expect(err.detailType).toBeUndefined();
    expect(err.message).toMatch(/^event: expected object, received /);
  });

  it('lists every problem, the first few in the message', () => {
    const err = malformed({ version: 0 });
    expect(err.problems.length).toBeGreaterThan(5);
    expect(err.message).toMatch(/^event: version: expected string, received number; .*\(and \d+ more\)$/);
  });
});

/** `{ a: { a: ... { ipv4PrefixCount: 0 } } }`: `levels` objects, the innermost one included. */
function nested(levels: number): Json {
  let value: Json = { ipv4PrefixCount: 0 };
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

describe('parseResponderEvent: poison events are rejected, never crash the parser', () => {
  it('rejects an id of 3 KB (DynamoDB refuses a key over 2 KB) and keeps its message short', () => {
    const event = sample('cloudtrail-insufficient-free-addresses.json');
    event.id = 'e'.repeat(3 * 1024);
    const err = malformed(event);
    expect(err.path).toBe('id');
    expect(err.message).toMatch(/id: Too big: expected string to have <=256 characters$/);
    expect(err.message.length).toBeLessThan(400);
  });

  it('takes an id of 256 characters and rejects one of 257', () => {
    const event = sample('cloudtrail-insufficient-free-addresses.json');
    event.id = 'e'.repeat(EVENT_LIMITS.maxIdLength);
    expect(allocationFailure(event).eventId).toHaveLength(256);
    event.id = 'e'.repeat(EVENT_LIMITS.maxIdLength + 1);
    expect(malformed(event).path).toBe('id');
  });

  it('rejects request parameters nested 4,000 deep that would be searched for prefixes', () => {
    // An exhaustion error on an allocation API: the request parameters are read and searched.
    const event = cloudTrailEvent({
      eventName: 'CreateNetworkInterface',
      errorCode: 'Client.InvalidParameterValue',
      errorMessage: "There aren't sufficient free Ipv4 addresses or prefixes",
      requestParameters: { subnetId: 'subnet-0aaa', deep: nested(4000) },
    });
    const err = malformed(event);
    expect(err.message).toMatch(/: nested deeper than 64 levels \(at detail\.requestParameters\.deep\.a\.a\.a\.a\.a…\)$/);
  });

  it('rejects any event nested 3,000 deep, wherever the nesting is', () => {
    for (const where of ['top', 'userIdentity', 'alarm'] as const) {
      const event = where === 'alarm' ? sample('alarm-subnet-free-ips.json') : sample('cloudtrail-insufficient-free-addresses.json');
      if (where === 'top') event.extra = nested(3000);
      else if (where === 'userIdentity') (detailOf(event).userIdentity as Json).sessionContext = nested(3000);
      else detailOf(event).configuration = nested(3000);
      expect(malformed(event).message).toMatch(/nested deeper than 64 levels/);
    }
  });

  it('takes 64 levels and rejects 65', () => {
    // The event is level 1, detail 2, requestParameters 3, `deep` 4.
    const at = (levels: number) =>
      cloudTrailEvent({ eventName: 'CreateNetworkInterface', errorCode: 'Client.InsufficientFreeAddressesInSubnet', errorMessage: 'x', requestParameters: { subnetId: 'subnet-0aaa', deep: nested(levels - 3) } });
    expect(allocationFailure(at(EVENT_LIMITS.maxDepth)).subnetIds).toEqual(['subnet-0aaa']);
    expect(malformed(at(EVENT_LIMITS.maxDepth + 1)).message).toMatch(/nested deeper than 64 levels/);
  });

  it('rejects an event larger than EventBridge allows (256 KB), a long string or a long list, and takes a large one under it', () => {
    const big = sample('cloudtrail-insufficient-free-addresses.json');
    detailOf(big).responseElements = 'x'.repeat(EVENT_LIMITS.maxBytes);
    expect(malformed(big).message).toMatch(/: larger than 262144 bytes, EventBridge's largest event$/);
    const long = sample('cloudtrail-insufficient-free-addresses.json');
    detailOf(long).resources = new Array(1_000_000).fill(0);
    expect(malformed(long).message).toMatch(/larger than 262144 bytes/);
    const large = sample('cloudtrail-insufficient-free-addresses.json');
    detailOf(large).responseElements = 'x'.repeat(200 * 1024);
    expect(parse(large).type).toBe('allocation-failure');
  });

  it('still finds prefixes asked for deep in a request (the search walks without recursion)', () => {
    const event = cloudTrailEvent({
      eventName: 'AssignPrivateIpAddresses',
      errorCode: 'Client.InvalidParameterValue',
      errorMessage: "There aren't sufficient free Ipv4 addresses or prefixes",
      requestParameters: { networkInterfaceId: 'eni-0aaa', more: [[{ x: { ipv4PrefixSet: { items: [{ ipv4Prefix: '10.0.0.16/28' }] } } }]] },
    });
    expect(allocationFailure(event).kind).toBe('prefix-space');
    const none = cloudTrailEvent({
      eventName: 'AssignPrivateIpAddresses',
      errorCode: 'Client.InvalidParameterValue',
      errorMessage: "There aren't sufficient free Ipv4 addresses or prefixes",
      requestParameters: { networkInterfaceId: 'eni-0aaa', more: [[{ ipv4PrefixCount: 0, ipv4PrefixSet: {} }]] },
    });
    expect(allocationFailure(none).kind).toBe('subnet-addresses');
  });
});

describe('eventHead', () => {
  it('keeps the head fields of a CloudTrail record, its eventName and errorCode, and nothing else', () => {
    const head = eventHead(sample('cloudtrail-insufficient-free-addresses.json'));
    expect(head).toEqual({
      id: '3f6c2a9e-8d41-4b7a-9e25-6a1f0c7d4e83',
      source: 'aws.ec2',
      'detail-type': 'AWS API Call via CloudTrail',
      account: '111122223333',
      region: 'eu-west-1',
      time: '2026-11-26T09:41:07Z',
      eventName: 'CreateNetworkInterface',
      errorCode: 'Client.InsufficientFreeAddressesInSubnet',
    });
    expect(JSON.stringify(head)).not.toMatch(/ASIA|10\.20\.0\.53/);
  });

  it('clips long fields, skips those that are not strings, and reads anything without throwing', () => {
    const head = eventHead({ id: 'e'.repeat(3000), source: 42, 'detail-type': 'AWS API Call via CloudTrail', detail: nested(5000) });
    expect(head).toEqual({ id: `${'e'.repeat(128)}…`, 'detail-type': 'AWS API Call via CloudTrail' });
    for (const event of [null, undefined, 'event', 42, [], { detail: 'x' }]) expect(eventHead(event)).toEqual({});
  });
});
