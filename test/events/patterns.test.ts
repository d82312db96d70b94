import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXHAUSTION_ERROR_CODES } from '../../lib/events/exhaustion';
import { parseResponderEvent } from '../../lib/events/parse';
import { ANSWERED_ALARM_SUFFIXES, NOT_ANSWERED, STACK_ALARM_SUFFIXES } from '../../lib/events/stack-alarms';
import {
  AUTOSCALING_LAUNCH_FAILURE_PATTERN,
  CLOUDTRAIL_ALLOCATION_FAILURE_PATTERN,
  EVENT_PATTERNS,
  alarmStateChangePattern,
  eventPatterns,
  matchesPattern,
  type EventPattern,
} from '../../lib/events/patterns';

// The module serverless.yml reads the patterns from (`${file(./stack/patterns.stack.js):…}`).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const stackPatterns = require('../../stack/patterns.stack.js') as (context: {
  options: Record<string, unknown>;
  resolveVariable: (variable: string) => Promise<unknown>;
}) => Promise<unknown>;

// Matching rules: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
// and https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
describe('matchesPattern', () => {
  const event = {
    source: 'aws.ec2',
    'detail-type': 'AWS API Call via CloudTrail',
    detail: { eventName: 'CreateNetworkInterface', errorCode: 'Client.InsufficientFreeAddressesInSubnet', count: 3, flag: false, nothing: null, tags: ['a', 'b'], nested: { x: 'y' } },
  };

  it.each<[string, EventPattern, boolean]>([
    ['an exact value', { source: ['aws.ec2'] }, true],
    ['one of several values', { source: ['aws.autoscaling', 'aws.ec2'] }, true],
    ['a different value', { source: ['aws.autoscaling'] }, false],
    ['values case-sensitively', { source: ['AWS.EC2'] }, false],
    ['every field of the pattern', { source: ['aws.ec2'], 'detail-type': ['Scheduled Event'] }, false],
    ['nested fields', { detail: { eventName: ['CreateNetworkInterface'] } }, true],
    ['a field the event lacks', { detail: { missing: ['x'] } }, false],
    ['a nested pattern on a missing object', { detail: { absent: { x: ['y'] } } }, false],
    ['numbers, booleans and null exactly', { detail: { count: [3], flag: [false], nothing: [null] } }, true],
    ['a number as a string', { detail: { count: ['3'] } }, false],
    ['any element of an event array', { detail: { tags: ['b'] } }, true],
    ['no element of an event array', { detail: { tags: ['c'] } }, false],
    ['prefix', { detail: { errorCode: [{ prefix: 'Client.' }] } }, true],
    ['prefix that does not match', { detail: { errorCode: [{ prefix: 'Server.' }] } }, false],
    ['prefix ignoring case', { detail: { errorCode: [{ prefix: { 'equals-ignore-case': 'client.insufficient' } }] } }, true],
    ['prefix on a number', { detail: { count: [{ prefix: '3' }] } }, false],
    ['suffix', { detail: { errorCode: [{ suffix: 'InSubnet' }] } }, true],
    ['equals-ignore-case', { detail: { eventName: [{ 'equals-ignore-case': 'createnetworkinterface' }] } }, true],
    ['wildcard', { detail: { errorCode: [{ wildcard: '*Free*Subnet' }] } }, true],
    ['wildcard anchored at both ends', { detail: { errorCode: [{ wildcard: 'Free*' }] } }, false],
    ['wildcard with regex characters taken literally', { detail: { errorCode: [{ wildcard: 'Client.*' }] } }, true],
    ['wildcard dot is not any character', { detail: { errorCode: [{ wildcard: 'Client?Insufficient*' }] } }, false],
    ['exists: true', { detail: { errorCode: [{ exists: true }] } }, true],
    ['exists: true on null', { detail: { nothing: [{ exists: true }] } }, true],
    ['exists: true on a missing field', { detail: { errorMessage: [{ exists: true }] } }, false],
    ['exists: false on a missing field', { detail: { errorMessage: [{ exists: false }] } }, true],
    ['exists: false on a present field', { detail: { errorCode: [{ exists: false }] } }, false],
    ['exists: false under a missing object', { detail: { absent: { x: [{ exists: false }] } } }, true],
    ['anything-but a value', { detail: { eventName: [{ 'anything-but': 'RunInstances' }] } }, true],
    ['anything-but the value', { detail: { eventName: [{ 'anything-but': 'CreateNetworkInterface' }] } }, false],
    ['anything-but a list', { detail: { eventName: [{ 'anything-but': ['RunInstances', 'CreateNetworkInterface'] }] } }, false],
    ['anything-but a prefix', { detail: { errorCode: [{ 'anything-but': { prefix: 'Server.' } }] } }, true],
    ['anything-but the prefix', { detail: { errorCode: [{ 'anything-but': { prefix: 'Client.' } }] } }, false],
    ['anything-but on a missing field', { detail: { errorMessage: [{ 'anything-but': 'x' }] } }, false],
    ['$or, one branch matching', { detail: { $or: [{ eventName: ['RunInstances'] }, { errorCode: [{ prefix: 'Client.' }] }] } }, true],
    ['$or, no branch matching', { detail: { $or: [{ eventName: ['RunInstances'] }, { errorCode: ['x'] }] } }, false],
    ['$or with the other fields', { detail: { eventName: ['RunInstances'], $or: [{ count: [3] }, { flag: [false] }] } }, false],
    ['an empty pattern', {}, true],
  ])('matches %s → %s', (_case, pattern, expected) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });

  it.each<[string, EventPattern]>([
    ['numeric, which it does not implement', { detail: { count: [{ numeric: ['>', 0] } as never] } }],
    ['two operators in one condition', { detail: { errorCode: [{ prefix: 'a', suffix: 'b' } as never] } }],
    ['an empty list of conditions', { source: [] }],
    ['$or with one branch', { $or: [{ source: ['aws.ec2'] }] }],
    ['a bare string instead of a list', { source: 'aws.ec2' as never }],
  ])('throws on %s rather than guess', (_case, pattern) => {
    expect(() => matchesPattern(pattern, event)).toThrow(TypeError);
  });

  it('is false for events that are not objects', () => {
    expect(matchesPattern({ source: ['aws.ec2'] }, null)).toBe(false);
    expect(matchesPattern({ source: ['aws.ec2'] }, 'aws.ec2')).toBe(false);
  });
});

describe('EVENT_PATTERNS', () => {
  const all = eventPatterns('eks-ip-responder-dev-');

  it('are plain JSON, as serverless.yml and PutRule take them', () => {
    for (const pattern of Object.values(all)) expect(JSON.parse(JSON.stringify(pattern))).toEqual(pattern);
    expect(all).toEqual({ ...EVENT_PATTERNS, alarmStateChange: alarmStateChangePattern('eks-ip-responder-dev-') });
  });

  it('are what patterns.stack.js gives serverless.yml, the alarm names built from the service and the stage osls resolves', async () => {
    const asked: string[] = [];
    const variables: Record<string, string> = { 'self:service': 'eks-ip-responder', 'sls:stage': 'prod-eu' };
    const resolveVariable = async (variable: string) => {
      asked.push(variable);
      return variables[variable];
    };
    const stack = await stackPatterns({ options: {}, resolveVariable });
    expect(stack).toEqual(eventPatterns('eks-ip-responder-prod-eu-'));
    expect([...asked].sort()).toEqual(['self:service', 'sls:stage']);
  });

  it('select every exhaustion code with and without CloudTrail’s Client. prefix', () => {
    const detail = CLOUDTRAIL_ALLOCATION_FAILURE_PATTERN.detail as EventPattern;
    const branches = detail.$or as EventPattern[];
    const listed = branches.flatMap((b) => b.errorCode as string[]);
    const expected = [...Object.keys(EXHAUSTION_ERROR_CODES), 'InvalidParameterValue'].flatMap((c) => [c, `Client.${c}`]);
    expect([...listed].sort()).toEqual(expected.sort());
    expect(listed).toEqual(
      expect.arrayContaining(['Client.InsufficientFreeAddressesInSubnet', 'InsufficientCidrBlocks', 'Client.PrivateIpAddressLimitExceeded', 'AttachmentLimitExceeded']),
    );
  });

  const alarm = (name: string, detailType = 'CloudWatch Alarm State Change') => ({ source: 'aws.cloudwatch', 'detail-type': detailType, detail: { alarmName: name } });

  it('select the stack’s alarms by exact name, whatever their detail-type', () => {
    const pattern = alarmStateChangePattern('eks-ip-responder-dev-');
    expect(matchesPattern(pattern, alarm('eks-ip-responder-dev-sampler-errors'))).toBe(true);
    expect(matchesPattern(pattern, alarm('eks-ip-responder-dev-subnet-free-ips-low', 'CloudWatch Alarm Contributor State Change'))).toBe(true);
    expect(matchesPattern(pattern, alarm('eks-ip-responder-prod-sampler-errors'))).toBe(false);
    expect(matchesPattern(pattern, alarm('eks-ip-responder-dev-sampler-errors', 'CloudWatch Alarm Configuration Change'))).toBe(false);
    expect(() => alarmStateChangePattern('')).toThrow(RangeError);
  });

  describe('of stage prod', () => {
    const prod = eventPatterns('eks-ip-responder-prod-').alarmStateChange;

    it.each(ANSWERED_ALARM_SUFFIXES)('select prod’s %s alarm, and its contributors', (suffix) => {
      expect(matchesPattern(prod, alarm(`eks-ip-responder-prod-${suffix}`))).toBe(true);
      expect(matchesPattern(prod, alarm(`eks-ip-responder-prod-${suffix}`, 'CloudWatch Alarm Contributor State Change'))).toBe(true);
    });

    it('deliver the pods-failing-ip-assignment alarm (issue 14) and its per-cluster contributors', () => {
      expect(ANSWERED_ALARM_SUFFIXES).toContain('pods-failing-ip-assignment');
      expect(matchesPattern(prod, alarm('eks-ip-responder-prod-pods-failing-ip-assignment', 'CloudWatch Alarm Contributor State Change'))).toBe(true);
    });

    it.each(STACK_ALARM_SUFFIXES)('do not select the %s alarm of stage prod-eu, whose names share prod’s prefix', (suffix) => {
      expect(matchesPattern(prod, alarm(`eks-ip-responder-prod-eu-${suffix}`))).toBe(false);
    });

    it('do not deliver prod’s sampler-slow and the quota alarms, which the responder does not answer', () => {
      expect(Object.keys(NOT_ANSWERED)).toEqual(['sampler-slow', 'eni-quota-high', 'network-address-usage-high']);
      for (const suffix of Object.keys(NOT_ANSWERED)) {
        expect(matchesPattern(prod, alarm(`eks-ip-responder-prod-${suffix}`))).toBe(false);
        expect(ANSWERED_ALARM_SUFFIXES).not.toContain(suffix);
      }
    });

    it('list every answered alarm of the stack, by its full name, and nothing else', () => {
      expect(prod.detail).toEqual({
        alarmName: STACK_ALARM_SUFFIXES.filter((s) => NOT_ANSWERED[s] === undefined).map((s) => `eks-ip-responder-prod-${s}`),
      });
    });

    it('agree with the parser: what the rule delivers is answered, what it does not is not the stack’s or not answered', () => {
      const opts = { alarmNamePrefix: 'eks-ip-responder-prod-', stackAlarms: { names: STACK_ALARM_SUFFIXES, unanswered: NOT_ANSWERED } };
      const names = [...STACK_ALARM_SUFFIXES.map((s) => `eks-ip-responder-prod-${s}`), ...STACK_ALARM_SUFFIXES.map((s) => `eks-ip-responder-prod-eu-${s}`)];
      for (const name of names) {
        const event = {
          version: '0',
          id: '0d4e5f60-1a2b-4c3d-8e9f-001122334455',
          'detail-type': 'CloudWatch Alarm State Change',
          source: 'aws.cloudwatch',
          account: '111122223333',
          time: '2026-11-26T09:50:12Z',
          region: 'eu-west-1',
          resources: [],
          detail: { alarmName: name, state: { value: 'ALARM', reason: 'r' }, previousState: { value: 'OK' } },
        };
        expect({ name, parsed: parseResponderEvent(event, opts).type }).toEqual({ name, parsed: matchesPattern(prod, event) ? 'alarm' : 'ignored' });
      }
    });
  });

  // The rules and the parser must agree: what a rule selects the parser acts on, and what the
  // parser would act on a rule selects.
  describe('agree with the parser', () => {
    const base = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'events', 'cloudtrail-insufficient-free-addresses.json'), 'utf8')) as {
      detail: Record<string, unknown>;
    };
    const params: Record<string, unknown> = {
      CreateNetworkInterface: { subnetId: 'subnet-0aaa' },
      AssignPrivateIpAddresses: { networkInterfaceId: 'eni-0aaa', secondaryPrivateIpAddressCount: 2 },
      AttachNetworkInterface: { networkInterfaceId: 'eni-0aaa', instanceId: 'i-0aaa' },
      RunInstances: { subnetId: 'subnet-0aaa' },
      AssignIpv6Addresses: { networkInterfaceId: 'eni-0aaa', ipv6AddressCount: 1 },
      AttachVolume: { volumeId: 'vol-0aaa', instanceId: 'i-0aaa', device: '/dev/xvdb' },
    };
    const autoScalingSample = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'events', 'autoscaling-launch-unsuccessful.json'), 'utf8')) as {
      detail: Record<string, unknown>;
    };
    const autoScalingEvent = (statusMessage: string) => {
      const event = structuredClone(autoScalingSample);
      event.detail.StatusMessage = statusMessage;
      return event;
    };
    const codes = [...Object.keys(EXHAUSTION_ERROR_CODES), 'InvalidParameterValue', 'NetworkInterfaceLimitExceeded', 'UnauthorizedOperation', 'InsufficientAddressCapacity'];
    const messages = ["There aren't sufficient free Ipv4 addresses or prefixes", 'Value (x) for parameter y is invalid.'];
    const cases = Object.keys(params).flatMap((eventName) =>
      codes.flatMap((code) => ['', 'Client.'].flatMap((p) => messages.map((errorMessage) => ({ eventName, errorCode: `${p}${code}`, errorMessage })))),
    );

    it.each(cases)('$eventName $errorCode "$errorMessage"', ({ eventName, errorCode, errorMessage }) => {
      const event = structuredClone(base);
      Object.assign(event.detail, { eventName, errorCode, errorMessage, requestParameters: params[eventName] });
      const selected = matchesPattern(CLOUDTRAIL_ALLOCATION_FAILURE_PATTERN, event);
      const parsed = parseResponderEvent(event, { alarmNamePrefix: 'eks-ip-responder-dev-' });
      expect(selected).toBe(parsed.type === 'allocation-failure');
    });

    it.each([
      ["There are not enough free addresses in subnet 'subnet-0aaa' to satisfy the requested number of instances.", true],
      ['The specified subnet does not have enough free addresses to satisfy the request.', true],
      ["There aren't sufficient free Ipv4 addresses or prefixes", true],
      ['InsufficientCidrBlocks - The specified subnet does not have enough free cidr blocks to satisfy the request.', true],
      ['We currently do not have sufficient m5.large capacity in the Availability Zone you requested (eu-west-1a).', false],
      [
        'Could not launch On-Demand Instances. InsufficientInstanceCapacity - We currently do not have sufficient m5.large capacity in the Availability Zone you requested (eu-west-1a). Our system will be working on provisioning additional capacity. You can currently get m5.large capacity by not specifying an Availability Zone in your request or choosing eu-west-1b, eu-west-1c. Launching EC2 instance failed.',
        false,
      ],
      ['Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot capacity available that matches your request. Launching EC2 instance failed.', false],
    ])('Auto Scaling "%s" selected: %s', (message, expected) => {
      const event = { source: 'aws.autoscaling', 'detail-type': 'EC2 Instance Launch Unsuccessful', detail: { StatusMessage: message } };
      expect(matchesPattern(AUTOSCALING_LAUNCH_FAILURE_PATTERN, event)).toBe(expected);
    });

    // The two wildcards must deliver whatever the five of before did (one per wording EC2 uses),
    // wherever the wording stands in the message...
    it.each(['free addresses', 'InsufficientFreeAddressesInSubnet', 'free Ipv4 addresses', 'InsufficientCidrBlocks', 'free cidr blocks'])(
      'Auto Scaling: a message with "%s" anywhere in it is selected',
      (wording) => {
        for (const message of [wording, `Launching EC2 instance failed: ${wording}.`, `${wording} - subnet-0aaa`]) {
          expect(matchesPattern(AUTOSCALING_LAUNCH_FAILURE_PATTERN, autoScalingEvent(message))).toBe(true);
        }
      },
    );

    // ...and so every wording the parser takes for exhaustion (exhaustion.ts LAUNCH_FAILURE_RULES).
    it.each(['free addresses', 'InsufficientFreeAddressesInSubnet', 'sufficient free Ipv4 addresses or prefixes', 'InsufficientCidrBlocks', 'free cidr blocks'])(
      'Auto Scaling: a message with "%s" anywhere in it is selected and parsed as exhaustion',
      (wording) => {
        for (const message of [wording, `Launching EC2 instance failed: ${wording}.`, `${wording} - subnet-0aaa`]) {
          const event = autoScalingEvent(message);
          expect(matchesPattern(AUTOSCALING_LAUNCH_FAILURE_PATTERN, event)).toBe(true);
          expect(parseResponderEvent(event, { alarmNamePrefix: 'eks-ip-responder-dev-' }).type).toBe('allocation-failure');
        }
      },
    );

    // A launch failure not about addresses is not delivered or, where the broader pattern lets
    // it through, ignored by the parser, which stays the one to decide.
    it.each([
      ['not delivered', 'Could not launch On-Demand Instances. InsufficientInstanceCapacity - We currently do not have sufficient m5.large capacity in the Availability Zone you requested (eu-west-1a). Launching EC2 instance failed.', false],
      [
        'delivered ("Free"), then ignored',
        "Could not launch On-Demand Instances. InvalidParameterCombination - The specified instance type is not eligible for Free Tier. For a list of Free Tier instance types, run 'describe-instance-types' with the filter 'free-tier-eligible=true'. Launching EC2 instance failed.",
        true,
      ],
    ])('Auto Scaling, a failure not about addresses: %s', (_how, message, delivered) => {
      const event = autoScalingEvent(message);
      expect(matchesPattern(AUTOSCALING_LAUNCH_FAILURE_PATTERN, event)).toBe(delivered);
      const parsed = parseResponderEvent(event, { alarmNamePrefix: 'eks-ip-responder-dev-' });
      expect(parsed.type).toBe('ignored');
    });
  });
});
