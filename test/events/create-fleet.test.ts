/**
 * Karpenter's CreateFleet (instant): the launch errors are in the response CloudTrail records, not in
 * `errorCode`. The rule selects and the parser reads exactly the exhaustion errors of `errorSet`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseResponderEvent, type ResponderEvent } from '../../lib/events/parse';
import { MalformedEventError } from '../../lib/events/parse/types';
import { EVENT_PATTERNS, matchesPattern } from '../../lib/events/patterns';
import { eventPatternComplexity } from '../../lib/events/pattern-complexity';

const SAMPLE = path.join(__dirname, '..', '..', 'events', 'cloudtrail-create-fleet-insufficient-free-addresses.json');
const opts = { alarmNamePrefix: 'eks-ip-responder-dev-' };

type Json = Record<string, unknown>;
const sample = (): Json => JSON.parse(readFileSync(SAMPLE, 'utf8')) as Json;
/** The sample with its `detail` changed by `edit`. */
function withDetail(edit: (detail: Json) => void): Json {
  const e = sample();
  edit(e['detail'] as Json);
  return e;
}
const response = (d: Json) => (d['responseElements'] as Json)['CreateFleetResponse'] as Json;
const items = (d: Json) => (response(d)['errorSet'] as Json)['item'] as Json[];
const rule = EVENT_PATTERNS.cloudTrailAllocationFailure;

function parsed(event: Json): ResponderEvent {
  return parseResponderEvent(event, opts);
}

describe('CreateFleet launch errors', () => {
  it('reads a single error item (CloudTrail writes one <item> as an object), with the Client. prefix', () => {
    const event = withDetail((d) => {
      const first = items(d)[0] as Json;
      first['errorCode'] = 'Client.InsufficientFreeAddressesInSubnet';
      (response(d)['errorSet'] as Json)['item'] = first;
    });
    expect(matchesPattern(rule, event)).toBe(true);
    expect(parsed(event)).toMatchObject({ type: 'allocation-failure', api: 'ec2:CreateFleet', errorCode: 'InsufficientFreeAddressesInSubnet', subnetIds: ['subnet-0e760afd646006f89'] });
  });

  it('takes every subnet that ran out, once, and InsufficientCidrBlocks as prefix space', () => {
    const event = withDetail((d) => {
      const [a, b] = items(d) as [Json, Json];
      b['errorCode'] = 'InsufficientFreeAddressesInSubnet';
      (response(d)['errorSet'] as Json)['item'] = [a, b, { ...a }];
    });
    expect(parsed(event)).toMatchObject({ subnetIds: ['subnet-0e760afd646006f89', 'subnet-05d4ff9aee437e93a'], kind: 'subnet-addresses' });
    const cidr = withDetail((d) => {
      (items(d)[0] as Json)['errorCode'] = 'InsufficientCidrBlocks';
    });
    expect(matchesPattern(rule, cidr)).toBe(true);
    expect(parsed(cidr)).toMatchObject({ kind: 'prefix-space', errorCode: 'InsufficientCidrBlocks' });
  });

  it('is not selected, and is ignored with the codes, when no error is about addresses', () => {
    const event = withDetail((d) => {
      (response(d)['errorSet'] as Json)['item'] = [items(d)[1]];
    });
    expect(matchesPattern(rule, event)).toBe(false);
    expect(parsed(event)).toMatchObject({ type: 'ignored', reason: 'ec2:CreateFleet errors InsufficientInstanceCapacity are not IPv4 address exhaustion' });
  });

  it('is not selected, and is ignored, when the fleet launched without errors', () => {
    const event = withDetail((d) => {
      delete response(d)['errorSet'];
    });
    expect(matchesPattern(rule, event)).toBe(false);
    expect(parsed(event)).toMatchObject({ type: 'ignored', reason: 'ec2:CreateFleet launched without errors' });
  });

  it('says so when CloudTrail omitted the response (over its size limit)', () => {
    const event = withDetail((d) => {
      d['responseElements'] = { omitted: true };
    });
    expect(matchesPattern(rule, event)).toBe(false);
    expect(parsed(event)).toMatchObject({ type: 'ignored', reason: expect.stringMatching(/omitted its responseElements/) });
  });

  it('rejects an error item of the wrong shape, naming the field', () => {
    const event = withDetail((d) => {
      (items(d)[0] as Json)['errorCode'] = 42;
    });
    const err = (() => {
      try {
        return parsed(event);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MalformedEventError);
    expect((err as MalformedEventError).path).toMatch(/^detail\.responseElements\.CreateFleetResponse\.errorSet\.item/);
  });

  it('still reads a failed CreateFleet (errorCode) as a failed call that allocates no address', () => {
    const event = withDetail((d) => {
      d['errorCode'] = 'Client.UnauthorizedOperation';
      d['responseElements'] = null;
    });
    expect(matchesPattern(rule, event)).toBe(false);
    expect(parsed(event)).toMatchObject({ type: 'ignored', reason: expect.stringMatching(/CreateFleet does not allocate IPv4/) });
  });

  it('takes the cluster from the request tags: eks:eks-cluster-name first, else kubernetes.io/cluster/<name>', () => {
    const k8sOnly = withDetail((d) => {
      const spec = (((d['requestParameters'] as Json)['CreateFleetRequest'] as Json)['TagSpecification'] as Json[])[0] as Json;
      spec['Tag'] = (spec['Tag'] as Json[]).filter((t) => t['Key'] !== 'eks:eks-cluster-name');
    });
    expect(parsed(k8sOnly)).toMatchObject({ clusterNameHint: 'events-karpenter' });
    const none = withDetail((d) => {
      d['requestParameters'] = null;
    });
    expect(parsed(none)).not.toHaveProperty('clusterNameHint');
  });

  it('adds nothing to the rule complexity (exact values only)', () => {
    const withoutBranch = {
      ...rule,
      detail: { ...(rule['detail'] as Json), $or: ((rule['detail'] as Json)['$or'] as Json[]).filter((b) => (b['eventName'] as string[])[0] !== 'CreateFleet') },
    };
    expect(eventPatternComplexity(rule as never)).toBe(eventPatternComplexity(withoutBranch as never));
  });
});
