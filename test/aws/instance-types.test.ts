/**
 * The instance-type provider against aws-sdk-client-mock, DescribeInstanceTypes answered as EC2
 * answers it, with its cache on a clock the test moves: pagination, one call for repeated asks,
 * a known type kept for the container's life, an unknown one asked again after 10 minutes, the
 * bound on entries, and reset.
 */
import {
  DescribeInstanceTypesCommand,
  EC2Client,
  type DescribeInstanceTypesCommandInput,
  type InstanceTypeInfo,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { TtlCache } from '../../lib/aws/cache';
import { createInstanceTypeCache, Ec2InstanceTypeProvider, INSTANCE_TYPE_CACHE } from '../../lib/aws/instance-types';
import { AwsCallError } from '../../lib/errors';
import { ec2Error } from '../../tools/mock-aws';

const ec2Mock = mockClient(EC2Client);
beforeEach(() => ec2Mock.reset());
afterAll(() => ec2Mock.restore());

const MINUTE = 60_000;

/** An instance type as DescribeInstanceTypes returns it (the network part the responder reads). */
const typeInfo = (name: string): InstanceTypeInfo => ({
  InstanceType: name as InstanceTypeInfo['InstanceType'],
  CurrentGeneration: true,
  NetworkInfo: { MaximumNetworkInterfaces: 3, Ipv4AddressesPerInterface: 10, DefaultNetworkCardIndex: 0, NetworkCards: [{ NetworkCardIndex: 0, MaximumNetworkInterfaces: 3 }] },
});

/** Answers like EC2 in a region that offers `known`: InvalidInstanceType naming every other type asked. */
function region(known: Set<string>) {
  ec2Mock.on(DescribeInstanceTypesCommand).callsFake((input: DescribeInstanceTypesCommandInput) => {
    const asked = (input.InstanceTypes ?? []) as string[];
    const unknown = asked.filter((t) => !known.has(t));
    if (unknown.length > 0) throw ec2Error('InvalidInstanceType', `The following supplied instance types do not exist: [${unknown.join(', ')}]`);
    return { InstanceTypes: asked.map(typeInfo) };
  });
}
const asked = () => ec2Mock.commandCalls(DescribeInstanceTypesCommand).map((c) => (c.args[0].input.InstanceTypes ?? []) as string[]);

/** A provider whose cache runs on a clock the test moves. */
function provider() {
  const clock = { t: Date.parse('2026-11-26T12:00:00Z') };
  const cache = createInstanceTypeCache(() => clock.t);
  return { clock, cache, types: new Ec2InstanceTypeProvider(new EC2Client({}), cache) };
}

describe('Ec2InstanceTypeProvider', () => {
  it('reads every page of the answer, 100 types per request', async () => {
    ec2Mock
      .on(DescribeInstanceTypesCommand)
      .resolvesOnce({ InstanceTypes: [typeInfo('m5.large')], NextToken: 'p2' })
      .resolvesOnce({ InstanceTypes: [typeInfo('c6g.2xlarge')] });

    const { found, unknown } = await provider().types.get(['m5.large', 'c6g.2xlarge']);

    expect(found.map((t) => t.InstanceType)).toEqual(['m5.large', 'c6g.2xlarge']);
    expect(unknown).toEqual([]);
    const inputs = ec2Mock.commandCalls(DescribeInstanceTypesCommand).map((c) => c.args[0].input);
    expect(inputs).toHaveLength(2);
    expect(inputs[1]).toMatchObject({ MaxResults: 100, NextToken: 'p2' });
  });

  it('makes one call for repeated asks of the same types', async () => {
    region(new Set(['m5.large', 'c6g.2xlarge']));
    const { clock, types } = provider();

    await types.get(['m5.large', 'c6g.2xlarge']);
    clock.t += 9 * MINUTE;
    const again = await types.get(['c6g.2xlarge', 'm5.large', 'm5.large']);

    expect(asked()).toEqual([['m5.large', 'c6g.2xlarge']]);
    expect(again.found.map((t) => t.InstanceType)).toEqual(['c6g.2xlarge', 'm5.large']);
  });

  it("keeps a known type for the container's life: its limits never change", async () => {
    region(new Set(['m5.large']));
    const { clock, types } = provider();
    await types.get(['m5.large']);

    clock.t += 90 * 24 * 60 * MINUTE;
    await types.get(['m5.large']);

    expect(asked()).toHaveLength(1);
  });

  it('asks again for an unknown type after 10 minutes, so that a type launched since is picked up', async () => {
    region(new Set(['m5.large']));
    const { clock, types } = provider();
    expect((await types.get(['m5.large', 'm9.large'])).unknown).toEqual(['m9.large']);

    // Within 10 minutes: still unknown, nothing asked.
    clock.t += 10 * MINUTE - 1;
    expect((await types.get(['m9.large'])).unknown).toEqual(['m9.large']);
    const before = asked().length;

    // EC2 launches the type; 10 minutes after the first answer it is asked again, and found.
    region(new Set(['m5.large', 'm9.large']));
    clock.t += 1;
    const later = await types.get(['m5.large', 'm9.large']);

    expect(asked().slice(before)).toEqual([['m9.large']]);
    expect(later).toEqual({ found: [typeInfo('m5.large'), typeInfo('m9.large')], unknown: [] });
    expect(INSTANCE_TYPE_CACHE.unknownTtlMs).toBe(10 * MINUTE);
  });

  it('asks again for everything after reset', async () => {
    region(new Set(['m5.large']));
    const { types } = provider();
    await types.get(['m5.large', 'x9.huge']);

    types.reset();
    await types.get(['m5.large', 'x9.huge']);

    expect(asked().filter((a) => a.includes('m5.large'))).toHaveLength(4);
  });

  it('answers every type asked even when they outnumber the cache, and keeps at most its bound', async () => {
    const names = Array.from({ length: 5 }, (_, i) => `m${i}.large`);
    region(new Set(names));
    const cache = new TtlCache<string, InstanceTypeInfo | null>({ ttlMs: Number.POSITIVE_INFINITY, maxEntries: 3 });
    const types = new Ec2InstanceTypeProvider(new EC2Client({}), cache);

    const { found, unknown } = await types.get(names);

    expect(found.map((t) => t.InstanceType)).toEqual(names);
    expect(unknown).toEqual([]);
    expect(cache.size).toBe(3);
    // The most recent stay; an evicted type is asked again.
    await types.get(['m4.large', 'm0.large']);
    expect(asked().at(-1)).toEqual(['m0.large']);
  });

  it('remembers nothing of a failed request, and names the call and the types', async () => {
    ec2Mock.on(DescribeInstanceTypesCommand).rejectsOnce(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'));
    const { types } = provider();

    const err = await types.get(['m5.large']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    expect((err as Error).message).toBe('ec2:DescribeInstanceTypes for m5.large: UnauthorizedOperation: You are not authorized to perform this operation.');

    region(new Set(['m5.large']));
    await expect(types.get(['m5.large'])).resolves.toEqual({ found: [typeInfo('m5.large')], unknown: [] });
  });
});
