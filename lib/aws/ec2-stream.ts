/**
 * The deployed functions' DescribeNetworkInterfaces and DescribeInstances pages, read straight from
 * the HTTP body into the trimmed shapes (lib/aws/trim.ts) by lib/aws/xml-stream.ts, instead of the
 * SDK's parse of the whole body into every field. Installed per command through the paginators'
 * `withCommand`; only 2xx answers are read here: errors go through the SDK's own deserialiser
 * (error names, $metadata, retries unchanged). How it hooks into the SDK: docs/architecture.md
 * "Ultra scale: streaming EC2 parse".
 */
import type { EC2PaginationConfiguration, Instance, NetworkInterface } from '@aws-sdk/client-ec2';
import type { DeserializeHandler, DeserializeHandlerArguments } from '@smithy/types';
import { regionEniOf } from '../inventory/region-limits';
import type { RegionEni } from '../inventory/types';
import { isKeptTag, trimInstance } from './trim';
import { readXml, shape, XmlStreamError, type Leaf, type Shape } from './xml-stream';

// The elements are the EC2 query protocol's xmlName of each member (@aws-sdk/client-ec2@3.1169.0
// dist-cjs schemas NetworkInterface$, NetworkInterfaceAttachment$, Instance$, …).
/** Where an ENI is attached: the instance, and its device and network card indexes. */
const ATTACHMENT_PLACE: [string, string, Leaf][] = [
  ['instanceId', 'InstanceId', 'S'],
  ['deviceIndex', 'DeviceIndex', 'n'],
  ['networkCardIndex', 'NetworkCardIndex', 'n'],
];

const TAG = shape(
  [
    ['key', 'Key', 'S'],
    ['value', 'Value', 'S'],
  ],
  undefined,
  { complete: true },
);

/** Each record complete (every key, in trimNetworkInterface's order), so an ENI's record is its trimmed shape as it is. */
const COMPLETE = { complete: true };

/**
 * An ENI as trimNetworkInterface makes it, built in place: its record and those of its addresses,
 * prefixes, attachment and tags have trimNetworkInterface's keys, so only the tags are filtered
 * (the streaming test compares the two page by page).
 */
const ENI = shape(
  [
    ['networkInterfaceId', 'NetworkInterfaceId', 's'],
    ['subnetId', 'SubnetId', 'S'],
    ['vpcId', 'VpcId', 'S'],
    ['availabilityZone', 'AvailabilityZone', 'S'],
    ['description', 'Description', 'S'],
    ['interfaceType', 'InterfaceType', 'S'],
    ['requesterId', 'RequesterId', 'S'],
    ['requesterManaged', 'RequesterManaged', 'b'],
    ['status', 'Status', 'S'],
    ['privateIpAddress', 'PrivateIpAddress', 's'],
    ['privateIpAddressesSet', 'PrivateIpAddresses', [shape([['privateIpAddress', 'PrivateIpAddress', 's'], ['primary', 'Primary', 'b']], undefined, COMPLETE)]],
    ['ipv4PrefixSet', 'Ipv4Prefixes', [shape([['ipv4Prefix', 'Ipv4Prefix', 's']], undefined, COMPLETE)]],
    ['attachment', 'Attachment', shape([...ATTACHMENT_PLACE, ['status', 'Status', 'S']], undefined, COMPLETE)],
    ['tagSet', 'TagSet', [TAG]],
  ],
  (e) => {
    const kept = (e as NetworkInterface).TagSet?.filter(isKeptTag);
    e['TagSet'] = kept && kept.length > 0 ? kept : undefined;
    return e;
  },
  COMPLETE,
);

const INSTANCE = shape(
  [
    ['instanceId', 'InstanceId', 'S'],
    ['instanceType', 'InstanceType', 'S'],
    ['subnetId', 'SubnetId', 'S'],
    ['vpcId', 'VpcId', 'S'],
    ['instanceState', 'State', shape([['name', 'Name', 'S']])],
    ['placement', 'Placement', shape([['availabilityZone', 'AvailabilityZone', 'S']])],
    ['privateIpAddress', 'PrivateIpAddress', 's'],
    ['tagSet', 'Tags', [TAG]],
    // Each ENI's id and subnet only: its address set, repeated from DescribeNetworkInterfaces, is skipped.
    ['networkInterfaceSet', 'NetworkInterfaces', [shape([['networkInterfaceId', 'NetworkInterfaceId', 's'], ['subnetId', 'SubnetId', 'S']])]],
    ['groupSet', 'SecurityGroups', [shape([['groupId', 'GroupId', 'S']])]],
  ],
  (i) => trimInstance(i as Instance),
);

/** The lists this module built: their items are trimmed already. */
const trimmedLists = new WeakSet<object>();

/** An item only counted (its object has no field). */
const COUNTED = shape([]);
const ASSOCIATION = shape([['publicIp', 'PublicIp', 's']]);
const PUBLIC_IP = shape([['association', 'Association', ASSOCIATION]]);

/** What regionEniOf reads of a region's ENI (the ENI quota and Network Address Usage): counts, not addresses. */
const REGION_ENI = shape(
  [
    ['networkInterfaceId', 'NetworkInterfaceId', 's'],
    ['vpcId', 'VpcId', 'S'],
    ['interfaceType', 'InterfaceType', 'S'],
    ['attachment', 'Attachment', shape(ATTACHMENT_PLACE)],
    ['privateIpAddress', 'PrivateIpAddress', 's'],
    ['association', 'Association', ASSOCIATION],
    ['privateIpAddressesSet', 'PrivateIpAddresses', [PUBLIC_IP]],
    ['ipv6AddressesSet', 'Ipv6Addresses', [COUNTED]],
    ['ipv4PrefixSet', 'Ipv4Prefixes', [COUNTED]],
    ['ipv6PrefixSet', 'Ipv6Prefixes', [COUNTED]],
  ],
  (e) => regionEniOf(e as NetworkInterface),
);

/** Each streamed read: the answer's root element and what is read of it. */
const ANSWERS = {
  DescribeNetworkInterfaces: {
    root: 'DescribeNetworkInterfacesResponse',
    shape: shape([
      ['networkInterfaceSet', 'NetworkInterfaces', [ENI]],
      ['nextToken', 'NextToken', 's'],
    ]),
  },
  DescribeInstances: {
    root: 'DescribeInstancesResponse',
    shape: shape([
      ['reservationSet', 'Reservations', [shape([['instancesSet', 'Instances', [INSTANCE]]])]],
      ['nextToken', 'NextToken', 's'],
    ]),
  },
  // The region's ENIs, each as regionEniOf makes it, under `RegionNetworkInterfaces` (see regionEnis).
  RegionNetworkInterfaces: {
    root: 'DescribeNetworkInterfacesResponse',
    shape: shape([
      ['networkInterfaceSet', 'RegionNetworkInterfaces', [REGION_ENI]],
      ['nextToken', 'NextToken', 's'],
    ]),
  },
} satisfies Record<string, { root: string; shape: Shape }>;

export type StreamedOperation = keyof typeof ANSWERS;

/** A streamed RegionNetworkInterfaces page's ENIs (undefined for a page the SDK parsed). */
export function regionEnis(page: object): RegionEni[] | undefined {
  const enis = (page as { RegionNetworkInterfaces?: RegionEni[] }).RegionNetworkInterfaces;
  return enis && trimmedLists.has(enis) ? enis : undefined;
}

/** Whether a page's list came from the streaming parse (its items are the trimmed shapes already). */
export function isTrimmed(list: readonly unknown[] | undefined): boolean {
  return list !== undefined && trimmedLists.has(list);
}

/** Reads one 2xx answer of `operation` from its body into the trimmed page (without $metadata). */
export async function readEc2Answer(operation: StreamedOperation, body: unknown): Promise<Record<string, unknown>> {
  const { root, shape: answer } = ANSWERS[operation];
  const page = await readXml(chunksOf(body), root, answer);
  for (const list of [page['NetworkInterfaces'], page['Reservations'], page['RegionNetworkInterfaces']]) if (Array.isArray(list)) trimmedLists.add(list);
  for (const r of (page['Reservations'] as { Instances?: unknown[] }[] | undefined) ?? []) if (r.Instances) trimmedLists.add(r.Instances);
  return page;
}

/** An HTTP body's chunks: a Node stream or web ReadableStream (async iterable), an array of chunks, or the whole body. */
function chunksOf(body: unknown): AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string> {
  if (typeof body === 'string' || body instanceof Uint8Array) return [body];
  if (Array.isArray(body)) return body as (Uint8Array | string)[];
  if (body && typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') return body as AsyncIterable<Uint8Array | string>;
  throw new XmlStreamError('the answer has no readable body');
}

/**
 * The paginators' `withCommand` (@smithy/core createPaginator → makePagedClientRequest) that reads
 * the command's 2xx answers with {@link readEc2Answer}. Two middlewares around the SDK's
 * `deserializerMiddleware` (@smithy/core/schema schemaDeserializationMiddleware, which the
 * client's schema serde plugin adds to every command): the inner one reads a 2xx body into the
 * page and hands the SDK an empty body, so the SDK still builds the output and its $metadata from
 * the status and headers (AwsQueryProtocol.deserializeResponse: an empty 2xx body is `{}`); the
 * outer one puts the page into that output. A 3xx-5xx answer passes untouched to the SDK.
 */
export function streamingEc2Pages(operation: StreamedOperation): NonNullable<EC2PaginationConfiguration['withCommand']> {
  return (command) => {
    let page: Record<string, unknown> | undefined;
    command.middlewareStack.addRelativeTo(
      (next: DeserializeHandler<object, object>) => async (args: DeserializeHandlerArguments<object>) => {
        const out = await next(args);
        const response = out.response as { statusCode?: number; body?: unknown };
        page = undefined;
        if (typeof response.statusCode === 'number' && response.statusCode >= 200 && response.statusCode < 300) {
          page = await readEc2Answer(operation, response.body);
          response.body = new Uint8Array(0);
        }
        return out;
      },
      { name: 'ec2StreamingRead', relation: 'after', toMiddleware: 'deserializerMiddleware' },
    );
    command.middlewareStack.addRelativeTo(
      (next: DeserializeHandler<object, object>) => async (args: DeserializeHandlerArguments<object>) => {
        const out = await next(args);
        if (page) {
          if (!out.output) throw new XmlStreamError(`the SDK built no output for the ${operation} page`);
          Object.assign(out.output, page);
        }
        page = undefined;
        return out;
      },
      { name: 'ec2StreamingPage', relation: 'before', toMiddleware: 'deserializerMiddleware' },
    );
    return command;
  };
}
