/**
 * The command line: the same pipeline off-Lambda.
 * Design (the commands, the AWS environment): docs/cli.md#libclimaints-the-command-line
 *
 * The AWS SDK and the pipeline that reads through it (lib/aws, lib/cycle) are imported with
 * `import()` by the commands that use them, never at the top: esbuild keeps such an import lazy
 * in dist/cli.js, so max-pods and policy load no @aws-sdk module (two thirds of their run time
 * when they did; test/cli/bin.test.ts checks it).
 */
import { parseArgs } from 'node:util';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
// The version of package.json, bundled into dist/cli.js by esbuild (only this field of the file).
import { version as PACKAGE_VERSION } from '../../package.json';
import {
  cniSupportsPrefixDelegation,
  eniMaxPods,
  enisForPods,
  kubeletMaxPodsCap,
  maxPods,
  networkCapacityOf,
  podIpSlots,
  type MaxPodsOptions,
} from '../capacity/instance-type';
import { closestInstanceTypes, knownInstanceTypes } from '../capacity/known-instance-types';
import type { LiveSourceOptions } from '../aws/live-source';
import { CycleDeadline } from '../deadline';
import { messageOf } from '../errors';
import { DEFAULT_NAMESPACE, parseDescribePace, parseHttpTimeouts } from '../config';
import { progressReporter } from './progress';
import { RecordingSource, writeSnapshot } from '../inventory/capture';
import { collectInventory } from '../inventory/collect';
import { readSnapshot } from '../inventory/snapshot';
import type { InventorySource } from '../inventory/types';
import type { KubernetesReader } from '../inventory/kube-types';
import type { HistoryReader } from '../forecast/forecast';
import { DEFAULT_THRESHOLDS } from '../diagnose/types';
import { preflightChecks } from '../diagnose/headroom-preflight';
import { networkChecks } from '../diagnose/network-preflight';
import { deployablePolicy } from '../policy/deployable';
import { deployedPolicySize, remediationGrants, REMEDIATION_POLICY_MAX_CHARS, type ClusterGrants } from '../policy/iam';
import { closestClusterNames, effectivePolicy, POLICY_MAX_BYTES } from '../policy/load';
import { readPolicyFile } from '../policy/yaml';
import { actionPolicyOf, PolicyError } from '../policy/types';
import { measure } from '../measure/measure';
import type { Usage } from '../measure/types';
import { usageJson } from '../output/report/gaps';
import { absentReasons, renderPlan, type PlanReportContext } from '../output/report/plan';
import { renderReport, summaryLine } from '../output/report/text';
import { colourWanted } from '../output/report/format';
import { table } from '../output/report/table';
import { rbacManifest } from '../kube-rbac';
// For bin/eks-ip-responder.js: the SDK's 8-line Node.js version warning said in one line.
export { nodeVersionNote, quietSdkNodeVersionWarning } from './node-version';

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  now: () => Date;
  /** Whether `out` is a terminal: the text report is in colour only then (and without NO_COLOR). */
  isTTY?: boolean;
  /**
   * Builds the live source; tests replace it with one over mocked clients. `options` carries the
   * run's deadline and progress (from --deadline and --progress): pass them to the LiveSource.
   */
  liveSource?: (region: string, options: LiveSourceOptions) => InventorySource;
  /** Builds the CloudWatch client the live report reads history with; tests pass a mocked one. */
  cloudwatch?: (region: string) => CloudWatchClient;
  /** Set by main() for a live run, from --progress and --deadline (see {@link liveRunOptions}). */
  live?: LiveRun;
}

/** What main() takes out of a live command's arguments. */
export interface LiveRun {
  /** Where the progress of the live reads goes; absent when it is not shown. */
  onProgress?: LiveSourceOptions['onProgress'];
  /** --deadline: seconds after the source is opened when collection stops. */
  deadlineSeconds?: number;
}

/** A usage error: the message says what is wrong and the CLI exits with 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export { DEFAULT_NAMESPACE };

/**
 * Each command's options, as its parser takes them and its help lists them (test/cli/help.test.ts
 * checks that every one is in the help). `--progress` and `--deadline` of the live commands are
 * taken by main() before ({@link liveRunOptions}, {@link LIVE_OPTIONS}).
 */
export const COMMAND_OPTIONS = {
  report: {
    snapshot: { type: 'string' },
    region: { type: 'string' },
    clusters: { type: 'string' },
    namespace: { type: 'string' },
    'no-forecast': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    kubernetes: { type: 'boolean', default: false },
  },
  capture: { out: { type: 'string' }, region: { type: 'string' }, clusters: { type: 'string' }, kubernetes: { type: 'boolean', default: false } },
  plan: {
    snapshot: { type: 'string' },
    region: { type: 'string' },
    clusters: { type: 'string' },
    policy: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  preflight: {
    snapshot: { type: 'string' },
    region: { type: 'string' },
    cluster: { type: 'string' },
    nodegroup: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  // --file is the old name of --policy (see policyFileOf).
  policy: { policy: { type: 'string' }, file: { type: 'string' }, cluster: { type: 'string' }, default: { type: 'boolean' } },
  'max-pods': {
    all: { type: 'boolean', default: false },
    'prefix-delegation': { type: 'boolean', default: false },
    'custom-networking': { type: 'boolean', default: false },
    'max-eni': { type: 'string' },
    'cni-version': { type: 'string' },
    'no-cap': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
  rbac: {},
} as const;

/** The commands. */
export type CommandName = keyof typeof COMMAND_OPTIONS;

/** The options main() takes out of a live command's arguments (report, capture, plan). */
export const LIVE_OPTIONS = ['progress', 'deadline'] as const;

/** The overview: `eks-ip-responder`, `help`, `--help`, and after a usage error outside a command. */
export const USAGE = `Usage: eks-ip-responder COMMAND [options]

Commands:
  report    sample clusters (live, or from a snapshot) and print findings, subnets, holders,
            nodegroups and limits
  capture   write a snapshot of the live account (read-only calls) to replay or attach to a bug
  plan      what the policy would do for each cluster, and what blocks it (changes nothing)
  preflight will a nodegroup update, a scale-out to max size or a version upgrade find the free
            IPs it needs? (read-only)
  policy    check: validate a policy; show: the policy in force for a cluster
  max-pods  max pods per instance type, as AWS's max-pods-calculator.sh computes them (offline)
  rbac      the Kubernetes RBAC of the stack's access entries: pipe it to kubectl apply -f -

  eks-ip-responder COMMAND --help     a command's options, an example and its exit status
  eks-ip-responder help COMMAND       the same
  eks-ip-responder --version          the version (also -v)

Exit status: 0 done; 1 an error; 2 a usage error; 3 (report, capture, plan) done, but a
cluster is INCOMPLETE (a read failed: its figures that rest on it are unknown) or failed.
`;

const LIVE_EXIT = `Exit status: 0 done, every cluster complete; 1 an error (nothing or not all was reported: one
line says why); 2 a usage error; 3 done, but a cluster is INCOMPLETE (a read failed: its figures
that rest on it are unknown) or failed (the output says which and why).
`;

/**
 * What `--progress`, `--deadline` and the SDK timeouts do on a live run: the end of the help of
 * report, capture and plan.
 */
export const LIVE_USAGE = `
Live runs (without --snapshot) also take:
  --progress          progress on stderr: per cluster, the read and its pages (shown by default
                      when the run takes more than a few seconds; with --json only if asked)
  --deadline SECONDS  stop reading after SECONDS: a read cut is a failed read (the cluster is
                      INCOMPLETE or not sampled), and what was read completely is reported
They use the standard AWS SDK environment (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...).
Every AWS call has a connection and a request timeout, in ms: HTTP_CONNECTION_TIMEOUT_MS (5000),
HTTP_REQUEST_TIMEOUT_MS (10000), EC2_REQUEST_TIMEOUT_MS (30000); the SDK retries a timed-out call
up to AWS_MAX_ATTEMPTS times (3).
`;

/** `COMMAND --help` and `help COMMAND`: usage, options, an example, exit status. */
export const COMMAND_HELP: Record<CommandName, string> = {
  report: `Usage: eks-ip-responder report [--snapshot DIR | --region REGION] [--clusters a,b] [--json]
                               [--namespace NS] [--no-forecast] [--kubernetes] [--progress] [--deadline SECONDS]

Sample clusters and print findings, subnets, holders, nodegroups and limits. Read-only.

Options:
  --snapshot DIR    read a snapshot directory (written by capture) instead of the live account
  --region REGION   the live account's region (default: AWS_REGION, then AWS_DEFAULT_REGION)
  --clusters a,b    only these clusters (default: every cluster of the region or snapshot)
  --json            print {usage, findings, forecasts, problems} instead of the text report
  --namespace NS    live: the CloudWatch namespace the forecasts read the history the deployed
                    stack published from (default EKS/IPResponder)
  --no-forecast     live: read no metric history, make no forecast
  --kubernetes      live: also read each cluster's Kubernetes API (nodes, pods, IP-failure events,
                    aws-node, ENIConfigs, Karpenter) with your own credentials, as kubectl would
                    through an EKS access entry; off by default (docs/kubernetes.md)

Examples:
  eks-ip-responder report --snapshot events/demo-snapshot
  eks-ip-responder report --region eu-west-1 --clusters payments-prod --json

${LIVE_EXIT}${LIVE_USAGE}`,
  capture: `Usage: eks-ip-responder capture --out DIR [--region REGION] [--clusters a,b] [--kubernetes]
                                [--progress] [--deadline SECONDS]

Write a snapshot of the live account (read-only calls), to replay with report --snapshot DIR or
plan --snapshot DIR, or to attach to a bug report. Failed reads are recorded and replayed.

Options:
  --out DIR         the directory to write (required)
  --region REGION   the account's region (default: AWS_REGION, then AWS_DEFAULT_REGION)
  --clusters a,b    only these clusters (default: every cluster of the region)
  --kubernetes      also write each cluster's Kubernetes answers (kubernetes/<cluster>/), read
                    with your own credentials; off by default

Example:
  eks-ip-responder capture --region eu-west-1 --out ./snapshot --clusters payments-prod

${LIVE_EXIT}${LIVE_USAGE}`,
  plan: `Usage: eks-ip-responder plan [--snapshot DIR | --region REGION] [--policy FILE] [--clusters a,b]
                             [--json] [--progress] [--deadline SECONDS]

What the policy would do for each cluster: each action, why, its predicted effect, what blocks
it. Plans only: this command changes nothing.

Options:
  --snapshot DIR    read a snapshot directory (written by capture) instead of the live account
  --region REGION   the live account's region (default: AWS_REGION, then AWS_DEFAULT_REGION)
  --policy FILE     the policy (default: policy.yml)
  --clusters a,b    only these clusters (default: every cluster of the region or snapshot)
  --json            print {policy, clusters, failedClusters} instead of the text plan

Example:
  eks-ip-responder plan --snapshot events/demo-snapshot --policy policy.yml

${LIVE_EXIT}${LIVE_USAGE}`,
  preflight: `Usage: eks-ip-responder preflight [--snapshot DIR | --region REGION] [--cluster NAME]
                                  [--nodegroup NAME] [--json] [--progress] [--deadline SECONDS]

Before you start it: will it fit? For each cluster, the Kubernetes version upgrade (up to 5 new
control-plane ENIs in any cluster subnet, free IPs in 2 AZs), and for each managed nodegroup its
rolling update (the surge EKS launches: the larger of 2 per AZ and maxUnavailable) and its
scale-out to its max size, each new node with its warm pool at the cluster's VPC CNI settings,
against the free IPs of its subnets per AZ. Then the network nodes need to join: the VPC's DNS
support and hostnames and AmazonProvidedDNS, and for each node subnet a default route to a NAT
or internet gateway, or the VPC endpoints (ec2, ecr.api, ecr.dkr, s3; sts with IRSA) with
private DNS and a security group open to the nodes on 443. Read-only.

Options:
  --snapshot DIR    read a snapshot directory (written by capture) instead of the live account
  --region REGION   the live account's region (default: AWS_REGION, then AWS_DEFAULT_REGION)
  --cluster NAME    only this cluster (default: every cluster of the region or snapshot)
  --nodegroup NAME  only this managed nodegroup's checks, and its subnets' network (needs --cluster)
  --json            print {checks, network, problems, failedClusters} instead of the text

Examples:
  eks-ip-responder preflight --snapshot events/demo-snapshot
  eks-ip-responder preflight --region eu-west-1 --cluster payments-prod --nodegroup general --json

Exit status: 0 every check fits; 1 a check does not fit or a network piece is missing (or an
error: one line says why); 2 a usage error; 3 nothing fails, but a check is unknown: a read it
rests on failed (the cluster is INCOMPLETE) or a cluster failed.
${LIVE_USAGE}`,
  policy: `Usage: eks-ip-responder policy check [--policy FILE]
       eks-ip-responder policy show (--cluster NAME | --default) [--policy FILE]

check: validate the policy with every check packaging makes (every problem named), and say its
size and what the responder's role may change under it.
show: print, as JSON, the policy in force for a cluster the policy names, or the default (what
any other cluster gets).

Options:
  --policy FILE     the policy (default: policy.yml); --file FILE, its old name, is still taken,
                    with a note that it is deprecated
  --cluster NAME    show: a cluster the policy names
  --default         show: the default

Examples:
  eks-ip-responder policy check --policy policy.yml
  eks-ip-responder policy show --cluster payments-prod

Exit status: 0 valid (check) or printed (show); 1 an invalid policy (every problem named), or a
cluster the policy does not name (show: with the closest names); 2 a usage error.
`,
  'max-pods': `Usage: eks-ip-responder max-pods [TYPE ...] [--all] [--prefix-delegation] [--custom-networking]
                                 [--max-eni N] [--cni-version V] [--no-cap] [--json]

Max pods per instance type from the bundled DescribeInstanceTypes data, as AWS's
max-pods-calculator.sh computes them. Type names in any case. Offline: no AWS call.

Options:
  --all                every instance type of the bundled data
  --prefix-delegation  prefix delegation (the calculator's --cni-prefix-delegation-enabled);
                       Nitro types only, and VPC CNI 1.9.0 or later
  --custom-networking  custom networking: no pod on the primary ENI
                       (--cni-custom-networking-enabled)
  --max-eni N          the CNI's MAX_ENI, 1 or more (--cni-max-eni)
  --cni-version V      the VPC CNI version (default: a current one)
  --no-cap             without kubelet's cap of 110 pods (250 above 30 vCPUs) (--show-max-allowed)
  --json               print {options, instanceTypes, unknown, suggestions, notes}

Examples:
  eks-ip-responder max-pods m5.large C6G.2xlarge --prefix-delegation
  eks-ip-responder max-pods --all --json

Exit status: 0 done; 1 a type the bundled data does not know (the others are still printed;
it gets the closest known names); 2 a usage error.
`,
  rbac: `Usage: eks-ip-responder rbac [--help]

Prints the Kubernetes RBAC the stack's access entries need (ClusterRoles, a kube-system Role for
the aws-node DaemonSet, and their bindings to the groups eks-ip-responder-reader and
eks-ip-responder-writer), once per cluster listed in the stage param kubernetesClusters.
Offline: no AWS call. docs/kubernetes.md, "Granting access".

Examples:
  eks-ip-responder rbac | kubectl apply -f -
  eks-ip-responder rbac > eks-ip-responder-rbac.yaml

Exit status: 0 printed; 2 a usage error.
`,
};

/** `rbac`: the RBAC manifest of the access entries' groups (lib/kube-rbac.ts), for `kubectl apply -f -`. */
function rbacCommand(args: string[], io: CliIo): number {
  parseArgs({ args, options: COMMAND_OPTIONS.rbac, allowPositionals: false });
  io.out(rbacManifest());
  return 0;
}

function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.prototype.hasOwnProperty.call(COMMAND_OPTIONS, name);
}

/** `--help` or `-h` among a command's arguments (before a `--`). */
function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/**
 * The policy file of `plan` and `policy check|show`: `--policy FILE`, policy.yml by default.
 * `--file`, what `policy check|show` called it before, is still taken, with a one-line note on
 * stderr, so that scripts keep working while they move to --policy.
 */
function policyFileOf(values: { policy?: string; file?: string }, io: CliIo): string {
  if (values.file === undefined) return values.policy ?? 'policy.yml';
  if (values.policy !== undefined) throw new UsageError('--file is the old name of --policy: give --policy alone');
  io.err('eks-ip-responder: note: --file is deprecated, use --policy FILE (the same flag as plan)\n');
  return values.file;
}

/**
 * The cluster names of `--clusters a,b`; none without the option (every cluster). An empty name
 * (`--clusters ,`, `a,,b`, `--clusters ''`) is a usage error: dropped, it would leave an empty
 * list, which means every cluster, not the ones the operator meant.
 */
function clusterList(value: string | undefined): string[] {
  if (value === undefined) return [];
  const names = value.split(',').map((s) => s.trim());
  const empty = names.flatMap((name, i) => (name === '' ? [i + 1] : []));
  if (empty.length > 0) {
    throw new UsageError(
      `--clusters ${JSON.stringify(value)}: ${empty.length === 1 ? `name ${empty[0]} of ${names.length} is` : `names ${empty.join(', ')} of ${names.length} are`} empty; ` +
        'give cluster names separated by commas (a,b), or leave --clusters out for every cluster',
    );
  }
  return names;
}

function regionOf(value: string | undefined, io: CliIo): string {
  const region = value ?? io.env['AWS_REGION'] ?? io.env['AWS_DEFAULT_REGION'];
  if (!region) throw new UsageError('no region: pass --region or set AWS_REGION');
  return region;
}

/**
 * The modules that load the AWS SDK, imported when a command first needs them (see the top of
 * this file). The cycle itself imports no adapter: a live report gives it the history reader
 * below, so that a snapshot run loads no AWS SDK.
 */
const loadCycle = () => import('../cycle');
const loadAwsClients = () => import('../aws/clients');

/** The live source of a run: the SDK timeouts of io.env, and the run's deadline and progress. */
async function liveSource(region: string, io: CliIo, kubernetes = false): Promise<InventorySource> {
  const { onProgress, deadlineSeconds } = io.live ?? {};
  const options: LiveSourceOptions = {
    ...(onProgress ? { onProgress } : {}),
    ...(deadlineSeconds !== undefined
      ? { deadline: new CycleDeadline(deadlineSeconds * 1000, () => io.now().getTime(), `the --deadline of ${deadlineSeconds} s passed`) }
      : {}),
    ...(kubernetes ? { kubernetes: await kubernetesReader(region, io) } : {}),
  };
  if (io.liveSource) return io.liveSource(region, options);
  const [{ LiveSource, ec2Providers }, { createAwsClients }] = await Promise.all([import('../aws/live-source'), loadAwsClients()]);
  // Paced as the functions' reads are: a laptop draws on the account's same buckets (lib/aws/pacer.ts).
  const clients = createAwsClients(region, parseHttpTimeouts(io.env), parseDescribePace(io.env));
  // The subnet and instance-type providers of this run (its instance-type cache lives as long as the run).
  return new LiveSource(clients, region, 'all', options, ec2Providers(clients.ec2));
}

/**
 * `--kubernetes`: reads each cluster's API with the user's own credentials (the SDK's default
 * chain, signed into an EKS token as `aws eks get-token` does), every cluster enabled.
 */
async function kubernetesReader(region: string, io: CliIo): Promise<KubernetesReader> {
  const [{ createAwsClients }, { KubeReader }, { EksTokenCache, tokenSigningOf }] = await Promise.all([loadAwsClients(), import('../kube/reader'), import('../kube/token')]);
  const timeouts = parseHttpTimeouts(io.env);
  const tokens = new EksTokenCache(tokenSigningOf(createAwsClients(region, timeouts).eks.config), io.now);
  return new KubeReader({ token: (name) => tokens.token(name), timeoutMs: timeouts.requestMs, now: () => io.now().getTime() });
}

/** The metric history a live report's forecast reads: CloudWatch, with the source's timeouts. */
async function historyReader(region: string, namespace: string, io: CliIo): Promise<HistoryReader> {
  const { availableIpHistoryReader } = await import('../aws/metric-history');
  if (io.cloudwatch) return availableIpHistoryReader(io.cloudwatch(region), namespace);
  const { createAwsClients } = await loadAwsClients();
  return availableIpHistoryReader(createAwsClients(region, parseHttpTimeouts(io.env)).cloudwatch, namespace);
}

/** A snapshot directory (reported as of when it was taken) or the live account (as of now). */
async function openSource(values: { snapshot?: string; region?: string; kubernetes?: boolean }, io: CliIo): Promise<{ source: InventorySource; now: Date }> {
  if (values.snapshot) {
    const snapshot = await readSnapshot(values.snapshot, { region: values.region });
    return { source: snapshot, now: snapshot.capturedAt ? new Date(snapshot.capturedAt) : io.now() };
  }
  return { source: await liveSource(regionOf(values.region, io), io, values.kubernetes === true), now: io.now() };
}

/**
 * The exit status of report, capture and plan when they ran to the end but a cluster could not be
 * sampled or its data is incomplete: the output says which and why (docs/cli.md). 0 done, 1 an
 * error, 2 a usage error.
 */
export const EXIT_INCOMPLETE = 3;

/** 0, or {@link EXIT_INCOMPLETE} when any cluster failed or is incomplete. */
function exitStatusOf(usage: Usage): number {
  return usage.failedClusters.length > 0 || usage.clusters.some((c) => !c.complete) ? EXIT_INCOMPLETE : 0;
}

async function report(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: COMMAND_OPTIONS.report, allowPositionals: false });
  const { source, now } = await openSource(values, io);
  // Live, the forecast reads the history the deployed stack published (read-only).
  const forecast = !values.snapshot && !values['no-forecast'];
  const history = forecast ? await historyReader(source.region, values.namespace ?? DEFAULT_NAMESPACE, io) : undefined;
  const { runCycle } = await loadCycle();
  const result = await runCycle(
    {
      source,
      thresholds: DEFAULT_THRESHOLDS,
      ...(history ? { history } : {}),
    },
    { clusterNames: clusterList(values.clusters), concurrency: 4, now, network: true },
  );
  // One output contract, live or snapshot: `forecasts` is always there; without history it is
  // empty and `unavailable` says why.
  const unavailable = result.forecasts
    ? null
    : values['no-forecast']
      ? 'not asked for (--no-forecast)'
      : values.snapshot
        ? 'a snapshot holds no metric history (forecasts read the history the deployed stack publishes to CloudWatch: run the report live)'
        : (result.problems.find((p) => p.startsWith('no forecast: '))?.slice('no forecast: '.length) ?? 'the metric history was not read');
  if (values.json) {
    const forecasts = {
      subnets: Object.fromEntries(result.forecasts?.subnets ?? []),
      clusters: Object.fromEntries(result.forecasts?.clusters ?? []),
      unavailable,
    };
    const usage = usageJson(result.usage, result.inventory);
    io.out(JSON.stringify({ usage, findings: result.findings, forecasts, problems: result.problems }, null, 2) + '\n');
  } else {
    io.out(
      renderReport(result.usage, result.findings, {
        inventory: result.inventory,
        ...(unavailable !== null ? { forecastsUnavailable: unavailable } : {}),
        colour: colourWanted(io.isTTY, io.env),
      }),
    );
    for (const p of result.problems) io.err(`note: ${p}\n`);
  }
  return exitStatusOf(result.usage);
}

async function capture(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: COMMAND_OPTIONS.capture, allowPositionals: false });
  if (!values.out) throw new UsageError('capture needs --out DIR');
  const region = regionOf(values.region, io);
  const recording = new RecordingSource(await liveSource(region, io, values.kubernetes === true));
  const now = io.now();
  // Collected and measured only: what the snapshot holds and its one-line summary.
  const usage = measure(await collectInventory(recording, { clusterNames: clusterList(values.clusters), concurrency: 4, now, network: true }));
  const meta = { region, capturedAt: now.toISOString() };
  const failedReads = recording.contents(meta).failedReads ?? [];
  const files = await writeSnapshot(values.out, recording, meta);
  // What failed is in the snapshot too (failed-reads.json): its replay reports the same problems.
  io.out(
    `captured ${region} into ${values.out} (${files.length} files): ${summaryLine(usage)}\n` +
      (failedReads.length > 0 ? `  ${failedReads.length} failed read(s) recorded in failed-reads.json: the snapshot replays them as the same failures\n` : ''),
  );
  const { samplingProblems } = await loadCycle();
  for (const p of samplingProblems(usage)) io.err(`note: ${p}\n`);
  return exitStatusOf(usage);
}

/**
 * `max-pods`: the EKS max-pods calculator's figures for instance types of the bundled data. The
 * options are the calculator's (awslabs/amazon-eks-ami max-pods-calculator.sh, see
 * lib/capacity/instance-type.ts [calculator]): `--prefix-delegation` (--cni-prefix-delegation-enabled),
 * `--custom-networking` (--cni-custom-networking-enabled), `--max-eni N` (--cni-max-eni),
 * `--cni-version V` (prefix delegation needs 1.9.0+; without it a current CNI is assumed),
 * `--no-cap` (--show-max-allowed). Names are matched case-insensitively; an unknown one gets the
 * closest known names.
 */
function maxPodsCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parseArgs({ args, options: COMMAND_OPTIONS['max-pods'], allowPositionals: true });
  const known = knownInstanceTypes();
  if (!values.all && positionals.length === 0) throw new UsageError('max-pods needs instance types, or --all');
  const blank = positionals.findIndex((t) => t.trim() === '');
  if (blank >= 0) throw new UsageError(`max-pods: instance type ${blank + 1} of ${positionals.length} is an empty name; give names like m5.large`);
  const types = values.all ? [...known.keys()].sort() : positionals;
  const maxEniText = values['max-eni'];
  // The calculator takes min(--cni-max-eni, the type's ENIs); ipamd ignores MAX_ENI below 1, so a
  // value below 1 is refused rather than given a meaning the two disagree on.
  if (maxEniText !== undefined && !(/^\d+$/.test(maxEniText) && Number(maxEniText) >= 1)) {
    throw new UsageError(`--max-eni takes a whole number of ENIs, 1 or more, not "${maxEniText}"`);
  }
  const cniVersion = values['cni-version'];
  let prefixSupported = true;
  if (cniVersion !== undefined) {
    try {
      prefixSupported = cniSupportsPrefixDelegation(cniVersion);
    } catch (err) {
      throw new UsageError(`--cni-version: ${messageOf(err)}`);
    }
  }
  const askedPrefix = values['prefix-delegation'];
  const opts: MaxPodsOptions = {
    // [calculator]: prefixes only when asked, the type is Nitro and the CNI is 1.9.0 or later.
    prefixDelegation: askedPrefix && prefixSupported,
    customNetworking: values['custom-networking'],
    ...(maxEniText !== undefined ? { maxEni: Number(maxEniText) } : {}),
    applyKubeletCap: !values['no-cap'],
  };
  const notes: string[] = [];
  if (askedPrefix && !prefixSupported) {
    notes.push(`prefix delegation needs VPC CNI 1.9.0 or later: with ${cniVersion ?? ''} every figure is for secondary IPs`);
  }
  const rows: {
    instanceType: string;
    mode: 'prefix' | 'secondary-ip';
    maxPods: number;
    eniMaxPods: number;
    kubeletCap: number;
    maxEnis: number;
    enisForPods: number;
    ipv4PerEni: number;
    podIpSlots: number;
    nitro: boolean;
    notes: string[];
  }[] = [];
  const unknown: string[] = [];
  const suggestions: Record<string, string[]> = {};
  const notNitro: string[] = [];
  const bareMetal: string[] = [];
  for (const asked of types) {
    const name = asked.trim().toLowerCase();
    const info = known.get(name);
    if (!info) {
      unknown.push(asked);
      suggestions[asked] = closestInstanceTypes(asked);
      continue;
    }
    const cap = networkCapacityOf(info);
    const rowNotes: string[] = [];
    // [calculator] `IS_NITRO` is `Hypervisor == "nitro"` alone. Bare metal reports no Hypervisor, so
    // the calculator prints its secondary-IP figure, though ipamd (IsPrefixDelegationSupported,
    // NetworkCapacity.nitro) hands out prefixes there: MAX PODS is the calculator's, POD IP SLOTS ipamd's.
    const prefix = opts.prefixDelegation === true && info.Hypervisor === 'nitro';
    if (opts.prefixDelegation && !cap.nitro) {
      rowNotes.push(`${name} is not a Nitro type: prefix delegation does not apply (ipamd keeps secondary IPs), so this is the secondary-IP figure`);
      notNitro.push(name);
    } else if (opts.prefixDelegation && !prefix) {
      rowNotes.push(
        `${name} is bare metal (no Hypervisor): max-pods-calculator.sh takes it for non-Nitro and gives the secondary-IP figure, though ipamd uses prefixes on it (${podIpSlots(cap, opts)} pod IP slots)`,
      );
      bareMetal.push(name);
    }
    rows.push({
      instanceType: name,
      mode: prefix ? 'prefix' : 'secondary-ip',
      maxPods: maxPods(cap, { ...opts, prefixDelegation: prefix }),
      eniMaxPods: eniMaxPods(cap),
      kubeletCap: kubeletMaxPodsCap(cap),
      maxEnis: cap.maxEnis,
      enisForPods: enisForPods(cap, opts),
      ipv4PerEni: cap.ipv4PerEni,
      podIpSlots: podIpSlots(cap, opts),
      nitro: cap.nitro,
      notes: rowNotes,
    });
  }
  const optionsOut = { ...opts, ...(cniVersion !== undefined ? { cniVersion } : {}) };
  if (values.json) {
    io.out(JSON.stringify({ options: optionsOut, instanceTypes: rows, unknown, suggestions, notes }, null, 2) + '\n');
  } else {
    const mode = [
      opts.prefixDelegation ? 'prefix delegation' : 'secondary IPs',
      ...(opts.customNetworking ? ['custom networking'] : []),
      ...(opts.maxEni !== undefined ? [`MAX_ENI=${opts.maxEni}`] : []),
      ...(cniVersion !== undefined ? [`VPC CNI ${cniVersion}`] : []),
      opts.applyKubeletCap ? 'kubelet cap applied' : 'uncapped',
    ].join(', ');
    io.out(`Max pods (${mode})\n`);
    if (rows.length > 0) {
      io.out(
        table(
          ['INSTANCE TYPE', 'MAX PODS', 'MODE', 'ENI-MAX-PODS', 'CAP', 'ENIS', 'ENIS FOR PODS', 'IPV4/ENI', 'POD IP SLOTS', 'NITRO'],
          rows.map((r) => [r.instanceType, r.maxPods, r.mode, r.eniMaxPods, r.kubeletCap, r.maxEnis, r.enisForPods, r.ipv4PerEni, r.podIpSlots, r.nitro ? 'yes' : 'no']),
          '',
        ) + '\n',
      );
    }
    // A handful of types: a note each; a long list (--all): one line per kind of note.
    if (rows.length <= 10) {
      for (const r of rows) notes.push(...r.notes);
    } else {
      if (notNitro.length > 0) notes.push(`${notNitro.length} types are not Nitro (NITRO no): prefix delegation does not apply to them, their figures are for secondary IPs`);
      if (bareMetal.length > 0) notes.push(`${bareMetal.length} bare-metal types get the secondary-IP figure, as max-pods-calculator.sh gives them (no Hypervisor), though ipamd uses prefixes on them`);
    }
    for (const note of notes) io.out(`note: ${note}\n`);
  }
  for (const t of unknown) {
    const close = suggestions[t] ?? [];
    const hint = close.length > 0 ? `; did you mean ${close.length > 1 ? `${close.slice(0, -1).join(', ')} or ${close[close.length - 1] ?? ''}` : close[0]}?` : '';
    io.err(`unknown instance type: ${t} (not in the bundled DescribeInstanceTypes data${hint})\n`);
  }
  return unknown.length > 0 ? 1 : 0;
}

async function plan(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: COMMAND_OPTIONS.plan, allowPositionals: false });
  const policyFile = policyFileOf(values, io);
  const policy = readPolicyFile(policyFile);
  const { source, now } = await openSource(values, io);
  // Plans only: no ledger (cooldowns and changes in flight are shown as unknown) and no
  // executor, so this command cannot change anything.
  const { runCycle } = await loadCycle();
  const result = await runCycle(
    { source, thresholds: DEFAULT_THRESHOLDS, remediation: { policy, baseThresholds: DEFAULT_THRESHOLDS, source } },
    { clusterNames: clusterList(values.clusters), concurrency: 4, now, network: true },
  );
  const remediation = result.remediation ?? [];
  const context: PlanReportContext = {
    usage: result.usage,
    findings: result.findings,
    allowed: (cluster, kind) => actionPolicyOf(effectivePolicy(policy, cluster, DEFAULT_THRESHOLDS).actions, kind).allowed,
  };
  if (values.json) {
    const clusters = remediation.map((r) => ({
      ...r,
      complete: result.usage.clusters.find((c) => c.name === r.cluster)?.complete ?? false,
      absent: absentReasons(r, context),
    }));
    io.out(JSON.stringify({ policy: policyFile, clusters, failedClusters: result.usage.failedClusters }, null, 2) + '\n');
  } else {
    io.out(renderPlan(remediation, policyFile, context));
  }
  return exitStatusOf(result.usage);
}

/**
 * `preflight`: the headroom checks (lib/diagnose/headroom-preflight.ts) of each cluster. Exit 1 when
 * a check does not fit (the answer, as `max-pods` answers 1 for a type it does not know), 3 when
 * none fails but one is unknown or a cluster failed.
 */
async function preflight(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: COMMAND_OPTIONS.preflight, allowPositionals: false });
  if (values.nodegroup !== undefined && values.cluster === undefined) throw new UsageError('--nodegroup needs --cluster');
  if (values.cluster !== undefined && values.cluster.trim() === '') throw new UsageError('--cluster takes a cluster name');
  const { source, now } = await openSource(values, io);
  const inventory = await collectInventory(source, { clusterNames: values.cluster !== undefined ? [values.cluster] : [], concurrency: 4, now, network: true });
  const usage = measure(inventory);
  const checks = usage.clusters.flatMap((c) => {
    const inv = inventory.clusters.find((x) => x.name === c.name);
    return inv ? preflightChecks({ usage: c, inventory: inv, instanceTypes: inventory.instanceTypes }, values.nodegroup) : [];
  });
  // The network preflight; with --nodegroup, the VPC's DNS and that nodegroup's subnets only.
  const network = usage.clusters.flatMap((c) => {
    const inv = inventory.clusters.find((x) => x.name === c.name);
    if (!inv) return [];
    const n = networkChecks(c, inv, inventory.region);
    if (values.nodegroup === undefined) return [n];
    const ng = inv.nodegroups.find((x) => x.nodegroupName === values.nodegroup);
    return ng ? [{ ...n, subnets: n.subnets.filter((x) => (ng.subnets ?? []).includes(x.subnetId)) }] : [];
  });
  const problems = usage.clusters.flatMap((c) => c.problems.map((p) => `${c.name}: ${p.source}: ${p.message}`));
  if (values.nodegroup !== undefined && usage.clusters.length > 0 && checks.length === 0) {
    problems.push(`cluster ${values.cluster ?? ''} has no managed nodegroup ${values.nodegroup}`);
  }
  if (values.json) {
    io.out(JSON.stringify({ checks, network, problems, failedClusters: usage.failedClusters }, null, 2) + '\n');
  } else {
    const verdict = { fits: 'fits', 'does-not-fit': 'DOES NOT FIT', unknown: 'unknown' } as const;
    if (checks.length > 0) {
      io.out(
        table(
          ['CLUSTER', 'CHECK', 'NODEGROUP', 'VERDICT', 'NEW NODES', 'IPS/NODE', 'SHORT'],
          checks.map((c) => [
            c.cluster,
            c.check,
            c.nodegroup ?? '-',
            verdict[c.verdict],
            c.check === 'version-upgrade' ? '-' : c.newNodes,
            c.ipsPerNode ?? '-',
            c.places.filter((p) => !p.fits).map((p) => `${p.subnetId} ${p.free}/${p.needIps}`).join(' ') || '-',
          ]),
          '',
        ) + '\n',
      );
    }
    for (const c of checks) {
      io.out(`\n${c.summary}\n`);
      for (const p of c.places) {
        const blocks = p.needBlocks !== undefined ? `, ${p.freeBlocks ?? 0} free /28 blocks, ${p.needBlocks} needed` : '';
        const what = c.check === 'version-upgrade' ? `up to ${p.needIps} control-plane IPs` : `${p.nodes} new node(s), ${p.needIps} IPs`;
        io.out(`  ${p.fits ? 'ok  ' : 'SHORT'} ${p.availabilityZone} ${p.subnetId}: ${p.free} free, ${what}${blocks}\n`);
      }
      for (const b of c.basis) io.out(`  (${b})\n`);
    }
    for (const n of network) {
      io.out(`\nnetwork of ${n.cluster}${n.dns ? ` (${n.dns.vpcId})` : ''}:\n`);
      if (n.notCollected) io.out(`  unknown: ${n.notCollected}\n`);
      if (n.dns) {
        const what = n.dns.verdict === 'ok' ? 'DNS support, DNS hostnames and AmazonProvidedDNS as EKS needs them' : [...n.dns.missing, ...n.dns.unknown].join('; ');
        io.out(`  ${n.dns.verdict === 'ok' ? 'ok     ' : n.dns.verdict === 'missing' ? 'MISSING' : 'unknown'} DNS: ${what}\n`);
      }
      for (const sub of n.subnets) {
        const what =
          sub.verdict === 'ok'
            ? sub.defaultRoute
              ? `default route to ${sub.defaultRoute} (route table ${sub.routeTableId ?? '?'})`
              : `no default route; VPC endpoints ${sub.endpoints.filter((e) => e.verdict === 'ok').map((e) => e.service).join(', ')}`
            : [...sub.missing, ...sub.unknown].join('; ');
        io.out(`  ${sub.verdict === 'ok' ? 'ok     ' : sub.verdict === 'missing' ? 'MISSING' : 'unknown'} ${sub.subnetId}: ${what}\n`);
      }
    }
    for (const f of usage.failedClusters) io.err(`note: cluster ${f.name} could not be sampled: ${f.problem.message}\n`);
    for (const p of problems) io.err(`note: ${p}\n`);
  }
  const netVerdicts = network.flatMap((n) => [...(n.dns ? [n.dns.verdict] : ['unknown' as const]), ...n.subnets.map((x) => x.verdict)]);
  if (checks.some((c) => c.verdict === 'does-not-fit') || netVerdicts.includes('missing')) return 1;
  const unknown = checks.some((c) => c.verdict === 'unknown') || netVerdicts.includes('unknown');
  return unknown || exitStatusOf(usage) !== 0 || problems.length > 0 ? EXIT_INCOMPLETE : 0;
}

/** What the stack grants the responder's role for a policy, in one line for `policy check`. */
function iamSummary(grants: ClusterGrants[]): string {
  if (grants.length === 0) return "IAM: no cluster in apply mode: the responder's role is granted no EKS or EC2 write";
  const what = (g: ClusterGrants) =>
    [
      g.addon ? 'vpc-cni add-on' : '',
      g.nodegroups ? 'nodegroups' : '',
      g.spareSubnets.length > 0 ? `tags on ${g.spareSubnets.join(', ')}` : '',
    ]
      .filter((x) => x)
      .join(', ');
  return `IAM: the responder's role may change ${grants.map((g) => `${g.cluster} (${what(g)})`).join('; ')}, and nothing else`;
}

function policyCommand(args: string[], io: CliIo): number {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: COMMAND_OPTIONS.policy, allowPositionals: false });
  const file = policyFileOf(values, io);
  if (sub === 'check') {
    try {
      // Every check packaging makes, by the function packaging calls (stack/policy.stack.js).
      const { policy, json, version, remediationPolicy } = deployablePolicy(file);
      io.out(`${file}: valid (${Object.keys(policy.clusters).length} cluster override(s), default mode ${policy.default.mode})\n`);
      io.out(
        `size: ${Buffer.byteLength(json, 'utf8')} of ${POLICY_MAX_BYTES} bytes compiled into the functions (version ${version}); ` +
          `IAM policy remediate up to ${deployedPolicySize(remediationPolicy)} of ${REMEDIATION_POLICY_MAX_CHARS} characters\n`,
      );
      io.out(`${iamSummary(remediationGrants(policy))}\n`);
      return 0;
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      io.err(`${err.message}\n`);
      return 1;
    }
  }
  if (sub === 'show') {
    if ((values.default === true) === (values.cluster !== undefined)) throw new UsageError('policy show takes --cluster NAME or --default');
    const policy = readPolicyFile(file);
    if (values.default) {
      // What a cluster without an entry gets; no cluster is named.
      const { cluster: _none, ...settings } = effectivePolicy(policy, '');
      io.out(JSON.stringify(settings, null, 2) + '\n');
      return 0;
    }
    const cluster = values.cluster ?? '';
    if (!Object.prototype.hasOwnProperty.call(policy.clusters, cluster)) {
      // A name the policy does not list is most often a typo; the default is one flag away.
      const closest = closestClusterNames(policy, cluster);
      const names = closest.length > 1 ? `${closest.slice(0, -1).join(', ')} or ${closest[closest.length - 1]}` : closest[0];
      const hint = names ? `did you mean ${names}?` : 'it names no cluster';
      const problem = `${file} has no entry for cluster "${cluster}" (${hint}); a cluster without an entry gets the default: policy show --default`;
      throw new PolicyError(problem, [problem]);
    }
    io.out(JSON.stringify(effectivePolicy(policy, cluster), null, 2) + '\n');
    return 0;
  }
  throw new UsageError('policy takes check or show');
}

/** The commands that may read the live account: they take --progress and --deadline. */
const LIVE_COMMANDS = new Set(['report', 'capture', 'plan', 'preflight']);

/**
 * Takes `--progress` and `--deadline SECONDS` (or `--deadline=SECONDS`) out of a live command's
 * arguments, so that the command's own parser need not know them, and says what the run does
 * with them. Progress goes to stderr for a live run, never for --snapshot, and with --json only
 * when --progress asks for it.
 * @throws UsageError for a deadline that is not a number of seconds above 0.
 */
export function liveRunOptions(args: readonly string[], io: Pick<CliIo, 'err' | 'now'>): { args: string[]; live: LiveRun } {
  const rest: string[] = [];
  let progress = false;
  let deadline: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') {
      rest.push(...args.slice(i));
      break;
    }
    if (a === '--progress') progress = true;
    else if (a === '--deadline') deadline = args[++i] ?? '';
    else if (a.startsWith('--deadline=')) deadline = a.slice('--deadline='.length);
    else rest.push(a);
  }
  let deadlineSeconds: number | undefined;
  if (deadline !== undefined) {
    deadlineSeconds = Number(deadline);
    if (deadline.trim() === '' || !Number.isFinite(deadlineSeconds) || deadlineSeconds <= 0) {
      throw new UsageError(`--deadline takes a number of seconds above 0, not "${deadline}"`);
    }
  }
  const snapshot = rest.some((a) => a === '--snapshot' || a.startsWith('--snapshot='));
  const json = rest.includes('--json');
  const show = !snapshot && (progress || !json);
  return {
    args: rest,
    live: {
      ...(show ? { onProgress: progressReporter((text) => io.err(text), () => io.now().getTime()) } : {}),
      ...(deadlineSeconds !== undefined ? { deadlineSeconds } : {}),
    },
  };
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], cliIo: CliIo): Promise<number> {
  const [command, ...args] = argv;
  let io = cliIo;
  try {
    if (command === '--version' || command === '-v') {
      io.out(`${PACKAGE_VERSION}\n`);
      return 0;
    }
    // `help COMMAND` and `COMMAND --help`: before anything parses the arguments.
    if (command === 'help' && args[0] !== undefined) {
      const [topic] = args;
      if (!isCommand(topic)) throw new UsageError(`help: unknown command "${topic}"`);
      io.out(COMMAND_HELP[topic]);
      return 0;
    }
    if (isCommand(command) && asksForHelp(args)) {
      io.out(COMMAND_HELP[command]);
      return 0;
    }
    let rest = args;
    if (command !== undefined && LIVE_COMMANDS.has(command)) {
      const run = liveRunOptions(args, cliIo);
      rest = run.args;
      io = { ...cliIo, live: run.live };
    }
    switch (command) {
      case 'report':
        return await report(rest, io);
      case 'capture':
        return await capture(rest, io);
      case 'plan':
        return await plan(rest, io);
      case 'preflight':
        return await preflight(rest, io);
      case 'policy':
        return policyCommand(rest, io);
      case 'max-pods':
        return maxPodsCommand(rest, io);
      case 'rbac':
        return rbacCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    io.err(`eks-ip-responder: ${messageOf(err)}\n`);
    // The command's own help after its usage error; the overview after any other.
    if (usage) io.err(isCommand(command) ? COMMAND_HELP[command] : USAGE);
    return usage ? 2 : 1;
  }
}
