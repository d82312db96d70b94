/**
 * The wire emulator (test/support/wire.ts) against the real SDK clients over HTTP: what the
 * pipeline reads and writes through it must equal what it reads and writes through the mocks,
 * so that the benchmark's memory run (the deployed bundle against this server) measures the
 * same cycle the tests check.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient, CloudWatchServiceException, GetMetricDataCommand, type PutMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { DescribeInstanceTypesCommand, DescribeNetworkInterfacesCommand, DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { XmlShapeSerializer } from '@aws-sdk/core/protocols';
import { PublishCommand, SNSClient, SNSServiceException, type PublishCommandInput } from '@aws-sdk/client-sns';
import { makeHandler } from '../../handlers/sample';
import type { AwsClients } from '../../lib/aws/clients';
import { LiveSource } from '../../lib/aws/live-source';
import * as xmlStream from '../../lib/aws/xml-stream';
import { AwsRegionLimits } from '../../lib/aws/region-limits';
import { parseRuntimeConfig } from '../../lib/config';
import { collectInventory } from '../../lib/inventory/collect';
import { ENI_QUOTA } from '../../lib/inventory/region-limits';
import { assembleRuntime, type Runtime } from '../../lib/runtime';
import { createLedgerTable, dynaliteClient } from '../../tools/dynalite';
import { accountApi, ec2Error, emulateAccount, type AccountApi, type EmulatedAccount } from '../../tools/mock-aws';
import { generateAccount, type SyntheticAccount } from '../../tools/synthetic-account';
import { decodeQuery, startWireServer, type WireResponse, type WireServer } from '../../tools/wire';
import { useTestHarness } from '../support/harness';
import { makeWireAccount, WIRE_ACCOUNT_OPTIONS } from '../support/wire-account';

const NOW = new Date('2026-11-26T12:00:00Z');
const REGION = 'eu-west-1';

const harness = useTestHarness();
let tables = 0;

/**
 * The same account through the mocks, for comparison. Its own client instances are mocked, not
 * the client classes: the wire clients stay real, and a test that times out before restoring
 * leaves no mock on the classes (the harness restores it after each test).
 */
function emulated(account: SyntheticAccount): EmulatedAccount {
  const aws = emulateAccount(account, { instancesOnly: true });
  harness.track(aws);
  return aws;
}

function wireClients(endpoint: string, maxAttempts = 1): AwsClients {
  const config = { endpoint, region: REGION, maxAttempts };
  return { ec2: new EC2Client(config), eks: new EKSClient(config), cloudwatch: new CloudWatchClient(config), sns: new SNSClient(config) };
}

function history(account: SyntheticAccount, into: AccountApi['history']): void {
  for (const c of account.clusters) {
    for (const id of c.resourcesVpcConfig?.subnetIds ?? []) {
      into.set(
        `SubnetAvailableIps/${c.name}/${id}`,
        Array.from({ length: 48 }, (_, i) => ({ t: new Date(NOW.getTime() - (48 - i) * 300_000), value: 500 - i * 3 })),
      );
    }
  }
}

async function runtimeOn(clients: AwsClients, account: SyntheticAccount): Promise<Runtime> {
  const raw = dynaliteClient(harness.db.endpoint);
  const table = `wire-${process.pid}-${++tables}`;
  await createLedgerTable(raw, table);
  return assembleRuntime({
    config: parseRuntimeConfig({
      METRIC_NAMESPACE: 'Test/IP',
      ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:test-alerts',
      LEDGER_TABLE: table,
      STAGE: 'test',
      POLICY_JSON: process.env.POLICY_JSON ?? '',
    }),
    clients,
    region: account.region,
    dynamo: raw,
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    now: () => NOW,
    sleep: async () => {},
  });
}

const snsError = (name: string, message: string) =>
  new SNSServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 403 }, message });
const cloudWatchError = (name: string, message: string) =>
  new CloudWatchServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400 }, message });

describe('the wire emulator', () => {
  let account: SyntheticAccount;
  let api: AccountApi;
  let server: WireServer;
  beforeEach(async () => {
    account = makeWireAccount();
    api = accountApi(account);
    server = await startWireServer(api);
  });
  afterEach(async () => {
    await server.stop();
  });

  it('gives the collector the same inventory as the mocks, in the same calls', async () => {
    const clients = wireClients(server.endpoint);
    const streamed = jest.spyOn(xmlStream, 'readXml');
    const overWire = await collectInventory(new LiveSource(clients, REGION, 'measured'), { clusterNames: [], concurrency: 4, now: NOW });
    // The deployed functions' reads ('measured'): every ENI and instance page through the streaming read (lib/aws/ec2-stream.ts).
    expect(streamed).toHaveBeenCalledTimes((api.calls['DescribeNetworkInterfaces'] ?? 0) + (api.calls['DescribeInstances'] ?? 0));
    streamed.mockRestore();
    const mocked = emulated(makeWireAccount());
    const direct = await collectInventory(new LiveSource({ ec2: mocked.ec2, eks: mocked.eks }, REGION, 'measured'), { clusterNames: [], concurrency: 4, now: NOW });
    expect(overWire).toEqual(direct);
    expect(api.calls).toEqual(mocked.calls);
    expect(api.calls['DescribeNetworkInterfaces']).toBeGreaterThan(account.clusters.length);
    expect(overWire.clusters.flatMap((c) => c.networkInterfaces ?? []).length).toBeGreaterThan(1000);
    expect(server.stats.requests).toBe(api.totalReadCalls());
  });

  it("runs the sampler's whole cycle: the same metrics, notifications and summary as through the mocks", async () => {
    history(account, api.history);
    const streamed = jest.spyOn(xmlStream, 'readXml');
    const overWire = await makeHandler(await runtimeOn(wireClients(server.endpoint), account))({});
    // The deployed composition (lib/runtime.ts) reads ENIs and instances through the streaming read.
    expect(streamed).toHaveBeenCalledTimes((api.calls['DescribeNetworkInterfaces'] ?? 0) + (api.calls['DescribeInstances'] ?? 0));
    expect(api.calls['DescribeNetworkInterfaces']).toBeGreaterThan(0);
    streamed.mockRestore();

    const mockedAccount = makeWireAccount();
    const mocked = emulated(mockedAccount);
    history(mockedAccount, mocked.history);
    const direct = await makeHandler(await runtimeOn(mocked, mockedAccount))({});
    expect(overWire).toEqual(direct);
    expect(overWire.metricsPublished).toBeGreaterThan(100);
    expect(overWire.notified).toBeGreaterThan(0);
    // Timestamps cross the wire as epoch seconds and come back as the same instants.
    const data = (r: PutMetricDataCommandInput[]) => r.map((x) => ({ ...x, MetricData: x.MetricData?.map((d) => ({ ...d, Timestamp: d.Timestamp?.valueOf() })) }));
    expect(data(api.putMetricData)).toEqual(data(mocked.putMetricData));
    const message = (p: PublishCommandInput[]) => p.map((x) => ({ ...x, Message: JSON.parse(x.Message ?? '{}') as unknown }));
    expect(message(api.published)).toEqual(message(mocked.published));
    expect(api.published.some((p) => Object.keys(p.MessageAttributes ?? {}).length > 0)).toBe(true);
    expect(api.calls).toEqual(mocked.calls);
    // PutMetricData bodies over 10 KB arrive gzipped (the SDK's request compression) and are read.
    expect(server.stats.gzipped).toBeGreaterThan(0);
  });

  it("writes every XML answer of a sampler cycle byte for byte as the SDK's XmlShapeSerializer, through the compiled writer (tools/wire-xml.ts)", async () => {
    const verifying = await startWireServer(api, { verifyXml: true });
    try {
      history(account, api.history);
      await makeHandler(await runtimeOn(wireClients(verifying.endpoint), account))({});
      expect(verifying.stats.xmlMismatches).toEqual([]);
      // Every EC2 read of the cycle (and SNS Publish) went through the compiled writer.
      const xmlCalls = Object.entries(api.calls).filter(([op]) => api.operations.get(op)?.kind === 'ec2' || op === 'Publish').reduce((n, [, c]) => n + c, 0);
      expect(verifying.stats.fastXml).toBe(xmlCalls);
      expect(api.calls['DescribeNetworkInterfaces']).toBeGreaterThan(1);
      expect(api.calls['DescribeInstances']).toBeGreaterThan(1);
    } finally {
      await verifying.stop();
    }
  });

  it('counts a body the two writers write differently (the check above can fail)', async () => {
    const verifying = await startWireServer(api, { verifyXml: true });
    const subnet = account.subnets[0]!;
    const ec2 = wireClients(verifying.endpoint).ec2;
    try {
      // Characters both escape: equal.
      subnet.Tags = [{ Key: 'a&b', Value: "it's <here>\r\n" }];
      await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnet.SubnetId ?? ''] }));
      expect(verifying.stats.xmlMismatches).toEqual([]);
      // The SDK's serializer made to write one character more: counted.
      const flush = jest.spyOn(XmlShapeSerializer.prototype, 'flush').mockImplementation(function (this: XmlShapeSerializer) {
        flush.mockRestore();
        return `${String(XmlShapeSerializer.prototype.flush.call(this)).replace('a&amp;b', 'a&amp;c')}`;
      });
      await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnet.SubnetId ?? ''] }));
      expect(verifying.stats.xmlMismatches).toEqual(['ec2 DescribeSubnets']);
    } finally {
      await verifying.stop();
    }
  });

  it('answers errors as each protocol encodes them: the SDK names the service error', async () => {
    const clients = wireClients(server.endpoint);
    await expect(clients.eks.send(new DescribeClusterCommand({ name: 'nope' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'No cluster found for name: nope.',
      $metadata: expect.objectContaining({ httpStatusCode: 400 }) as unknown,
    });
    await expect(clients.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['zz.huge' as never] }))).rejects.toMatchObject({
      name: 'InvalidInstanceType',
      message: 'The following supplied instance types do not exist: [zz.huge]',
    });
    // SNS (awsQuery XML) and CloudWatch (awsJson1_0), with faults under the services' query error
    // codes; the SDK raises its modelled exception for each (…Exception).
    api.faults['Publish'] = () => snsError('AuthorizationError', 'User is not authorized to perform: SNS:Publish');
    await expect(clients.sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:eu-west-1:111122223333:t', Message: 'm' }))).rejects.toMatchObject({
      name: 'AuthorizationErrorException',
      message: 'User is not authorized to perform: SNS:Publish',
      $metadata: expect.objectContaining({ httpStatusCode: 403 }) as unknown,
    });
    api.faults['GetMetricData'] = () => cloudWatchError('InvalidParameterValue', 'The parameter StartTime must be before EndTime.');
    await expect(clients.cloudwatch.send(new GetMetricDataCommand({ StartTime: NOW, EndTime: NOW, MetricDataQueries: [] }))).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      message: 'The parameter StartTime must be before EndTime.',
    });
    // An error the emulator throws without a status is the caller's: not retried.
    api.faults['DescribeCluster'] = () => new Error('emulator refused');
    const retrying = wireClients(server.endpoint, 3);
    const before = api.calls['DescribeCluster'] ?? 0;
    await expect(retrying.eks.send(new DescribeClusterCommand({ name: 'x' }))).rejects.toMatchObject({ $metadata: expect.objectContaining({ httpStatusCode: 400 }) as unknown });
    expect(api.calls['DescribeCluster']).toBe(before + 1);
  });

  it("throttling comes back as EC2's RequestLimitExceeded and the SDK's retry takes it", async () => {
    api.faults['DescribeNetworkInterfaces'] = (_input, n) => (n === 1 ? ec2Error('RequestLimitExceeded', 'Request limit exceeded.') : undefined);
    const clients = wireClients(server.endpoint, 3);
    const out = await clients.ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 5 }));
    expect(out.NetworkInterfaces).toHaveLength(5);
    expect(out.$metadata.attempts).toBe(2);
    expect(api.calls['DescribeNetworkInterfaces']).toBe(2);
  });

  it('hands every response body, as sent, to onResponse (the bench records the cycle\'s XML with it)', async () => {
    const recorded: WireResponse[] = [];
    const recording = await startWireServer(api, { onResponse: (r) => recorded.push(r) });
    try {
      const clients = wireClients(recording.endpoint);
      const first = await clients.ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 5 }));
      await expect(clients.eks.send(new DescribeClusterCommand({ name: 'nope' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      expect(recorded.map((r) => [r.kind, r.op, r.status])).toEqual([
        ['ec2', 'DescribeNetworkInterfaces', 200],
        ['eks', 'DescribeCluster', 400],
      ]);
      expect(recorded.reduce((n, r) => n + r.body.length, 0)).toBe(recording.stats.responseBytes);
      // The recorded XML is what the client read: each ENI it returned is in the body.
      const xml = recorded[0]!.body.toString('utf8');
      expect(xml.startsWith('<?xml')).toBe(true);
      for (const eni of first.NetworkInterfaces ?? []) expect(xml).toContain(`<networkInterfaceId>${eni.NetworkInterfaceId}</networkInterfaceId>`);
      expect(first.NetworkInterfaces).toHaveLength(5);
    } finally {
      await recording.stop();
    }
  });
});

describe('the mocks the wire tests compare with', () => {
  it('are on their own client instances: the client classes, and so every other client, stay real', async () => {
    const mocked = emulated(makeWireAccount());
    for (const Client of [EC2Client, EKSClient, CloudWatchClient, SNSClient]) expect(Object.hasOwn(Client.prototype, 'send')).toBe(false);
    expect(await mocked.sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:eu-west-1:111122223333:t', Message: 'm' }))).toEqual({ MessageId: 'msg-1' });
    // Another SNS client goes to the network (test/setup-env.ts: a closed port), not to the mock.
    await expect(new SNSClient({ maxAttempts: 1 }).send(new PublishCommand({ TopicArn: 'arn:aws:sns:eu-west-1:111122223333:t', Message: 'm' }))).rejects.toThrow(/ECONNREFUSED/);
    expect(mocked.published).toHaveLength(1);
  });
});

describe('decodeQuery', () => {
  const schemaOf = (command: object): unknown => (command as { schema: unknown[] }).schema[4];

  it('reads awsQuery maps (SNS message attributes) as the SDK writes them', () => {
    const params = new URLSearchParams(
      'Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A1%3At&Message=hello&MessageAttributes.entry.1.Name=severity&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=critical',
    );
    expect(decodeQuery(schemaOf(new PublishCommand({ TopicArn: 't', Message: 'm' })), params, false)).toEqual({
      TopicArn: 'arn:aws:sns:eu-west-1:1:t',
      Message: 'hello',
      MessageAttributes: { severity: { DataType: 'String', StringValue: 'critical' } },
    });
  });

  it('reads flattened EC2 lists and capitalised members, as the SDK writes them', () => {
    const params = new URLSearchParams(
      'Action=DescribeNetworkInterfaces&Version=2016-11-15&Filter.1.Name=subnet-id&Filter.1.Value.1=subnet-a&Filter.1.Value.2=subnet-b&Filter.2.Name=tag-key&Filter.2.Value.1=k&MaxResults=1000&NextToken=abc',
    );
    expect(decodeQuery(schemaOf(new DescribeNetworkInterfacesCommand({})), params, true)).toEqual({
      Filters: [
        { Name: 'subnet-id', Values: ['subnet-a', 'subnet-b'] },
        { Name: 'tag-key', Values: ['k'] },
      ],
      MaxResults: 1000,
      NextToken: 'abc',
    });
  });
});

describe('Service Quotas over the wire (awsJson1_1)', () => {
  const QUOTA = `${ENI_QUOTA.serviceCode}/${ENI_QUOTA.quotaCode}`;
  const servers: WireServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
  });
  async function regionLimitsOver(quotas: SyntheticAccount['quotas']): Promise<{ api: AccountApi; limits: AwsRegionLimits; server: WireServer }> {
    const account = generateAccount({ ...WIRE_ACCOUNT_OPTIONS, nodes: 20, clusters: 1, subnetsPerCluster: 2 });
    if (quotas) account.quotas = quotas;
    const api = accountApi(account);
    const server = await startWireServer(api);
    servers.push(server);
    const config = { endpoint: server.endpoint, region: REGION, maxAttempts: 1 };
    const limits = new AwsRegionLimits({ ec2: new EC2Client(config), serviceQuotas: new ServiceQuotasClient(config), cloudwatch: new CloudWatchClient(config) });
    return { api, limits, server };
  }

  it('reads the applied ENI quota the account has, in one GetServiceQuota over HTTP', async () => {
    const { api, limits, server } = await regionLimitsOver({ [QUOTA]: { applied: 7000, awsDefault: 5000 } });
    await expect(limits.eniQuota()).resolves.toEqual({ serviceCode: 'vpc', quotaCode: 'L-DF5E4CA3', value: 7000, source: 'applied' });
    expect(api.calls).toEqual({ GetServiceQuota: 1 });
    expect(server.stats.requests).toBe(1);
  });

  it("reads the AWS default when there is no applied value: the SDK names the service's NoSuchResourceException", async () => {
    const { api, limits } = await regionLimitsOver({ [QUOTA]: { awsDefault: 5000 } });
    await expect(limits.eniQuota()).resolves.toEqual({ serviceCode: 'vpc', quotaCode: 'L-DF5E4CA3', value: 5000, source: 'aws-default' });
    expect(api.calls).toEqual({ GetServiceQuota: 1, GetAWSDefaultServiceQuota: 1 });
  });

  it('an account without the quota fails the read with the service error, as the API answers', async () => {
    const { api, limits } = await regionLimitsOver(undefined);
    await expect(limits.eniQuota()).rejects.toThrow(/L-DF5E4CA3/);
    // Both reads reached the emulator: the first one's NoSuchResourceException came back by name.
    expect(api.calls).toEqual({ GetServiceQuota: 1, GetAWSDefaultServiceQuota: 1 });
  });
});
