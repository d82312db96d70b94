/**
 * Throttling is left to the SDK's retry strategy. aws-sdk-client-mock replaces `send` and so skips
 * the retry middleware; these tests stub the HTTP handler instead, so the real middleware stack
 * (deserializer, retry strategy) sees real EC2 Query and EKS REST-JSON error responses.
 */
import { Readable } from 'node:stream';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EKSClient } from '@aws-sdk/client-eks';
// ConfiguredRetryStrategy lives in @smithy/core/retry in this SDK (formerly @smithy/util-retry).
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { HttpResponse, type HttpRequest } from '@smithy/core/protocols';
import { LiveSource } from '../../lib/aws/live-source';
import { AwsCallError } from '../../lib/errors';

type Reply = { status: number; headers?: Record<string, string>; body: string };

/** A request handler that answers the replies in turn and records each request. */
function stubHttp(replies: Reply[]) {
  const requests: HttpRequest[] = [];
  const handler = {
    handle: async (request: HttpRequest) => {
      requests.push(request);
      const r = replies[requests.length - 1];
      if (!r) throw new Error(`unexpected request ${requests.length}`);
      return {
        response: new HttpResponse({ statusCode: r.status, headers: r.headers ?? {}, body: Readable.from([Buffer.from(r.body)]) }),
      };
    },
  };
  return { handler, requests };
}

const fastRetry = () => ({ maxAttempts: 3, retryStrategy: new ConfiguredRetryStrategy(3, () => 1) });

const ec2Throttled: Reply = {
  status: 503,
  headers: { 'content-type': 'text/xml;charset=UTF-8' },
  body:
    '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>' +
    '<Message>Request limit exceeded.</Message></Error></Errors><RequestID>5ec4e7b6-2f2c-4c1c-9d53-0f6d6a5b1c11</RequestID></Response>',
};
const ec2Enis: Reply = {
  status: 200,
  headers: { 'content-type': 'text/xml;charset=UTF-8' },
  body:
    '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeNetworkInterfacesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">' +
    '<requestId>0d9bbdf6-7b3b-4e5c-8a7e-1f0c2f3b4a5d</requestId><networkInterfaceSet><item>' +
    '<networkInterfaceId>eni-0a1b2c3d4e5f60718</networkInterfaceId><subnetId>subnet-0aaaaaaaaaaaaaaa1</subnetId>' +
    '<vpcId>vpc-0a1b2c3d4e5f60718</vpcId><availabilityZone>eu-west-1a</availabilityZone>' +
    '<description>aws-K8S-i-0123456789abcdef0</description><status>in-use</status>' +
    '<privateIpAddress>10.0.1.20</privateIpAddress><interfaceType>interface</interfaceType>' +
    '<privateIpAddressesSet><item><privateIpAddress>10.0.1.20</privateIpAddress><primary>true</primary></item></privateIpAddressesSet>' +
    '</item></networkInterfaceSet></DescribeNetworkInterfacesResponse>',
};
const eksThrottled: Reply = {
  status: 429,
  headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'ThrottlingException' },
  body: JSON.stringify({ message: 'Rate exceeded' }),
};

describe('throttling', () => {
  it('retries an EC2 RequestLimitExceeded and answers from the second attempt', async () => {
    const http = stubHttp([ec2Throttled, ec2Enis]);
    const ec2 = new EC2Client({ ...fastRetry(), requestHandler: http.handler });
    const src = new LiveSource({ ec2, eks: new EKSClient({}) }, 'eu-west-1');

    const enis = await src.describeNetworkInterfaces(['subnet-0aaaaaaaaaaaaaaa1']);

    expect(enis.map((e) => [e.NetworkInterfaceId, e.PrivateIpAddress])).toEqual([['eni-0a1b2c3d4e5f60718', '10.0.1.20']]);
    expect(http.requests).toHaveLength(2);
    expect(String(http.requests[0]?.body)).toContain('Action=DescribeNetworkInterfaces');
    expect(String(http.requests[0]?.body)).toContain('MaxResults=1000');
  });

  it('retries an EKS ThrottlingException and answers from the second attempt', async () => {
    const http = stubHttp([
      eksThrottled,
      { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clusters: ['prod', 'dev'] }) },
    ]);
    const eks = new EKSClient({ ...fastRetry(), requestHandler: http.handler });
    const src = new LiveSource({ ec2: new EC2Client({}), eks }, 'eu-west-1');

    await expect(src.listClusters()).resolves.toEqual(['prod', 'dev']);
    expect(http.requests).toHaveLength(2);
    expect(http.requests[0]?.query).toMatchObject({ maxResults: '100' });
  });

  it('gives up after maxAttempts with an AwsCallError that keeps the throttling code', async () => {
    const http = stubHttp([ec2Throttled, ec2Throttled, ec2Throttled]);
    const ec2 = new EC2Client({ ...fastRetry(), requestHandler: http.handler });
    const src = new LiveSource({ ec2, eks: new EKSClient({}) }, 'eu-west-1');

    const err = await src.describeNetworkInterfaces(['subnet-1']).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AwsCallError);
    expect(err).toMatchObject({ operation: 'ec2:DescribeNetworkInterfaces', code: 'RequestLimitExceeded' });
    expect(http.requests).toHaveLength(3);
  });
});
