/**
 * Fault injection: the demo account with payments-prod opted in to `apply`, and the ways to
 * break what the cycle reads.
 *
 * - Emulator faults (`aws.faults`) fail single EC2 / EKS calls (aws-sdk-client-mock: no retry).
 * - `throughRetries` gives a runtime whose EC2, EKS, CloudWatch and SNS clients run the SDK's
 *   real middleware stack (serializer, signer, retry strategy, deserializer): the requests a
 *   fault throttles reach a stub HTTP handler that answers the service's real throttling
 *   response on the wire (EC2 Query XML, EKS REST-JSON, CloudWatch JSON with the Query error
 *   code header, SNS Query XML), which the real deserializer turns into the SDK's error and the
 *   real retry strategy retries; the other attempts are answered by the emulator's logic at the
 *   deserialize step, the same answers the emulated account gives without the SDK stack.
 * - `faultyLedgerClient` gives a DynamoDB client for the dynalite ledger whose HTTP handler can
 *   answer any request with an error (throttling, access denied) before it reaches dynalite.
 */
import { Readable } from 'node:stream';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as cloudwatchSdk from '@aws-sdk/client-cloudwatch';
import { CloudWatchClient, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as ec2Sdk from '@aws-sdk/client-ec2';
import { EC2Client, type NetworkInterface } from '@aws-sdk/client-ec2';
import * as eksSdk from '@aws-sdk/client-eks';
import { EKSClient } from '@aws-sdk/client-eks';
import * as snsSdk from '@aws-sdk/client-sns';
import { SNSClient } from '@aws-sdk/client-sns';
import { HttpResponse, type HttpRequest } from '@smithy/core/protocols';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { parse as parseYaml } from 'yaml';
import { makeHandler as makeRespond, type RespondSummary } from '../../handlers/respond';
import { makeHandler as makeSample, type SampleSummary } from '../../handlers/sample';
import { createActionLedger } from '../../lib/aws/action-ledger';
import { createLedger, createLedgerDocumentClient } from '../../lib/aws/ledger';
import { LiveSource } from '../../lib/aws/live-source';
import { runCycle, type CycleResult } from '../../lib/cycle';
import { OPT_IN_TAG_KEY, OPT_IN_TAG_VALUE } from '../../lib/policy/types';
import type { Runtime } from '../../lib/runtime';
import type { RunningDynalite } from '../../tools/dynalite';
import type { EmulatedAccount } from '../../tools/mock-aws';
import { testRuntime, type TestRuntime } from '../support/runtime';
import { accountFromSnapshot, DEMO_FIRST_CLUSTERS, DEMO_SNAPSHOT } from '../support/snapshot-account';
import type { SyntheticAccount } from '../../tools/synthetic-account';

export const NOW = new Date('2026-11-26T10:00:00Z');
/** The cluster in apply mode, opted in: without a fault its warm-target change applies. */
export const PROD = 'payments-prod';
/** The other cluster (dry-run by default): its findings are notified, nothing of it applies. */
export const DEV = 'batch-dev';
/** payments-prod's CNI-discovery subnet (100.64.0.0/19, empty in the demo). */
export const PROD_CNI_SUBNET = 'subnet-0c55317ef17156075';
/** Lambda ENIs added to PROD_CNI_SUBNET so that payments-prod's DescribeNetworkInterfaces takes 3 pages of 1,000. */
export const PADDING_ENIS = 2100;

const SCHEDULED = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'events', 'scheduled.json'), 'utf8')) as Record<string, unknown>;

/** The repository's policy with payments-prod in apply mode. */
export function applyPolicy(): string {
  const doc = parseYaml(readFileSync(path.join(__dirname, '..', '..', 'policy.yml'), 'utf8')) as {
    clusters: Record<string, Record<string, unknown>>;
  };
  doc.clusters[PROD] = { ...doc.clusters[PROD], mode: 'apply' };
  return JSON.stringify(doc);
}

/**
 * The demo account, payments-prod tagged for apply, and PADDING_ENIS Lambda ENIs (one address
 * each, taken from the subnet's free count) in its CNI subnet: 2,100 + its own ENIs are three
 * DescribeNetworkInterfaces pages at MaxResults 1000.
 */
export function demoAccount(): SyntheticAccount {
  const account = accountFromSnapshot(DEMO_SNAPSHOT, DEMO_FIRST_CLUSTERS);
  const prod = account.clusters.find((c) => c.name === PROD)!;
  prod.tags = { ...prod.tags, [OPT_IN_TAG_KEY]: OPT_IN_TAG_VALUE };
  const subnet = account.subnets.find((s) => s.SubnetId === PROD_CNI_SUBNET)!;
  const base = subnet.CidrBlock!.split('/')[0]!.split('.').map(Number);
  for (let i = 0; i < PADDING_ENIS; i++) {
    const n = 10 + i;
    const ip = `${base[0]}.${base[1]}.${Math.floor(n / 256)}.${n % 256}`;
    const eni: NetworkInterface = {
      NetworkInterfaceId: `eni-0f${i.toString(16).padStart(15, '0')}`,
      SubnetId: PROD_CNI_SUBNET,
      VpcId: subnet.VpcId,
      AvailabilityZone: subnet.AvailabilityZone,
      Description: 'AWS Lambda VPC ENI-payments-enricher-4f1e2d3c-aaaa-bbbb-cccc-0123456789ab',
      InterfaceType: 'lambda',
      RequesterManaged: true,
      RequesterId: '560000000000:payments-enricher',
      Status: 'in-use',
      PrivateIpAddress: ip,
      PrivateIpAddresses: [{ PrivateIpAddress: ip, Primary: true }],
    };
    account.networkInterfaces.push(eni);
  }
  subnet.AvailableIpAddressCount = (subnet.AvailableIpAddressCount ?? 0) - PADDING_ENIS;
  return account;
}

export interface Demo extends TestRuntime {
  account: SyntheticAccount;
  sample: ReturnType<typeof makeSample>;
  respond: ReturnType<typeof makeRespond>;
}

/** A test runtime on the demo account (after `mutate`), with the apply policy. Call `aws.restore()` after. */
export async function demo(db: RunningDynalite, mutate: (a: SyntheticAccount) => void = () => {}): Promise<Demo> {
  const account = demoAccount();
  mutate(account);
  const t = await testRuntime(account, db, { RESPOND_MIN_INTERVAL_SECONDS: '0', POLICY_JSON: applyPolicy() }, NOW);
  return { ...t, account, sample: makeSample(t.rt), respond: makeRespond(t.rt) };
}

/** What one sampler run and one remediation tick of the responder did. */
export interface Run {
  sampled: SampleSummary;
  responded: RespondSummary;
  metrics: MetricDatum[];
  /** Subject and default text of every SNS message. */
  messages: { subject: string; text: string }[];
  writes: string[];
}

/** The sampler, then the responder's remediation tick (which acts on clusters in apply mode). */
export async function sampleThenRespond(d: { rt: Runtime; aws: EmulatedAccount }): Promise<Run> {
  const sampled = await makeSample(d.rt)({});
  const responded = await makeRespond(d.rt)(SCHEDULED);
  return {
    sampled,
    responded,
    metrics: d.aws.putMetricData.flatMap((r) => r.MetricData ?? []),
    messages: d.aws.published.map((m) => ({
      subject: m.Subject ?? '',
      text: String((JSON.parse(m.Message ?? '{}') as { default?: string }).default ?? m.Message),
    })),
    writes: d.aws.writes.map((w) => `${w.op} ${String(w.input['clusterName'] ?? '')}`.trim()),
  };
}

export function scheduled(): Record<string, unknown> {
  return structuredClone(SCHEDULED);
}

/** An event of events/ (e.g. `cloudtrail-insufficient-free-addresses.json`). */
export function event(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'events', name), 'utf8')) as Record<string, unknown>;
}

/** The value of the one datum with exactly these dimensions, or undefined. */
export function metric(data: MetricDatum[], name: string, dims: Record<string, string>): number | undefined {
  const found = data.filter(
    (d) =>
      d.MetricName === name &&
      (d.Dimensions ?? []).length === Object.keys(dims).length &&
      Object.entries(dims).every(([k, v]) => d.Dimensions?.some((x) => x.Name === k && x.Value === v)),
  );
  if (found.length > 1) throw new Error(`${found.length} data for ${name} ${JSON.stringify(dims)}`);
  return found[0]?.Value;
}

/** Every datum of one cluster (any dimension ClusterName=cluster). */
export function metricsOf(data: MetricDatum[], cluster: string): MetricDatum[] {
  return data.filter((d) => d.Dimensions?.some((x) => x.Name === 'ClusterName' && x.Value === cluster));
}

/** The messages about one cluster (subjects name it after the severity). */
export function messagesOf(run: Run, cluster: string): Run['messages'] {
  return run.messages.filter((m) => m.subject.includes(`] ${cluster}:`));
}

// ---------------------------------------------------------------------------------------------
// Through the SDK's retry middleware.

type Reply = { status: number; headers?: Record<string, string>; body: string };

const xml = { 'content-type': 'text/xml;charset=UTF-8' };

/** The throttling answer of each service, as it comes over the wire. */
export const THROTTLED: Record<'ec2' | 'eks' | 'cloudwatch' | 'sns', Reply> = {
  // EC2 Query: HTTP 503 and the Errors document (EC2 API reference, "Request throttling").
  ec2: {
    status: 503,
    headers: xml,
    body:
      '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>' +
      '<Message>Request limit exceeded.</Message></Error></Errors><RequestID>5ec4e7b6-2f2c-4c1c-9d53-0f6d6a5b1c11</RequestID></Response>',
  },
  // EKS REST-JSON: 429 with the error type in x-amzn-errortype.
  eks: {
    status: 429,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'ThrottlingException' },
    body: JSON.stringify({ message: 'Rate exceeded' }),
  },
  // CloudWatch speaks JSON 1.0, Query-compatible: the Query error code is in x-amzn-query-error.
  cloudwatch: {
    status: 400,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': 'Throttling;Sender' },
    body: JSON.stringify({ __type: 'com.amazon.coral.availability#ThrottlingException', message: 'Rate exceeded' }),
  },
  // SNS Query: ThrottledException is the Query error code "Throttled", HTTP 429 (SNS API model).
  sns: {
    status: 429,
    headers: xml,
    body:
      '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>Throttled</Code>' +
      '<Message>Rate exceeded</Message></Error><RequestId>9b2c3d4e-5f60-4718-a9b0-c1d2e3f4a5b6</RequestId></ErrorResponse>',
  },
};

/** DynamoDB (JSON 1.0): both throttling errors, HTTP 400. */
export const DYNAMODB_THROTTLED: Reply[] = [
  {
    status: 400,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify({
      __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
      message: 'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
    }),
  },
  {
    status: 400,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.' }),
  },
];

export function dynamodbAccessDenied(action: string, table: string): Reply {
  return {
    status: 400,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify({
      __type: 'com.amazon.coral.service#AccessDeniedException',
      Message: `User: arn:aws:sts::111122223333:assumed-role/eks-ip-responder-test/fn is not authorized to perform: dynamodb:${action} on resource: arn:aws:dynamodb:eu-west-1:111122223333:table/${table} because no identity-based policy allows the dynamodb:${action} action`,
    }),
  };
}

const response = (r: Reply) =>
  new HttpResponse({ statusCode: r.status, headers: r.headers ?? {}, body: Readable.from([Buffer.from(r.body)]) });

/** One attempt of one SDK invocation. */
export interface Attempt {
  service: string;
  operation: string;
  /** amz-sdk-invocation-id: the same for every attempt of one call. */
  invocation: string;
  attempt: number;
  /** 'throttled': answered by the stub HTTP handler with the throttling reply; 'answered': by the emulator (or dynalite). */
  outcome: 'throttled' | 'answered' | 'failed';
}

/** Whether an attempt is throttled. The default: every first attempt. */
export type ThrottlePolicy = (service: string, operation: string, input: Record<string, unknown>, attempt: number) => boolean;
export const firstAttempts: ThrottlePolicy = (_s, _o, _i, attempt) => attempt === 1;

/** Three attempts, 1 ms apart: the standard strategy's decisions, none of its waiting. */
export const fastRetries = () => ({ maxAttempts: 3, retryStrategy: new ConfiguredRetryStrategy(3, () => 1) });

const attemptOf = (request: HttpRequest): { attempt: number; invocation: string } => ({
  attempt: Number(/attempt=(\d+)/.exec(request.headers['amz-sdk-request'] ?? '')?.[1] ?? 0),
  invocation: request.headers['amz-sdk-invocation-id'] ?? '',
});

type Sendable = { send(command: unknown): Promise<unknown> };
type Stack = { add(mw: unknown, options: Record<string, unknown>): void };
type CommandCtor = new (input: unknown) => unknown;

/**
 * A client of `Client`'s class that runs the real middleware stack: its `send` is the SDK's own
 * (aws-sdk-client-mock replaces `send` on the class prototype only), its HTTP handler answers
 * throttled attempts, and the other attempts are answered by `emulator` (a mocked client).
 */
type ClientClass<C> = { new (config: Record<string, unknown>): C; prototype: Sendable; name: string };

function throughRetriesClient<C extends Sendable & { middlewareStack: unknown }>(
  Client: ClientClass<C>,
  service: keyof typeof THROTTLED,
  commands: Record<string, unknown>,
  emulator: Sendable,
  attempts: Attempt[],
  throttle: ThrottlePolicy,
): C {
  const client = new Client({
    ...fastRetries(),
    requestHandler: {
      handle: async () => ({ response: response(THROTTLED[service]) }),
    },
  });
  // The SDK's own send, from the base class: the mock stubs it on Client.prototype only.
  const sdkSend = (Object.getPrototypeOf(Client.prototype) as Sendable).send;
  if (sdkSend === Client.prototype.send) throw new Error(`${Client.name}.prototype.send is not mocked: emulateAccount first`);
  Object.defineProperty(client, 'send', { value: sdkSend, configurable: true, writable: true });
  (client.middlewareStack as Stack).add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: { input: Record<string, unknown>; request: HttpRequest }) => {
        const operation = (context.commandName ?? '').replace(/Command$/, '');
        const { attempt, invocation } = attemptOf(args.request);
        if (throttle(service, operation, args.input, attempt)) {
          attempts.push({ service, operation, invocation, attempt, outcome: 'throttled' });
          // To the stub HTTP handler, whose throttling reply the real deserializer parses.
          return next(args);
        }
        const Command = commands[`${operation}Command`] as CommandCtor | undefined;
        if (!Command) throw new Error(`no ${operation}Command in the ${service} SDK`);
        try {
          const output = (await emulator.send(new Command(args.input))) as Record<string, unknown>;
          attempts.push({ service, operation, invocation, attempt, outcome: 'answered' });
          return {
            output: { ...output, $metadata: { httpStatusCode: 200 } },
            response: new HttpResponse({ statusCode: 200, headers: {}, body: Readable.from([]) }),
          };
        } catch (err) {
          attempts.push({ service, operation, invocation, attempt, outcome: 'failed' });
          throw err;
        }
      },
    { step: 'deserialize', priority: 'high', name: 'faultsAnswerFromEmulator' },
  );
  return client;
}

/**
 * A DynamoDB client for the dynalite at `endpoint` with the real retry strategy, whose HTTP
 * handler asks `fault` first: a reply is answered instead of dynalite's.
 */
export function faultyLedgerClient(
  endpoint: string,
  attempts: Attempt[],
  fault: (operation: string, body: Record<string, unknown>, attempt: number) => Reply | undefined,
): DynamoDBClient {
  const real = new DynamoDBClient({ endpoint }).config.requestHandler as unknown as {
    handle(request: HttpRequest, options?: unknown): Promise<{ response: HttpResponse }>;
  };
  return new DynamoDBClient({
    endpoint,
    ...fastRetries(),
    requestHandler: {
      handle: async (request: HttpRequest, options?: unknown) => {
        const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
        const { attempt, invocation } = attemptOf(request);
        const body = request.body instanceof Uint8Array ? new TextDecoder().decode(request.body) : String(request.body ?? '{}');
        const reply = fault(operation, JSON.parse(body) as Record<string, unknown>, attempt);
        attempts.push({ service: 'dynamodb', operation, invocation, attempt, outcome: reply ? 'throttled' : 'answered' });
        return reply ? { response: response(reply) } : real.handle(request, options);
      },
    },
  });
}

/** Replaces the runtime's ledger (findings, actions, claims) by one on `client`, same table. */
export function useLedgerClient(rt: Runtime, client: DynamoDBClient): Runtime {
  const doc = createLedgerDocumentClient(client);
  rt.ledger = createLedger(doc, rt.config.ledgerTable);
  rt.actions = createActionLedger(doc, rt.config.ledgerTable);
  return rt;
}

/**
 * The runtime of `d` with every AWS client through the SDK's retry middleware: EC2, EKS,
 * CloudWatch and SNS answered by the emulator once `throttle` lets an attempt through, and the
 * ledger's DynamoDB throttled by the same policy (ProvisionedThroughputExceededException and
 * ThrottlingException in turn) before it reaches dynalite.
 */
export function throughRetries(d: Demo, db: RunningDynalite, throttle: ThrottlePolicy = firstAttempts): { rt: Runtime; attempts: Attempt[] } {
  const attempts: Attempt[] = [];
  const ec2 = throughRetriesClient(EC2Client as unknown as ClientClass<EC2Client>, 'ec2', ec2Sdk, d.aws.ec2, attempts, throttle);
  const eks = throughRetriesClient(EKSClient as unknown as ClientClass<EKSClient>, 'eks', eksSdk, d.aws.eks, attempts, throttle);
  const cloudwatch = throughRetriesClient(CloudWatchClient as unknown as ClientClass<CloudWatchClient>, 'cloudwatch', cloudwatchSdk, d.aws.cloudwatch, attempts, throttle);
  const sns = throughRetriesClient(SNSClient as unknown as ClientClass<SNSClient>, 'sns', snsSdk, d.aws.sns, attempts, throttle);
  let n = 0;
  const dynamodb = faultyLedgerClient(db.endpoint, attempts, (operation, body, attempt) =>
    throttle('dynamodb', operation, body, attempt) ? DYNAMODB_THROTTLED[n++ % DYNAMODB_THROTTLED.length] : undefined,
  );
  const rt: Runtime = { ...d.rt, ec2, eks, cloudwatch, sns, source: new LiveSource({ ec2, eks }, d.account.region) };
  return { rt: useLedgerClient(rt, dynamodb), attempts };
}

/**
 * One cycle with the runtime's source, policy and ledger, and nothing published, notified or
 * applied: the usage, findings and every planned action with its state and reasons (the
 * handlers' summaries give only counts).
 */
export async function planOnly(rt: Runtime): Promise<CycleResult> {
  return runCycle(
    {
      source: rt.source,
      thresholds: rt.config.thresholds,
      remediation: { policy: rt.config.policy, baseThresholds: rt.config.thresholds, source: rt.source, actions: rt.actions },
    },
    { clusterNames: [], concurrency: rt.config.clusterConcurrency, now: rt.now() },
  );
}
