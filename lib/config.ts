/**
 * Runtime configuration, parsed once at cold start from the function's environment
 * (set by serverless.yml from the stage parameters). A bad value stops the function with a
 * message that names every problem; nothing falls back silently.
 */
import * as z from 'zod';
import { DEFAULT_THRESHOLDS, type DiagnoseThresholds } from './diagnose/types';
import { ConfigError, problemLines, zodProblems } from './errors';
import { HEAP_GROWING_PERCENT_DEFAULT } from './heap-growth';
import { EKS_NAME_PATTERN } from './names';
import { parsePolicyJson, policyVersion, type Policy } from './policy/load';
import { PolicyError } from './policy/types';
import { parseCentralPolicyLocation, type CentralPolicyLocation } from './policy/central';

/** The sampler's configuration. */
export interface SamplerConfig {
  /** CloudWatch namespace the metrics go to (METRIC_NAMESPACE). */
  metricNamespace: string;
  /** Clusters to sample; empty means every cluster in the region (CLUSTER_NAMES, comma separated). */
  clusterNames: string[];
  /** How many clusters are collected at the same time (CLUSTER_CONCURRENCY, 1–16, default 4). */
  clusterConcurrency: number;
  /**
   * The functions' VPC placement (FUNCTION_SUBNET_IDS, FUNCTION_SECURITY_GROUP_IDS, comma separated,
   * both or neither; empty = not in a VPC), for the kube-access diagnosis. Absent when the
   * environment does not have the variables (not a deployed function: placement unknown).
   */
  functionPlacement?: { subnetIds: string[]; securityGroupIds: string[] };
}

// EKS cluster names: 1-100 characters, letters, digits, hyphens and underscores, starting
// with a letter or digit (CreateCluster API reference, `name` pattern ^[0-9A-Za-z][A-Za-z0-9\-_]*).
const clusterName = z
  .string()
  .regex(EKS_NAME_PATTERN, 'is not a valid EKS cluster name');

// CloudWatch namespaces: 1-255 characters of [0-9A-Za-z.\-_/#:], not starting with "AWS/"
// (PutMetricData API reference, Namespace).
const namespace = z
  .string()
  .min(1, 'must not be empty')
  .max(255)
  .regex(/^[0-9A-Za-z.\-_/#:]+$/, 'may only contain letters, digits and . - _ / # :')
  .refine((s) => !s.startsWith('AWS/'), 'must not start with "AWS/" (reserved for AWS services)');

/** The namespace the stack publishes to by default (serverless.yml `metricNamespace`). */
export const DEFAULT_NAMESPACE = 'EKS/IPResponder';

/** A comma-separated list, trimmed, empty entries dropped. */
const commaList = (s: string): string[] =>
  s
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n.length > 0);

/** A comma-separated list of EC2 ids (empty entries dropped), each matching `pattern`. */
function idList(pattern: RegExp, message: string) {
  return z.string().transform(commaList).pipe(z.array(z.string().regex(pattern, message)));
}

const samplerEnv = z.object({
  METRIC_NAMESPACE: namespace.default(DEFAULT_NAMESPACE),
  CLUSTER_NAMES: z.string().default('').transform(commaList).pipe(z.array(clusterName)),
  CLUSTER_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(4),
  FUNCTION_SUBNET_IDS: idList(/^subnet-[0-9a-f]{8,17}$/, 'is not a subnet id').optional(),
  FUNCTION_SECURITY_GROUP_IDS: idList(/^sg-[0-9a-f]{8,17}$/, 'is not a security group id').optional(),
});

/** `NAME`, or `NAME[1]` for a part of one; `(root)` for the whole environment. */
function variableText(path: readonly PropertyKey[]): string {
  const [first, ...rest] = path;
  return rest.length > 0 ? `${String(first)}[${rest.map(String).join('][')}]` : String(first ?? '(root)');
}

/** Names every problem of a zod error as `NAME: problem`, zod's message as it is. */
function problemsOf(error: z.ZodError): string[] {
  return problemLines(zodProblems(error, { pathText: variableText, keepLead: true }));
}

/**
 * Parses the sampler's configuration from an environment.
 * @throws ConfigError naming every bad variable.
 */
export function parseSamplerConfig(env: Record<string, string | undefined>): SamplerConfig {
  const parsed = samplerEnv.safeParse(env);
  if (!parsed.success) {
    const problems = problemsOf(parsed.error);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`, problems);
  }
  const subnetIds = parsed.data.FUNCTION_SUBNET_IDS;
  const securityGroupIds = parsed.data.FUNCTION_SECURITY_GROUP_IDS;
  if ((subnetIds?.length ?? 0) > 0 !== (securityGroupIds?.length ?? 0) > 0) {
    const problem = 'FUNCTION_SUBNET_IDS and FUNCTION_SECURITY_GROUP_IDS: a VPC placement has both subnets and security groups, or neither';
    throw new ConfigError(`invalid configuration: ${problem}`, [problem]);
  }
  return {
    metricNamespace: parsed.data.METRIC_NAMESPACE,
    clusterNames: parsed.data.CLUSTER_NAMES,
    clusterConcurrency: parsed.data.CLUSTER_CONCURRENCY,
    ...(subnetIds !== undefined || securityGroupIds !== undefined
      ? { functionPlacement: { subnetIds: subnetIds ?? [], securityGroupIds: securityGroupIds ?? [] } }
      : {}),
  };
}

/**
 * Connection and request timeouts of every AWS SDK client (lib/aws/clients.ts), in ms. The SDK
 * has none by default: a call to an endpoint that accepts the connection and never answers
 * waits until Lambda kills the function (or for ever, in the CLI). A call that times out is
 * retried like any transient failure (AWS_MAX_ATTEMPTS, 3 by default), so one call can take up
 * to that many times its timeout.
 */
export interface HttpTimeouts {
  /**
   * Establishing the TCP connection (HTTP_CONNECTION_TIMEOUT_MS, default 5,000): a regional
   * endpoint connects in milliseconds; 5 s still covers the kernel's SYN retransmissions at
   * 1 s and 3 s when a packet is lost.
   */
  connectionMs: number;
  /**
   * The whole request and answer of EKS, CloudWatch, SNS and DynamoDB calls
   * (HTTP_REQUEST_TIMEOUT_MS, default 10,000): their answers are small (one cluster, one item,
   * a batch of metrics) and come in well under a second.
   */
  requestMs: number;
  /**
   * The whole request and answer of EC2 calls (EC2_REQUEST_TIMEOUT_MS, default 30,000): a
   * Describe* page of 1,000 ENIs or instances is megabytes of XML and can take several seconds
   * on a large account; 30 s is a few times the slowest page seen, and three attempts (90 s)
   * still fit in the functions' 120 s timeout.
   */
  ec2RequestMs: number;
}

/** The timeouts when the environment sets none. */
export const DEFAULT_HTTP_TIMEOUTS: Readonly<HttpTimeouts> = { connectionMs: 5_000, requestMs: 10_000, ec2RequestMs: 30_000 };

// At least 100 ms (fewer is a value in seconds by mistake), at most Lambda's 15 minutes.
const timeoutMs = z.coerce.number().int('must be a whole number of milliseconds').min(100, 'must be at least 100 (milliseconds)').max(900_000);
const httpTimeoutsEnv = z.object({
  HTTP_CONNECTION_TIMEOUT_MS: timeoutMs.default(DEFAULT_HTTP_TIMEOUTS.connectionMs),
  HTTP_REQUEST_TIMEOUT_MS: timeoutMs.default(DEFAULT_HTTP_TIMEOUTS.requestMs),
  EC2_REQUEST_TIMEOUT_MS: timeoutMs.default(DEFAULT_HTTP_TIMEOUTS.ec2RequestMs),
});

/**
 * A group of variables of an environment by its schema; an empty value is unset (`z.coerce`
 * would read it as 0).
 * @throws ConfigError naming every bad variable.
 */
function parseEnvGroup<S extends z.ZodObject>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  const set = Object.fromEntries(Object.keys(schema.shape).flatMap((k) => (env[k] ? [[k, env[k]]] : [])));
  const parsed = schema.safeParse(set);
  if (!parsed.success) {
    const problems = problemsOf(parsed.error);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`, problems);
  }
  return parsed.data;
}

/**
 * The SDK clients' timeouts from an environment (the functions' and the CLI's).
 * @throws ConfigError naming every bad variable.
 */
export function parseHttpTimeouts(env: Record<string, string | undefined>): HttpTimeouts {
  const data = parseEnvGroup(httpTimeoutsEnv, env);
  return {
    connectionMs: data.HTTP_CONNECTION_TIMEOUT_MS,
    requestMs: data.HTTP_REQUEST_TIMEOUT_MS,
    ec2RequestMs: data.EC2_REQUEST_TIMEOUT_MS,
  };
}

/** A token bucket: up to `burst` requests at once, then `perSecond` (lib/aws/pacer.ts). */
export interface PaceLimits {
  perSecond: number;
  burst: number;
}

/**
 * The default: a quarter of a non-mutating EC2 action's refill (20 a second), and a fifth of its
 * bucket (100) at once (EC2 developer guide, "Request throttling for the Amazon EC2 API",
 * https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html).
 */
export const EC2_DESCRIBE_PACE: Readonly<PaceLimits> = { perSecond: 5, burst: 20 };

/**
 * How fast the EC2 client's Describe* requests may go, per API (lib/aws/pacer.ts):
 * EC2_DESCRIBES_PER_SECOND (default 5: a quarter of a non-mutating action's refill) and
 * EC2_DESCRIBE_BURST (default 20: a fifth of its bucket). The stack lowers the rate in fan-out
 * mode, where several invocations read at once (stack/fanout.ts describePace).
 */
const describePaceEnv = z.object({
  EC2_DESCRIBES_PER_SECOND: z.coerce.number().gt(0, 'must be above 0').max(100, 'must be at most 100 (a bucket refills 20 a second)').default(EC2_DESCRIBE_PACE.perSecond),
  EC2_DESCRIBE_BURST: z.coerce.number().int('must be a whole number').min(1).max(100, 'must be at most 100 (a bucket holds 100)').default(EC2_DESCRIBE_PACE.burst),
});

/**
 * The Describe* pace from an environment (the functions' and the CLI's).
 * @throws ConfigError naming every bad variable.
 */
export function parseDescribePace(env: Record<string, string | undefined>): PaceLimits {
  const data = parseEnvGroup(describePaceEnv, env);
  return { perSecond: data.EC2_DESCRIBES_PER_SECOND, burst: data.EC2_DESCRIBE_BURST };
}

/** What both functions need beyond the sampler's basics: where to notify and record, and the thresholds. */
export interface RuntimeConfig extends SamplerConfig {
  /** SNS topic for notifications (ALERT_TOPIC_ARN). */
  topicArn: string;
  /** DynamoDB ledger table (LEDGER_TABLE). */
  ledgerTable: string;
  /** CloudWatch dashboard linked from notifications (DASHBOARD_NAME), optional. */
  dashboardName?: string;
  /** The deployment stage (STAGE), named in notifications. */
  stage?: string;
  /** Prefix of the stack's alarm names (ALARM_NAME_PREFIX), e.g. `eks-ip-responder-prod-`. */
  alarmNamePrefix: string;
  thresholds: DiagnoseThresholds;
  /** Hours of metric history the forecast reads (FORECAST_WINDOW_HOURS, 2–336, default 24). */
  forecastWindowHours: number;
  /** The metric period in seconds (METRIC_PERIOD_SECONDS, 60–3600, default 300). */
  periodSeconds: number;
  /** Re-notify a finding still critical after this many hours (RENOTIFY_AFTER_HOURS, 0 = never, default 24). */
  renotifyAfterHours: number;
  /**
   * The responder runs at most one targeted cycle per cluster in this many seconds
   * (RESPOND_MIN_INTERVAL_SECONDS, 0–3600, default 60); events in between are counted, not answered.
   */
  respondMinIntervalSeconds: number;
  /**
   * The remediation policy: the one compiled into the function (policy.yml, validated when the
   * stack was packaged; lib/policy/bundled.ts), or POLICY_JSON when set (tests, the bench, an
   * override by hand that the next deploy removes).
   */
  policy: Policy;
  /** Where the policy came from, and its version (lib/policy/load.ts policyVersion), for the logs. */
  policySource: { from: 'bundle' | 'POLICY_JSON'; version: string };
  /** How long an executor follows an EKS update within one invocation, ms (FOLLOW_FOR_SECONDS, default 20: three clusters stay inside the 120 s timeout; the next tick follows the rest). */
  followForMs: number;
  /** The SDK clients' connection and request timeouts (HTTP_CONNECTION_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS, EC2_REQUEST_TIMEOUT_MS). */
  httpTimeouts: HttpTimeouts;
  /** The EC2 Describe* pace, per API (EC2_DESCRIBES_PER_SECOND, EC2_DESCRIBE_BURST; parseDescribePace). */
  describePace: PaceLimits;
  /**
   * Clusters whose Kubernetes API the functions read and apply to through their access entry
   * (KUBERNETES_CLUSTERS, comma separated; `*` = every cluster). Absent: Kubernetes is not read.
   */
  kubernetesClusters?: string[] | '*';
  /**
   * The organisation's central SNS topic (CENTRAL_TOPIC_ARN, '' or absent = none): every finding
   * notification and action outcome is also published there (lib/output/notify/central.ts).
   */
  centralTopicArn?: string;
  /**
   * The central remediation policy (CENTRAL_POLICY: an SSM parameter's full ARN or s3://bucket/key;
   * empty = none, the packaged policy alone). The packaged policy is then its ceiling (lib/policy/central.ts).
   */
  centralPolicy?: CentralPolicyLocation;
  /** How long a read central policy is used before it is read again, ms (CENTRAL_POLICY_CACHE_SECONDS, 60-3600, default 300). */
  centralPolicyCacheMs: number;
  /** V8's old-generation growth between full collections, % (HEAP_GROWING_PERCENT, 0-300, default 100; 0: V8's own; lib/heap-growth.ts). */
  heapGrowingPercent: number;
}

const fraction = z.coerce.number().min(0).max(1);
const count = z.coerce.number().int().min(0);

const runtimeEnv = z
  .object({
    ALERT_TOPIC_ARN: z.string().regex(/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]+$/, 'is not an SNS topic ARN'),
    LEDGER_TABLE: z.string().regex(/^[\w.-]{3,255}$/, 'is not a DynamoDB table name'),
    DASHBOARD_NAME: z.string().optional(),
    STAGE: z.string().optional(),
    ALARM_NAME_PREFIX: z.string().min(1, 'must not be empty').default('eks-ip-responder-'),
    SUBNET_FREE_IPS_WARNING: count.default(DEFAULT_THRESHOLDS.subnetFreeIpsWarning),
    SUBNET_FREE_IPS_CRITICAL: count.default(DEFAULT_THRESHOLDS.subnetFreeIpsCritical),
    SUBNET_UTILIZATION_WARNING: fraction.default(DEFAULT_THRESHOLDS.subnetUtilizationWarning),
    NODES_AT_IP_LIMIT_WARNING_SHARE: fraction.default(DEFAULT_THRESHOLDS.nodesAtIpLimitWarningShare),
    NODES_AT_IP_LIMIT_CRITICAL_SHARE: fraction.default(DEFAULT_THRESHOLDS.nodesAtIpLimitCriticalShare),
    HELD_BY_OTHERS_SHARE: fraction.default(DEFAULT_THRESHOLDS.heldByOthersShare),
    PREFIX_BLOCKS_WARNING: count.default(DEFAULT_THRESHOLDS.prefixBlocksWarning),
    MAX_PODS_WASTE_SHARE: fraction.default(DEFAULT_THRESHOLDS.maxPodsWasteShare),
    FORECAST_WINDOW_HOURS: z.coerce.number().min(2).max(336).default(24),
    METRIC_PERIOD_SECONDS: z.coerce.number().int().min(60).max(3600).default(300),
    RENOTIFY_AFTER_HOURS: z.coerce.number().min(0).max(720).default(24),
    RESPOND_MIN_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
    POLICY_JSON: z.string().min(1, 'must not be empty when set').optional(),
    POLICY_VERSION: z.string().regex(/^[0-9a-f]{12}$/, 'is not a policy version (12 hex digits)').optional(),
    FOLLOW_FOR_SECONDS: z.coerce.number().int().min(0).max(600).default(20),
    CENTRAL_POLICY_CACHE_SECONDS: z.coerce.number().int().min(60).max(3600).default(300),
    HEAP_GROWING_PERCENT: z.coerce.number().int('must be a whole number').min(0).max(300, 'must be at most 300').default(HEAP_GROWING_PERCENT_DEFAULT),
    KUBERNETES_CLUSTERS: z
      .string()
      .default('')
      .transform(commaList)
      // Refinements, not a union of schemas: each zod schema kind costs the bundles kilobytes.
      .refine((names) => names.length <= 1 || !names.includes('*'), "'*' (every cluster) stands alone")
      .refine((names) => names.every((n) => n === '*' || EKS_NAME_PATTERN.test(n)), 'has a name that is not a valid EKS cluster name'),
    CENTRAL_TOPIC_ARN: z
      .string()
      .default('')
      .refine((s) => s === '' || /^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]+$/.test(s), 'is not an SNS topic ARN'),
  })
  .refine((e) => e.SUBNET_FREE_IPS_CRITICAL <= e.SUBNET_FREE_IPS_WARNING, {
    message: 'must not be above SUBNET_FREE_IPS_WARNING',
    path: ['SUBNET_FREE_IPS_CRITICAL'],
  })
  .refine((e) => e.NODES_AT_IP_LIMIT_WARNING_SHARE <= e.NODES_AT_IP_LIMIT_CRITICAL_SHARE, {
    message: 'must not be above NODES_AT_IP_LIMIT_CRITICAL_SHARE',
    path: ['NODES_AT_IP_LIMIT_WARNING_SHARE'],
  });

/**
 * Parses the configuration of the deployed functions: the sampler's, plus the topic, the
 * ledger and the thresholds. Every bad variable of both parts is named at once.
 * @param bundled the policy JSON compiled into the function (lib/policy/bundled.ts), if any.
 *   POLICY_JSON, when set, takes its place; one of the two is required. POLICY_VERSION, when
 *   set, must be the bundled policy's version: a function whose package and configuration come
 *   from two different deploys refuses to start rather than run a policy nobody reviewed.
 * @throws ConfigError
 */
export function parseRuntimeConfig(env: Record<string, string | undefined>, bundled?: string): RuntimeConfig {
  const problems: string[] = [];
  // Each part's ConfigError problems are collected, so that one message names them all.
  const part = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
      return undefined;
    }
  };
  const base = part(() => parseSamplerConfig(env));
  const parsed = runtimeEnv.safeParse(env);
  if (!parsed.success) problems.push(...problemsOf(parsed.error));
  const httpTimeouts = part(() => parseHttpTimeouts(env));
  const describePace = part(() => parseDescribePace(env));
  let policy: Policy | undefined;
  let policySource: RuntimeConfig['policySource'] | undefined;
  const override = env['POLICY_JSON'];
  const [policyText, from, name] = override
    ? ([override, 'POLICY_JSON', 'POLICY_JSON'] as const)
    : ([bundled, 'bundle', 'bundled policy'] as const);
  if (policyText === undefined) {
    problems.push('POLICY_JSON: is required when no policy is bundled (`serverless package` compiles policy.yml into the functions)');
  } else {
    const version = policyVersion(policyText);
    const expected = env['POLICY_VERSION'];
    if (from === 'bundle' && expected !== undefined && /^[0-9a-f]{12}$/.test(expected) && expected !== version) {
      problems.push(`POLICY_VERSION: is ${expected}, but the bundled policy is version ${version}: redeploy the whole stack (\`serverless deploy\`, not \`deploy function\`)`);
    }
    try {
      policy = parsePolicyJson(policyText, name);
      policySource = { from, version };
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      problems.push(...err.problems.map((p) => `${name}: ${p}`));
    }
  }
  let centralPolicy: CentralPolicyLocation | undefined;
  try {
    centralPolicy = parseCentralPolicyLocation(env['CENTRAL_POLICY'] ?? '');
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    problems.push(...err.problems.map((p) => p.replace(/^centralPolicy:/, 'CENTRAL_POLICY:')));
  }
  if (problems.length > 0 || !base || !parsed.success || !policy || !policySource || !httpTimeouts) {
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`, problems);
  }
  const e = parsed.data;
  return {
    ...base,
    topicArn: e.ALERT_TOPIC_ARN,
    ledgerTable: e.LEDGER_TABLE,
    ...(e.DASHBOARD_NAME ? { dashboardName: e.DASHBOARD_NAME } : {}),
    ...(e.STAGE ? { stage: e.STAGE } : {}),
    alarmNamePrefix: e.ALARM_NAME_PREFIX,
    thresholds: {
      subnetFreeIpsWarning: e.SUBNET_FREE_IPS_WARNING,
      subnetFreeIpsCritical: e.SUBNET_FREE_IPS_CRITICAL,
      subnetUtilizationWarning: e.SUBNET_UTILIZATION_WARNING,
      nodesAtIpLimitWarningShare: e.NODES_AT_IP_LIMIT_WARNING_SHARE,
      nodesAtIpLimitCriticalShare: e.NODES_AT_IP_LIMIT_CRITICAL_SHARE,
      heldByOthersShare: e.HELD_BY_OTHERS_SHARE,
      prefixBlocksWarning: e.PREFIX_BLOCKS_WARNING,
      maxPodsWasteShare: e.MAX_PODS_WASTE_SHARE,
    },
    forecastWindowHours: e.FORECAST_WINDOW_HOURS,
    periodSeconds: e.METRIC_PERIOD_SECONDS,
    renotifyAfterHours: e.RENOTIFY_AFTER_HOURS,
    respondMinIntervalSeconds: e.RESPOND_MIN_INTERVAL_SECONDS,
    policy,
    policySource,
    followForMs: e.FOLLOW_FOR_SECONDS * 1000,
    httpTimeouts,
    describePace: describePace ?? { ...EC2_DESCRIBE_PACE },
    ...(centralPolicy ? { centralPolicy } : {}),
    centralPolicyCacheMs: e.CENTRAL_POLICY_CACHE_SECONDS * 1000,
    heapGrowingPercent: e.HEAP_GROWING_PERCENT,
    ...(e.KUBERNETES_CLUSTERS.length > 0 ? { kubernetesClusters: e.KUBERNETES_CLUSTERS[0] === '*' ? ('*' as const) : e.KUBERNETES_CLUSTERS } : {}),
    ...(e.CENTRAL_TOPIC_ARN ? { centralTopicArn: e.CENTRAL_TOPIC_ARN } : {}),
  };
}
