/**
 * The composition root: the production dependencies of the Lambda functions, built once per
 * container, and the wiring of a cycle's dependencies from them. The configuration (parsed at
 * cold start; a bad value stops the function), the clients (standard SDK environment), the
 * providers (one per AWS concern; the instance-type cache lives as long as the container), the
 * live source over them, the ledger and the logger.
 * Only entry points (handlers, lib/events/route.ts) import it; it is where adapters meet the
 * ports of the stages (docs/architecture.md).
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EKSClient } from '@aws-sdk/client-eks';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { ActionLedger } from './act/ledger';
import { EXECUTORS } from './act/executors';
import { createActionLedger } from './aws/action-ledger';
import { createAwsClients, createDynamoDbClient, createSnsClient, type AwsClients } from './aws/clients';
import type { PaceControl } from './aws/pacer';
import { putMetricData } from './aws/cloudwatch';
import { createLedger, createLedgerDocumentClient, type Ledger } from './aws/ledger';
import { createInstanceTypeCache, Ec2InstanceTypeProvider } from './aws/instance-types';
import { CentralPolicyProvider, readCentralPolicy } from './aws/central-policy';
import type { PolicyInForce } from './policy/central';
import { LiveSource } from './aws/live-source';
import { availableIpHistoryReader, regionLimitsHistoryReader } from './aws/metric-history';
import { publishNotification } from './aws/sns';
import { Ec2SubnetProvider } from './aws/subnets';
import { parseRuntimeConfig, type RuntimeConfig } from './config';
import { HeapGrowthControl } from './heap-growth';
import type { CycleDeps } from './cycle';
import type { CycleDeadline } from './deadline';
import { buildActionNotification } from './output/notify/action-message';
import { accountOfArn, createCentralFeed } from './output/notify/central';
import { CENTRAL_POLICY_METRIC, datum } from './output/publish/metrics';
import { bundledPolicy } from './policy/bundled';
import type { KubeConnector } from './inventory/kube-types';
import { kubeConnector } from './kube/api';
import { KubeReader } from './kube/reader';
import { EksTokenCache, tokenSigningOf } from './kube/token';

export interface Runtime {
  config: RuntimeConfig;
  /**
   * The container's live source; each cycle reads through a view of it bound by its deadline. Its
   * providers (`source.providers`) are the container's: the executors read subnets through them too.
   */
  source: LiveSource;
  ec2: EC2Client;
  eks: EKSClient;
  cloudwatch: CloudWatchClient;
  sns: SNSClient;
  ledger: Ledger;
  /** Action records, the per-cluster change lock and the responder's cycle throttle (same table). */
  actions: ActionLedger;
  logger: Logger;
  now: () => Date;
  /** Waits between polls of an EKS update; tests pass one that does not wait. */
  sleep: (ms: number) => Promise<void>;
  /** Opens a listed cluster's Kubernetes API for the executors; absent without KUBERNETES_CLUSTERS. */
  kube?: KubeConnector;
  /** The organisation's central topic and a client of its region; absent without CENTRAL_TOPIC_ARN. */
  central?: { topicArn: string; sns: SNSClient };
  /**
   * The policy a cycle runs under: the packaged one, or with CENTRAL_POLICY the central one
   * (read at most once per CENTRAL_POLICY_CACHE_SECONDS, narrowed to the packaged one; every
   * cluster in dry-run when it cannot be used). Never throws.
   */
  policy: () => Promise<PolicyInForce>;
  /** The central policy's provider (its read count, `reset()`), with CENTRAL_POLICY. */
  centralPolicy?: CentralPolicyProvider;
  /** The EC2 client's read pace (lib/aws/pacer.ts): a fan-out item takes its share for its invocation. */
  readPace?: PaceControl;
  /** The container's V8 heap growth, decided at the start of each invocation (lib/heap-growth.ts). */
  heapGrowth?: HeapGrowthControl;
}

/**
 * What a handler does first in each invocation: the context on the log lines, and the heap's
 * growth for this invocation (logged when it changes, at most a few times in a container's life).
 */
export function startInvocation(rt: Pick<Runtime, 'logger' | 'heapGrowth'>, context?: Context): void {
  if (context) rt.logger.addContext(context);
  const changed = rt.heapGrowth?.beforeInvocation();
  if (changed) rt.logger.info(changed.percent > 0 ? `V8 heap growth set to ${changed.percent} %` : "V8 heap growth left to V8's own", { heapGrowth: changed });
}

/**
 * Runs `fn` at `share` of the runtime's read pace (a fan-out item's, lib/fanout.ts), then gives
 * the next invocation of the container the whole pace back, whatever `fn` did.
 */
export async function withPaceShare<T>(rt: Pick<Runtime, 'readPace'>, share: number | undefined, fn: () => Promise<T>): Promise<T> {
  if (share === undefined || !rt.readPace) return fn();
  rt.readPace.share(share);
  try {
    return await fn();
  } finally {
    rt.readPace.share(1);
  }
}

/** What a runtime is made of; the tests and the benchmark pass emulated clients and their own clock. */
export interface RuntimeParts {
  config: RuntimeConfig;
  clients: AwsClients;
  /** The region the live source reports. */
  region: string;
  /** The ledger's DynamoDB client. */
  dynamo: DynamoDBClient;
  logger: Logger;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** The client for the central topic's region, when it is not `region` (defaultRuntime builds it). */
  centralSns?: SNSClient;
}

/**
 * Puts a runtime together: the subnet and instance-type providers, the live source over them
 * (measured fields only), the ledger and action ledger on one table.
 */
export function assembleRuntime(p: RuntimeParts): Runtime {
  const doc = createLedgerDocumentClient(p.dynamo);
  const now = p.now ?? (() => new Date());
  const providers = {
    subnets: new Ec2SubnetProvider(p.clients.ec2),
    instanceTypes: new Ec2InstanceTypeProvider(p.clients.ec2, createInstanceTypeCache(() => now().getTime())),
  };
  // Kubernetes, only for the clusters the stack made access entries for (KUBERNETES_CLUSTERS).
  const listed = p.config.kubernetesClusters;
  const kube = listed
    ? (() => {
        const tokens = new EksTokenCache(tokenSigningOf(p.clients.eks.config), now);
        const options = {
          token: (name: string) => tokens.token(name),
          timeoutMs: p.config.httpTimeouts.requestMs,
          ...(listed === '*' ? {} : { enabled: (name: string) => listed.includes(name) }),
        };
        return { reader: new KubeReader({ ...options, now: () => now().getTime() }), connector: kubeConnector(options) };
      })()
    : undefined;
  const packaged: PolicyInForce = { policy: p.config.policy, source: p.config.policySource, problems: [] };
  const location = p.config.centralPolicy;
  const central = location
    ? new CentralPolicyProvider(
        location,
        packaged,
        () => readCentralPolicy(location, { signing: p.clients.eks.config, timeoutMs: p.config.httpTimeouts.requestMs, now }),
        () => now().getTime(),
        p.config.centralPolicyCacheMs,
      )
    : undefined;
  return {
    policy: central ? () => central.get() : async () => packaged,
    ...(central ? { centralPolicy: central } : {}),
    config: p.config,
    source: new LiveSource(
      { ec2: p.clients.ec2, eks: p.clients.eks, serviceQuotas: p.clients.serviceQuotas, cloudwatch: p.clients.cloudwatch },
      p.region,
      'measured',
      {},
      providers,
      kube?.reader,
    ),
    ec2: p.clients.ec2,
    eks: p.clients.eks,
    cloudwatch: p.clients.cloudwatch,
    sns: p.clients.sns,
    ledger: createLedger(doc, p.config.ledgerTable),
    actions: createActionLedger(doc, p.config.ledgerTable),
    logger: p.logger,
    now,
    sleep: p.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    ...(p.clients.ec2Pace ? { readPace: p.clients.ec2Pace } : {}),
    ...(kube ? { kube: kube.connector } : {}),
    ...(p.config.centralTopicArn ? { central: { topicArn: p.config.centralTopicArn, sns: p.centralSns ?? p.clients.sns } } : {}),
  };
}

/** Builds the runtime from the environment. */
export function defaultRuntime(env: Record<string, string | undefined> = process.env): Runtime {
  const config = parseRuntimeConfig(env, bundledPolicy());
  // Every log line says which policy the function acts under.
  const logger = new Logger({
    serviceName: 'eks-ip-responder',
    persistentKeys: { policyVersion: config.policySource.version, policyFrom: config.policySource.from },
  });
  const region = env['AWS_REGION'] ?? 'unknown-region';
  // The central topic may be in another region (the monitoring account's): its own client there.
  const centralRegion = config.centralTopicArn?.split(':')[3];
  // (With a central policy, each cycle sets the keys of the policy it runs under: lib/runtime.ts inForcePolicy.)
  const memoryMB = Number(env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE']);
  const rt = assembleRuntime({
    config,
    clients: createAwsClients(undefined, config.httpTimeouts, config.describePace),
    region,
    dynamo: createDynamoDbClient(config.httpTimeouts),
    logger,
    ...(centralRegion && centralRegion !== region ? { centralSns: createSnsClient(centralRegion, config.httpTimeouts) } : {}),
  });
  return { ...rt, heapGrowth: new HeapGrowthControl(config.heapGrowingPercent, memoryMB > 0 ? memoryMB : undefined) };
}

/**
 * The cycle's dependencies from a runtime: publish metrics, forecast, notify, plan; and with
 * `act`, apply (only the responder has the write permissions, so only it passes true). With a
 * deadline, the cycle's reads stop at it.
 */
export function cycleDeps(rt: Runtime, publish: boolean, act = false, deadline?: CycleDeadline, inForce?: PolicyInForce): CycleDeps {
  const source = deadline ? rt.source.forCycle({ deadline }) : rt.source;
  const { sns } = rt;
  const { topicArn } = rt.config;
  const context = {
    region: rt.source.region,
    ...(rt.config.dashboardName ? { dashboardName: rt.config.dashboardName } : {}),
    ...(rt.config.stage ? { stage: rt.config.stage } : {}),
  };
  // One feed per cycle: its problems (action outcomes' and findings') are the cycle's.
  const { central: centralTopic } = rt;
  const central = centralTopic
    ? createCentralFeed((n) => publishNotification(centralTopic.sns, centralTopic.topicArn, n), {
        account: accountOfArn(topicArn),
        region: rt.source.region,
      })
    : undefined;
  return {
    source,
    ...(deadline ? { deadline } : {}),
    thresholds: rt.config.thresholds,
    metrics: {
      put: (data) => putMetricData(rt.cloudwatch, rt.config.metricNamespace, data),
      publish,
      ...(inForce && rt.config.centralPolicy ? { extra: centralPolicyMetrics(inForce, rt.now()) } : {}),
    },
    history: availableIpHistoryReader(rt.cloudwatch, rt.config.metricNamespace),
    regionHistory: regionLimitsHistoryReader(rt.cloudwatch, rt.config.metricNamespace),
    notify: {
      ledger: rt.ledger,
      publish: (notification) => publishNotification(sns, topicArn, notification),
      context,
      renotifyAfterHours: rt.config.renotifyAfterHours,
      ...(central ? { central } : {}),
    },
    forecastWindowHours: rt.config.forecastWindowHours,
    periodSeconds: rt.config.periodSeconds,
    // What is wrong with the central policy (refused parts, or unavailable), named in the cycle's problems.
    ...(inForce && inForce.problems.length > 0 ? { policyProblems: inForce.problems } : {}),
    remediation: {
      policy: inForce?.policy ?? rt.config.policy,
      baseThresholds: rt.config.thresholds,
      source,
      actions: rt.actions,
      ...(act
        ? {
            act: {
              actions: rt.actions,
              executors: EXECUTORS,
              exec: { eks: rt.eks, ec2: rt.ec2, subnets: rt.source.providers.subnets, now: rt.now, sleep: rt.sleep, followForMs: rt.config.followForMs, ...(rt.kube ? { kube: rt.kube } : {}) },
              // This invocation: the leases it takes on changes in flight are its own.
              owner: randomUUID(),
              // Every action record names the policy it was started and stepped under.
              policy: (inForce ?? { source: rt.config.policySource }).source,
              // Every outcome is a message of its own; the final one is sent before the lock is released.
              notify: async (record, outcome) => {
                const notification = buildActionNotification(record, outcome, context, rt.now());
                await publishNotification(rt.sns, rt.config.topicArn, notification);
                // After the local one (a failed final one is sent again by the next cycle, this with it).
                await central?.send(notification);
              },
            },
          }
        : {}),
    },
  };
}

/**
 * The policy a cycle runs under, with every log line of the cycle naming it (policyVersion,
 * policyFrom, and the central policy's location and revision).
 */
export async function inForcePolicy(rt: Runtime): Promise<PolicyInForce> {
  const inForce = await rt.policy();
  const { version, from, location, revision } = inForce.source;
  rt.logger.removePersistentKeys(['policyLocation', 'policyRevision', 'policyUnavailable']);
  rt.logger.appendPersistentKeys({
    policyVersion: version,
    policyFrom: from,
    ...(location ? { policyLocation: location } : {}),
    ...(revision ? { policyRevision: revision } : {}),
    ...(inForce.unavailable ? { policyUnavailable: true } : {}),
  });
  return inForce;
}

/** The central policy's health, with the sampler's metrics: unavailable (1/0), and the count of refused parts. */
function centralPolicyMetrics(inForce: PolicyInForce, now: Date) {
  return [
    datum(CENTRAL_POLICY_METRIC.CentralPolicyUnavailable, inForce.unavailable ? 1 : 0, 'Count', {}, now),
    datum(CENTRAL_POLICY_METRIC.CentralPolicyRefused, inForce.unavailable ? 0 : inForce.problems.length, 'Count', {}, now),
  ];
}
