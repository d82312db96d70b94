/**
 * Runtime configuration, parsed once at cold start from the function's environment
 * (set by serverless.yml from the stage parameters). A bad value stops the function with a
 * message that names every problem; nothing falls back silently.
 */
import { z } from 'zod';
import { ConfigError } from './errors';

/** The sampler's configuration. */
export interface SamplerConfig {
  /** CloudWatch namespace the metrics go to (METRIC_NAMESPACE). */
  metricNamespace: string;
  /** Clusters to sample; empty means every cluster in the region (CLUSTER_NAMES, comma separated). */
  clusterNames: string[];
  /** How many clusters are collected at the same time (CLUSTER_CONCURRENCY, 1–16, default 4). */
  clusterConcurrency: number;
}

// EKS cluster names: 1-100 characters, letters, digits, hyphens and underscores, starting
// with a letter or digit (CreateCluster API reference, `name` pattern ^[0-9A-Za-z][A-Za-z0-9\-_]*).
const clusterName = z
  .string()
  .regex(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/, 'is not a valid EKS cluster name');

// CloudWatch namespaces: 1-255 characters of [0-9A-Za-z.\-_/#:], not starting with "AWS/"
// (PutMetricData API reference, Namespace).
const namespace = z
  .string()
  .min(1, 'must not be empty')
  .max(255)
  .regex(/^[0-9A-Za-z.\-_/#:]+$/, 'may only contain letters, digits and . - _ / # :')
  .refine((s) => !s.startsWith('AWS/'), 'must not start with "AWS/" (reserved for AWS services)');

const samplerEnv = z.object({
  METRIC_NAMESPACE: namespace.default('EKS/IPResponder'),
  CLUSTER_NAMES: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n.length > 0),
    )
    .pipe(z.array(clusterName)),
  CLUSTER_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(4),
});

/** Names every problem of a zod error as `NAME: problem`. */
function problemsOf(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const [first, ...rest] = issue.path;
    const where = rest.length > 0 ? `${String(first)}[${rest.map(String).join('][')}]` : String(first ?? '(root)');
    return `${where}: ${issue.message}`;
  });
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
  return {
    metricNamespace: parsed.data.METRIC_NAMESPACE,
    clusterNames: parsed.data.CLUSTER_NAMES,
    clusterConcurrency: parsed.data.CLUSTER_CONCURRENCY,
  };
}
