/**
 * The production dependencies of the Lambda functions, built once per container: the
 * configuration (parsed at cold start; a bad value stops the function), the clients (standard
 * SDK environment), the live source (its instance type cache lives as long as the container),
 * the ledger and the logger.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EKSClient } from '@aws-sdk/client-eks';
import { EXECUTORS } from './act/remediate';
import type { SNSClient } from '@aws-sdk/client-sns';
import { createAwsClients, createDynamoDbClient, type AwsClients } from './aws/clients';
import { createActionLedger, type ActionLedger } from './aws/action-ledger';
import { createLedger, createLedgerDocumentClient, type Ledger } from './aws/ledger';
import { LiveSource } from './aws/live-source';
import { publishNotification } from './aws/sns';
import { buildActionNotification } from './notify/action-message';
import { parseRuntimeConfig, type RuntimeConfig } from './config';
import { bundledPolicy } from './policy/bundled';
import { deadlineProblem, samplingProblems, type CycleDeps, type CycleResult } from './cycle';
import { CycleDeadline } from './deadline';

export interface Runtime {
  config: RuntimeConfig;
  /** The container's live source; each cycle reads through a view of it bound by its deadline. */
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
}

/** Puts a runtime together: the live source (measured fields only), the ledger and action ledger on one table. */
export function assembleRuntime(p: RuntimeParts): Runtime {
  const doc = createLedgerDocumentClient(p.dynamo);
  return {
    config: p.config,
    source: new LiveSource({ ec2: p.clients.ec2, eks: p.clients.eks }, p.region, 'measured'),
    ec2: p.clients.ec2,
    eks: p.clients.eks,
    cloudwatch: p.clients.cloudwatch,
    sns: p.clients.sns,
    ledger: createLedger(doc, p.config.ledgerTable),
    actions: createActionLedger(doc, p.config.ledgerTable),
    logger: p.logger,
    now: p.now ?? (() => new Date()),
    sleep: p.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
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
  return assembleRuntime({
    config,
    clients: createAwsClients(undefined, config.httpTimeouts),
    region: env['AWS_REGION'] ?? 'unknown-region',
    dynamo: createDynamoDbClient(config.httpTimeouts),
    logger,
  });
}

/**
 * What a cycle keeps back from the invocation's remaining time for what follows collection:
 * the history read, PutMetricData (one call per 1,000 metrics), SNS notifications and the
 * ledger's DynamoDB writes. Each normally takes well under a second; 20 s leaves room for a few
 * slow or retried calls. Never more than {@link CYCLE_MARGIN_SHARE} of the remaining time, so
 * that a function given a short timeout still collects.
 */
export const CYCLE_MARGIN_MS = 20_000;
export const CYCLE_MARGIN_SHARE = 0.25;

/**
 * The deadline of a cycle run by an invocation with `remainingMs` left
 * (`context.getRemainingTimeInMillis()`), on the runtime's clock.
 */
export function cycleDeadline(rt: Pick<Runtime, 'now'>, remainingMs: number): CycleDeadline {
  const margin = Math.min(CYCLE_MARGIN_MS, Math.max(0, remainingMs) * CYCLE_MARGIN_SHARE);
  return new CycleDeadline(
    remainingMs - margin,
    () => rt.now().getTime(),
    `the invocation's time: collection stops ${Math.round(margin / 1000)} s before the Lambda timeout to publish what is complete`,
  );
}

/**
 * The cycle's dependencies from a runtime: publish metrics, forecast, notify, plan; and with
 * `act`, apply (only the responder has the write permissions, so only it passes true). With a
 * deadline, the cycle's reads stop at it.
 */
export function cycleDeps(rt: Runtime, publish: boolean, act = false, deadline?: CycleDeadline): CycleDeps {
  const source = deadline ? rt.source.forCycle({ deadline }) : rt.source;
  const context = {
    region: rt.source.region,
    ...(rt.config.dashboardName ? { dashboardName: rt.config.dashboardName } : {}),
    ...(rt.config.stage ? { stage: rt.config.stage } : {}),
  };
  return {
    source,
    ...(deadline ? { deadline } : {}),
    thresholds: rt.config.thresholds,
    metrics: { cloudwatch: rt.cloudwatch, namespace: rt.config.metricNamespace, publish },
    notify: {
      ledger: rt.ledger,
      sns: rt.sns,
      topicArn: rt.config.topicArn,
      context,
      renotifyAfterHours: rt.config.renotifyAfterHours,
    },
    forecastWindowHours: rt.config.forecastWindowHours,
    periodSeconds: rt.config.periodSeconds,
    remediation: {
      policy: rt.config.policy,
      baseThresholds: rt.config.thresholds,
      source,
      actions: rt.actions,
      ...(act
        ? {
            act: {
              actions: rt.actions,
              executors: EXECUTORS,
              exec: { eks: rt.eks, ec2: rt.ec2, now: rt.now, sleep: rt.sleep, followForMs: rt.config.followForMs },
              // This invocation: the leases it takes on changes in flight are its own.
              owner: randomUUID(),
              // Every outcome is a message of its own; the final one is sent before the lock is released.
              notify: async (record, outcome) => {
                await publishNotification(rt.sns, rt.config.topicArn, buildActionNotification(record, outcome, context, rt.now()));
              },
            },
          }
        : {}),
    },
  };
}

/**
 * Logs what a cycle could not see or do: the same lines from the sampler and the responder
 * ('cluster sampling failed' with the call and code, 'cluster data incomplete' with the problems,
 * unknown instance types, 'collection stopped at the deadline' with the reads it cut, then each
 * other cycle problem once, with `attributes`).
 */
export function logCycleHealth(
  logger: Logger,
  result: Pick<CycleResult, 'usage' | 'problems'>,
  attributes: Record<string, string> = {},
  deadline?: CycleDeadline,
): void {
  const { usage } = result;
  for (const f of usage.failedClusters) {
    logger.error('cluster sampling failed', { cluster: f.name, operation: f.problem.source, code: f.problem.code, error: f.problem.message });
  }
  for (const c of usage.clusters.filter((x) => !x.complete)) {
    logger.warn('cluster data incomplete', { cluster: c.name, problems: c.problems });
  }
  for (const t of usage.unknownInstanceTypes) {
    logger.warn('instance type unknown to DescribeInstanceTypes', { instanceType: t });
  }
  const cut = deadlineProblem(deadline);
  if (cut && deadline) {
    logger.warn('collection stopped at the deadline', { ...attributes, why: deadline.why, budgetMs: deadline.budgetMs, readsCut: deadline.cutReads });
  }
  // The failed and incomplete clusters' sampling problems and the deadline's are logged above
  // with their details; every other problem (a remediation note of such a cluster included) is
  // logged here.
  const logged = new Set([...samplingProblems(usage), ...(cut ? [cut] : [])]);
  for (const p of result.problems) {
    if (!logged.has(p)) logger.warn('cycle problem', { ...attributes, problem: p });
  }
}
