/**
 * The EC2 Describe* pacer (lib/aws/pacer.ts): a burst, then the rate, per API, every attempt
 * (retries included), and no other request waits. The client is real, its HTTP handler stubbed,
 * on a virtual clock.
 */
import { Readable } from 'node:stream';
import { DescribeNetworkInterfacesCommand, DescribeSubnetsCommand, EC2Client, GetSubnetCidrReservationsCommand, ModifyNetworkInterfaceAttributeCommand } from '@aws-sdk/client-ec2';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { HttpResponse, type HttpRequest } from '@smithy/core/protocols';
import { ec2ReadPace, paceReads, Pacer, type PaceClock } from '../../lib/aws/pacer';
import { createAwsClients } from '../../lib/aws/clients';
import { withPaceShare } from '../../lib/runtime';
import { parseDescribePace, parseRuntimeConfig } from '../../lib/config';
import { paceShareOf } from '../../stack/fanout';

/** A clock whose sleeps move time on at once. */
function virtualClock(): PaceClock & { slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
}

const xml = (action: string, inner = ''): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>${inner}</${action}Response>`;
const throttled =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>';

/** An EC2 client on a stubbed handler: each request's action and the virtual time it left at. */
function pacedClient(clock: PaceClock & { now(): number }, limits = { perSecond: 5, burst: 20 }, replies?: (n: number) => { status: number; body: string }) {
  const sent: { action: string; at: number }[] = [];
  const handler = {
    handle: async (request: HttpRequest) => {
      const action = new URLSearchParams(String(request.body)).get('Action') ?? '?';
      sent.push({ action, at: clock.now() });
      const r = replies?.(sent.length) ?? { status: 200, body: xml(action) };
      return { response: new HttpResponse({ statusCode: r.status, headers: { 'content-type': 'text/xml' }, body: Readable.from([Buffer.from(r.body)]) }) };
    },
  };
  const client = new EC2Client({ region: 'eu-west-1', requestHandler: handler, maxAttempts: 3, retryStrategy: new ConfiguredRetryStrategy(3, () => 1) });
  paceReads(client, ec2ReadPace(limits), clock);
  return { client, sent };
}

describe('Pacer', () => {
  it('lets a burst go at once, then one request per interval, in arrival order', () => {
    const clock = virtualClock();
    const pacer = new Pacer({ perSecond: 2, burst: 3 }, clock);
    expect(Array.from({ length: 6 }, () => pacer.reserve('DescribeSubnets'))).toEqual([0, 0, 0, 500, 1000, 1500]);
  });

  it('keeps one bucket per API', () => {
    const pacer = new Pacer({ perSecond: 2, burst: 1 }, virtualClock());
    expect([pacer.reserve('DescribeSubnets'), pacer.reserve('DescribeSubnets'), pacer.reserve('DescribeInstances')]).toEqual([0, 500, 0]);
  });

  it('refills while nothing is asked, up to the burst', () => {
    let t = 0;
    const pacer = new Pacer({ perSecond: 10, burst: 2 }, { now: () => t, sleep: async () => undefined });
    expect([pacer.reserve('a'), pacer.reserve('a'), pacer.reserve('a')]).toEqual([0, 0, 100]);
    t = 10_000;
    expect([pacer.reserve('a'), pacer.reserve('a'), pacer.reserve('a')]).toEqual([0, 0, 100]);
  });

  it('refuses a pace that would never let a request go', () => {
    expect(() => new Pacer({ perSecond: 0, burst: 5 })).toThrow(/perSecond > 0/);
    expect(() => new Pacer({ perSecond: 1, burst: 0 })).toThrow(/burst >= 1/);
  });
});

describe('paceReads', () => {
  it('sends 20 Describe* requests at once and then 5 a second, per API; a write is not paced', async () => {
    const clock = virtualClock();
    const { client, sent } = pacedClient(clock);
    for (let i = 0; i < 23; i++) await client.send(new DescribeNetworkInterfacesCommand({ MaxResults: 1000 }));
    await client.send(new DescribeSubnetsCommand({}));
    await client.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: 'eni-1', SourceDestCheck: { Value: false } }));
    const enis = sent.filter((s) => s.action === 'DescribeNetworkInterfaces').map((s) => s.at);
    expect(enis.slice(0, 20)).toEqual(Array(20).fill(0));
    expect(enis.slice(20)).toEqual([200, 400, 600]);
    // Its own bucket: the first DescribeSubnets does not wait behind the ENI reads.
    expect(clock.slept).toEqual([200, 200, 200]);
    expect(sent.map((s) => s.action).slice(-2)).toEqual(['DescribeSubnets', 'ModifyNetworkInterfaceAttribute']);
  });

  it('paces GetSubnetCidrReservations in its own bucket at three times the Describe* rate', async () => {
    const clock = virtualClock();
    const { client, sent } = pacedClient(clock, { perSecond: 5, burst: 2 });
    for (let i = 0; i < 4; i++) await client.send(new GetSubnetCidrReservationsCommand({ SubnetId: `subnet-${i}` }));
    await client.send(new DescribeSubnetsCommand({}));
    expect(sent.map((s) => [s.action, Math.round(s.at)])).toEqual([
      ['GetSubnetCidrReservations', 0],
      ['GetSubnetCidrReservations', 0],
      ['GetSubnetCidrReservations', 67],
      ['GetSubnetCidrReservations', 133],
      ['DescribeSubnets', 133],
    ]);
  });

  it("runs a fan-out item at its share of the pace, and the container's next invocation at the whole pace again", async () => {
    const clock = virtualClock();
    const sent: number[] = [];
    const handler = {
      handle: async () => {
        sent.push(clock.now());
        return { response: new HttpResponse({ statusCode: 200, headers: { 'content-type': 'text/xml' }, body: Readable.from([Buffer.from(xml('DescribeSubnets'))]) }) };
      },
    };
    const client = new EC2Client({ region: 'eu-west-1', requestHandler: handler });
    const pace = paceReads(client, ec2ReadPace({ perSecond: 5, burst: 20 }), clock);
    const rt = { readPace: pace };
    await withPaceShare(rt, 0.1, async () => {
      for (let i = 0; i < 4; i++) await client.send(new DescribeSubnetsCommand({}));
    });
    // 0.5 a second after 2: the third and fourth wait 2 s each.
    expect(sent).toEqual([0, 0, 2000, 4000]);
    clock.slept.length = 0;
    for (let i = 0; i < 20; i++) await client.send(new DescribeSubnetsCommand({}));
    expect(clock.slept).toEqual([]);
    // A failed item gives the whole pace back too: after a refill, 20 at once again.
    await expect(withPaceShare(rt, 0.1, async () => Promise.reject(new Error('item failed')))).rejects.toThrow('item failed');
    await clock.sleep(10_000);
    clock.slept.length = 0;
    for (let i = 0; i < 20; i++) await client.send(new DescribeSubnetsCommand({}));
    expect(clock.slept).toEqual([]);
    expect(() => pace.share(0)).toThrow(/above 0/);
  });

  it('paces every attempt: a throttled request retried takes a token again', async () => {
    const clock = virtualClock();
    const { client, sent } = pacedClient(clock, { perSecond: 1, burst: 1 }, (n) => (n === 1 ? { status: 503, body: throttled } : { status: 200, body: xml('DescribeSubnets') }));
    await client.send(new DescribeSubnetsCommand({}));
    expect(sent.map((s) => s.at)).toEqual([0, 1000]);
  });

  it('is on the functions\' EC2 client (createAwsClients with a pace), and only then', () => {
    const names = (c: EC2Client) => c.middlewareStack.identify().join(' ');
    expect(names(createAwsClients('eu-west-1', undefined, { perSecond: 5, burst: 20 }).ec2)).toMatch(/ec2ReadPacer/);
    expect(names(createAwsClients('eu-west-1').ec2)).not.toMatch(/ec2ReadPacer/);
  });
});

describe('the pace configuration', () => {
  it('defaults to 5 a second after 20, and names a bad value', () => {
    expect(parseDescribePace({})).toEqual({ perSecond: 5, burst: 20 });
    expect(parseDescribePace({ EC2_DESCRIBES_PER_SECOND: '0.5', EC2_DESCRIBE_BURST: '2' })).toEqual({ perSecond: 0.5, burst: 2 });
    expect(() => parseDescribePace({ EC2_DESCRIBES_PER_SECOND: '0' })).toThrow(/EC2_DESCRIBES_PER_SECOND/);
    expect(() => parseDescribePace({ EC2_DESCRIBE_BURST: '500' })).toThrow(/EC2_DESCRIBE_BURST/);
    expect(() => parseRuntimeConfig({ EC2_DESCRIBE_BURST: 'x' })).toThrow(/EC2_DESCRIBE_BURST/);
  });

  it('gives a fan-out item 1 / MaxConcurrency of the pace', () => {
    expect(paceShareOf(10)).toBe(0.1);
    expect(paceShareOf(40)).toBe(0.025);
    expect(paceShareOf(10_000)).toBe(0.0001);
    expect(paceShareOf(3)).toBe(0.333333);
  });
});
