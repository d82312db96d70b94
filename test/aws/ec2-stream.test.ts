/**
 * The streaming read of DescribeNetworkInterfaces and DescribeInstances pages (lib/aws/ec2-stream.ts,
 * lib/aws/xml-stream.ts) against the SDK's own parse then lib/aws/trim.ts, over the wire emulator
 * (tools/wire.ts: the SDK's serialisers write the XML): page by page, at every chunk split, on
 * malformed answers, and through the SDK's retries.
 */
import { Readable } from 'node:stream';
import {
  DescribeNetworkInterfacesCommand,
  EC2Client,
  paginateDescribeInstances,
  paginateDescribeNetworkInterfaces,
  type DescribeInstancesCommandOutput,
  type DescribeNetworkInterfacesCommandOutput,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { isTrimmed, readEc2Answer, regionEnis, streamingEc2Pages } from '../../lib/aws/ec2-stream';
import { LiveSource } from '../../lib/aws/live-source';
import { trimInstance, trimNetworkInterface } from '../../lib/aws/trim';
import { XmlStreamError } from '../../lib/aws/xml-stream';
import { AwsEc2QueryProtocol } from '@aws-sdk/core/protocols';
import { collectInventory } from '../../lib/inventory/collect';
import { regionEniOf } from '../../lib/inventory/region-limits';
import { accountApi, ec2Error, type AccountApi } from '../../tools/mock-aws';
import { generateAccount, type SyntheticAccount } from '../../tools/synthetic-account';
import { startWireServer, type WireResponse, type WireServer } from '../../tools/wire';

const REGION = 'eu-west-1';
const NOW = new Date('2026-11-26T12:00:00Z');

/** A small account whose first ENIs and instances carry the edge cases the reader must get right. */
function makeAccount(): SyntheticAccount {
  const account = generateAccount({ clusters: 3, nodes: 30, subnetsPerCluster: 2, seed: 5, enisPerNode: 3 });
  const [a, b, c, d, e] = account.networkInterfaces;
  a!.Description = `a & b <c> "d" 'e' é € 𝄞 ]]> line\nbreak`;
  a!.TagSet = [...(a!.TagSet ?? []), { Key: 'eks:note', Value: 'x < y & z' }, { Key: 'team', Value: 'dropped' }, { Key: 'karpenter.sh/empty', Value: '' }];
  a!.Association = { PublicIp: '3.3.3.3' };
  a!.PrivateIpAddresses = a!.PrivateIpAddresses?.map((p, n) => (n === 0 ? { ...p, Association: { PublicIp: '3.3.3.3' } } : p));
  a!.Ipv6Addresses = [{ Ipv6Address: '2001:db8::1' }, { Ipv6Address: '2001:db8::2' }];
  a!.Ipv6Prefixes = [{ Ipv6Prefix: '2001:db8:1::/80' }];
  b!.TagSet = [];
  c!.Attachment = undefined;
  d!.PrivateIpAddresses = [];
  e!.Description = '';
  e!.Ipv4Prefixes = [{ Ipv4Prefix: '10.9.0.16/28' }, { Ipv4Prefix: '10.9.0.32/28' }];
  const [i] = account.instances;
  i!.Tags = [...(i!.Tags ?? []), { Key: 'eks:nodegroup-name', Value: 'ng &amp; <1>' }];
  return account;
}

function client(endpoint: string, maxAttempts = 1, requestHandler?: NodeHttpHandler): EC2Client {
  return new EC2Client({ endpoint, region: REGION, maxAttempts, credentials: { accessKeyId: 'AKID', secretAccessKey: 's' }, ...(requestHandler ? { requestHandler } : {}) });
}

async function all<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const p of pages) out.push(p);
  return out;
}

async function firstPage(pages: AsyncIterable<DescribeNetworkInterfacesCommandOutput>): Promise<DescribeNetworkInterfacesCommandOutput> {
  for await (const p of pages) return p;
  throw new Error('no page');
}

describe('the streaming EC2 read', () => {
  let account: SyntheticAccount;
  let api: AccountApi;
  let server: WireServer;
  let bodies: WireResponse[];
  beforeEach(async () => {
    account = makeAccount();
    api = accountApi(account);
    bodies = [];
    server = await startWireServer(api, { onResponse: (r) => bodies.push(r) });
  });
  afterEach(async () => {
    await server.stop();
  });

  it('gives, page by page, the DescribeNetworkInterfaces pages of the SDK parse then trimNetworkInterface', async () => {
    const ec2 = client(server.endpoint);
    const sdk = await all(paginateDescribeNetworkInterfaces({ client: ec2, pageSize: 7 }, {}));
    const streamed = await all(paginateDescribeNetworkInterfaces({ client: ec2, pageSize: 7, withCommand: streamingEc2Pages('DescribeNetworkInterfaces') }, {}));
    expect(streamed.length).toBeGreaterThan(3);
    expect(streamed).toHaveLength(sdk.length);
    streamed.forEach((page, n) => {
      const want = sdk[n]!;
      // The streaming read built these lists (not the SDK, whose lists this module never marks).
      expect(isTrimmed(page.NetworkInterfaces)).toBe(true);
      expect(isTrimmed(want.NetworkInterfaces)).toBe(false);
      expect(page.NetworkInterfaces).toStrictEqual(want.NetworkInterfaces?.map(trimNetworkInterface));
      expect(page.NextToken).toBe(want.NextToken);
      expect(page.$metadata).toMatchObject({ httpStatusCode: 200, attempts: 1 });
      expect(page.$metadata.requestId).toEqual(expect.any(String));
    });
    // The edge cases are in the answers compared.
    const enis = streamed.flatMap((p) => p.NetworkInterfaces ?? []);
    const first = enis.find((e) => e.NetworkInterfaceId === account.networkInterfaces[0]!.NetworkInterfaceId)!;
    expect(first.Description).toBe(account.networkInterfaces[0]!.Description);
    expect(first.TagSet).toContainEqual({ Key: 'eks:note', Value: 'x < y & z' });
    expect(first.TagSet).toContainEqual({ Key: 'karpenter.sh/empty', Value: '' });
    expect(first.TagSet?.some((t) => t.Key === 'team')).toBe(false);
    expect(enis.some((e) => e.Attachment === undefined)).toBe(true);
    expect(enis.some((e) => typeof e.Attachment?.DeviceIndex === 'number' && e.Attachment.DeviceIndex > 0)).toBe(true);
    expect(enis.some((e) => e.PrivateIpAddresses?.length === 0)).toBe(true);
    expect(enis.some((e) => e.RequesterManaged === true)).toBe(true);
    expect(enis.some((e) => (e.Ipv4Prefixes?.length ?? 0) > 0)).toBe(true);
    expect(enis.length).toBe(account.networkInterfaces.length);
  });

  it('gives, page by page, the DescribeInstances pages of the SDK parse then trimInstance', async () => {
    const ec2 = client(server.endpoint);
    const sdk = await all(paginateDescribeInstances({ client: ec2, pageSize: 6 }, {}));
    const streamed = await all(paginateDescribeInstances({ client: ec2, pageSize: 6, withCommand: streamingEc2Pages('DescribeInstances') }, {}));
    expect(streamed.length).toBeGreaterThan(3);
    expect(streamed).toHaveLength(sdk.length);
    const trimmed = (p: DescribeInstancesCommandOutput) => (p.Reservations ?? []).map((r) => (r.Instances ?? []).map(trimInstance));
    streamed.forEach((page, n) => {
      expect(page.Reservations?.every((r) => isTrimmed(r.Instances))).toBe(true);
      expect((page.Reservations ?? []).map((r) => r.Instances)).toStrictEqual(trimmed(sdk[n]!));
      expect(page.NextToken).toBe(sdk[n]!.NextToken);
    });
    const instances = streamed.flatMap((p) => (p.Reservations ?? []).flatMap((r) => r.Instances ?? []));
    expect(instances).toHaveLength(account.instances.length);
    expect(instances[0]!.Tags).toContainEqual({ Key: 'eks:nodegroup-name', Value: 'ng &amp; <1>' });
    expect(instances.every((i) => i.State?.Name && i.Placement?.AvailabilityZone && (i.NetworkInterfaces?.length ?? 0) > 0)).toBe(true);
    // Each instance's ENIs: id and subnet only (the address sets are skipped).
    expect(Object.keys(instances[0]!.NetworkInterfaces![0]!).sort()).toEqual(['NetworkInterfaceId', 'SubnetId']);
  });

  it("gives the region's ENIs (the ENI quota read) as regionEniOf of the SDK parse, page by page", async () => {
    const ec2 = client(server.endpoint);
    // (A paginator writes the next token into its input: one input each.)
    const sdk = await all(paginateDescribeNetworkInterfaces({ client: ec2, pageSize: 9 }, { IncludeManagedResources: true }));
    const streamed = await all(
      paginateDescribeNetworkInterfaces({ client: ec2, pageSize: 9, withCommand: streamingEc2Pages('RegionNetworkInterfaces') }, { IncludeManagedResources: true }),
    );
    expect(streamed.length).toBeGreaterThan(3);
    expect(streamed).toHaveLength(sdk.length);
    streamed.forEach((page, n) => {
      expect(regionEnis(sdk[n]!)).toBeUndefined();
      expect(regionEnis(page)).toStrictEqual((sdk[n]!.NetworkInterfaces ?? []).map(regionEniOf));
      expect(page.NextToken).toBe(sdk[n]!.NextToken);
    });
    const enis = streamed.flatMap((p) => regionEnis(p) ?? []);
    expect(enis).toHaveLength(account.networkInterfaces.length);
    expect(enis[0]).toMatchObject({ publicIpv4: 1, ipv6: 2, ipv6Prefixes: 1 });
    expect(enis.some((e) => e.ipv4Prefixes > 0 && e.instanceDeviceIndex !== undefined)).toBe(true);
  });

  it('reads the same page whatever the chunks: split at every byte', async () => {
    const ec2 = client(server.endpoint);
    // A small page: the ENI with entities and multi-byte characters, and one with prefixes.
    const ids = [0, 4].map((n) => account.networkInterfaces[n]!.NetworkInterfaceId!);
    await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'network-interface-id', Values: ids }] }));
    const body = bodies[0]!.body;
    expect(body.toString('utf8')).toContain('€');
    const whole = await readEc2Answer('DescribeNetworkInterfaces', body);
    expect((whole['NetworkInterfaces'] as { NetworkInterfaceId: string }[]).map((e) => e.NetworkInterfaceId)).toEqual(ids);
    for (let k = 1; k < body.length; k++) {
      const split = await readEc2Answer('DescribeNetworkInterfaces', [body.subarray(0, k), body.subarray(k)]);
      if (JSON.stringify(split) !== JSON.stringify(whole)) expect({ k, split }).toStrictEqual({ k, split: whole });
    }
    // One byte a chunk, from a stream.
    const bytes = Array.from(body, (b) => Uint8Array.of(b));
    expect(await readEc2Answer('DescribeNetworkInterfaces', Readable.from(bytes))).toStrictEqual(whole);
  });

  it('throws a clear error for a truncated, malformed or other answer, never a partial page', async () => {
    const ec2 = client(server.endpoint);
    await ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 5 }));
    const xml = bodies[0]!.body.toString('utf8');
    const read = (s: string) => readEc2Answer('DescribeNetworkInterfaces', Readable.from([Buffer.from(s)]));
    // Cut anywhere (in a tag, in a text, between elements, before the root's end): truncated.
    for (const at of [xml.indexOf('<networkInterfaceSet>') + 5, xml.indexOf('</description>') - 2, xml.indexOf('</item>') + 7, xml.lastIndexOf('</'), xml.length - 1]) {
      await expect(read(xml.slice(0, at))).rejects.toThrow(XmlStreamError);
      await expect(read(xml.slice(0, at))).rejects.toThrow(/truncated/);
    }
    await expect(read(xml.replace('</subnetId>', '</subnetid>'))).rejects.toThrow(/mismatched tags <subnetId> and <\/subnetid>/);
    await expect(read(xml.replace('<vpcId>', '< vpcId>'))).rejects.toThrow(/malformed tag/);
    await expect(read(xml.replace('</vpcId>', '&bogus;</vpcId>'))).rejects.toThrow(/unknown or unterminated entity/);
    await expect(read(xml.replaceAll('DescribeNetworkInterfacesResponse', 'DescribeInstancesResponse'))).rejects.toThrow(
      /expected a <DescribeNetworkInterfacesResponse> document, got <DescribeInstancesResponse>/,
    );
    await expect(read(`${xml}<extra/>`)).rejects.toThrow(/after the root element/);
    await expect(read(`${xml}junk`)).rejects.toThrow(/text outside the root element/);
    await expect(read('')).rejects.toThrow(/truncated: no <DescribeNetworkInterfacesResponse>/);
  });

  it('reports a truncated answer as the read\'s CollectionProblem in the cycle, and the rest goes on', async () => {
    // The wire server's answers, each DescribeNetworkInterfaces body cut in half on its way to the client.
    const real = new NodeHttpHandler();
    const cutting = Object.assign(Object.create(real) as NodeHttpHandler, {
      handle: async (request: Parameters<NodeHttpHandler['handle']>[0], options?: Parameters<NodeHttpHandler['handle']>[1]) => {
        const out = await real.handle(request, options);
        if (String(request.body).includes('Action=DescribeNetworkInterfaces')) {
          const chunks: Buffer[] = [];
          for await (const c of out.response.body as Readable) chunks.push(c as Buffer);
          const body = Buffer.concat(chunks);
          out.response.body = Readable.from([body.subarray(0, body.length >> 1)]);
        }
        return out;
      },
    });
    const eks = new EKSClient({ endpoint: server.endpoint, region: REGION, maxAttempts: 1, credentials: { accessKeyId: 'AKID', secretAccessKey: 's' } });
    const inv = await collectInventory(new LiveSource({ ec2: client(server.endpoint, 3, cutting), eks }, REGION, 'measured'), { clusterNames: [], concurrency: 2, now: NOW });
    expect(inv.clusters).toHaveLength(3);
    for (const c of inv.clusters) {
      expect(c.problems).toContainEqual(expect.objectContaining({ source: 'ec2:DescribeNetworkInterfaces', message: expect.stringMatching(/truncated/) as unknown }));
      // The instances were read.
      expect(c.instances?.length ?? 0).toBeGreaterThan(0);
    }
    // A malformed answer is not retried (as the SDK's own parse error is not): one request per read.
    expect(api.calls['DescribeNetworkInterfaces']).toBe(3);
  });

  it('leaves errors to the SDK: a throttled request is retried, then the page is streamed; a denial keeps its name and $metadata', async () => {
    api.faults['DescribeNetworkInterfaces'] = (_input, n) => (n === 1 ? ec2Error('RequestLimitExceeded', 'Request limit exceeded.') : undefined);
    const ec2 = client(server.endpoint, 3);
    const out = await firstPage(paginateDescribeNetworkInterfaces({ client: ec2, pageSize: 5, withCommand: streamingEc2Pages('DescribeNetworkInterfaces') }, {}));
    expect(isTrimmed(out.NetworkInterfaces)).toBe(true);
    expect(out.NetworkInterfaces).toHaveLength(5);
    expect(out.$metadata.attempts).toBe(2);
    expect(api.calls['DescribeNetworkInterfaces']).toBe(2);

    const denied = Object.assign(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'), { $metadata: { httpStatusCode: 403 } });
    api.faults['DescribeNetworkInterfaces'] = () => denied;
    const failure = async (withCommand?: ReturnType<typeof streamingEc2Pages>) =>
      firstPage(paginateDescribeNetworkInterfaces({ client: ec2, pageSize: 5, ...(withCommand ? { withCommand } : {}) }, {})).then(
        () => undefined,
        (err: unknown) => err as { name: string; message: string; $fault: string; $metadata: { httpStatusCode: number; attempts: number } },
      );
    const plain = await failure();
    const streamedErr = await failure(streamingEc2Pages('DescribeNetworkInterfaces'));
    expect(streamedErr).toMatchObject({ name: 'UnauthorizedOperation', message: plain!.message, $fault: plain!.$fault });
    expect(streamedErr!.$metadata).toMatchObject({ httpStatusCode: 403, attempts: 1 });
    expect(plain!.$metadata).toMatchObject({ httpStatusCode: 403, attempts: 1 });
  });
});

describe('the streaming read against the SDK deserialiser on hand-written XML', () => {
  // The EC2 client's protocol, as its runtime config builds it (@aws-sdk/client-ec2 dist-cjs runtimeConfig.shared).
  const protocol = new AwsEc2QueryProtocol({ defaultNamespace: 'com.amazonaws.ec2', xmlNamespace: 'http://ec2.amazonaws.com/doc/2016-11-15/', version: '2016-11-15' });
  // Its XmlShapeDeserializer (protected), as scripts/bench/xml-floor.ts reads it.
  const deserializer = (protocol as unknown as { deserializer: { read(schema: unknown, bytes: Uint8Array): Promise<unknown> } }).deserializer;
  const sdkRead = async (xml: string) =>
    (await deserializer.read((new DescribeNetworkInterfacesCommand({}) as unknown as { schema: unknown[] }).schema[5], Buffer.from(xml))) as {
      NetworkInterfaces?: NetworkInterface[];
      NextToken?: string;
    };

  it('reads white space, entities, references, CDATA, comments, booleans, numbers and empty elements as the SDK does', async () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<DescribeNetworkInterfacesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r-1</requestId>
  <networkInterfaceSet>
    <item>
      <networkInterfaceId>eni-1</networkInterfaceId>
      <description>  two  spaces &amp; &lt;tags&gt; &quot;q&quot; &apos;a&apos; &#65;&#x42; </description>
      <status>
      </status>
      <requesterManaged>TRUE</requesterManaged>
      <attachment/>
      <tagSet/>
      <privateIpAddressesSet></privateIpAddressesSet>
    </item>
    <item>
      <networkInterfaceId><![CDATA[eni-<2>]]></networkInterfaceId>
      <description></description>
      <requesterManaged>false</requesterManaged>
      <attachment><instanceId>i-1</instanceId><deviceIndex>2</deviceIndex><networkCardIndex>1</networkCardIndex><status>attached</status><attachTime>2026-01-01T00:00:00Z</attachTime></attachment>
      <tagSet><item><key>eks:a</key><value/></item><item><key>eks:b</key></item><item><key>other</key><value>x</value></item></tagSet>
      <privateIpAddressesSet><item><privateIpAddress>10.0.0.1</privateIpAddress><primary>true</primary><association><publicIp>1.2.3.4</publicIp></association></item></privateIpAddressesSet>
      <ipv4PrefixSet><item><ipv4Prefix>10.0.1.0/28</ipv4Prefix></item></ipv4PrefixSet>
    </item>
  </networkInterfaceSet>
  <nextToken/>
</DescribeNetworkInterfacesResponse>
`;
    const sdk = await sdkRead(xml);
    const streamed = await readEc2Answer('DescribeNetworkInterfaces', Buffer.from(xml));
    expect(streamed['NetworkInterfaces']).toStrictEqual(sdk.NetworkInterfaces?.map(trimNetworkInterface));
    expect(streamed['NextToken']).toBe(sdk.NextToken);
    // What that means, for the record.
    const [one, two] = streamed['NetworkInterfaces'] as NetworkInterface[];
    expect(one).toMatchObject({ Description: `  two  spaces & <tags> "q" 'a' AB `, Status: '', RequesterManaged: true, PrivateIpAddresses: [] });
    expect(two).toMatchObject({ NetworkInterfaceId: 'eni-<2>', Description: '', Attachment: { InstanceId: 'i-1', DeviceIndex: 2, NetworkCardIndex: 1, Status: 'attached' } });
    expect(streamed['NextToken']).toBe('');
  });
});

