/**
 * The command line: the same pipeline off-Lambda.
 *
 *   eks-ip-responder report   [--snapshot DIR | --region R] [--clusters a,b] [--json]
 *   eks-ip-responder capture  --out DIR [--region R] [--clusters a,b]
 *   eks-ip-responder plan     [--snapshot DIR | --region R] [--policy policy.yml] [--clusters a,b] [--json]
 *   eks-ip-responder policy   check|show [--file policy.yml] [--cluster NAME]
 *   eks-ip-responder max-pods [TYPE ...] [--all] [--prefix-delegation] [--custom-networking] [--no-cap] [--json]
 *
 * Live commands use the standard AWS SDK environment (AWS_PROFILE, AWS_REGION, ...). Nothing
 * here changes anything in the account: every call is a read.
 */
import { parseArgs } from 'node:util';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  eniMaxPods,
  kubeletMaxPodsCap,
  maxPods,
  networkCapacityOf,
  podIpSlots,
  type MaxPodsOptions,
} from '../capacity/instance-type';
import { knownInstanceTypes } from '../capacity/known-instance-types';
import { createAwsClients } from '../aws/clients';
import { LiveSource } from '../aws/live-source';
import { messageOf } from '../errors';
import { DEFAULT_NAMESPACE } from '../config';
import { RecordingSource, writeSnapshot } from '../inventory/capture';
import { readSnapshot } from '../inventory/snapshot';
import type { InventorySource } from '../inventory/types';
import { runCycle } from '../cycle';
import { DEFAULT_THRESHOLDS } from '../diagnose/types';
import { sample } from '../pipeline';
import { deployableRemediationPolicy, remediationGrants, type ClusterGrants } from '../policy/iam';
import { effectivePolicy, readPolicyFile } from '../policy/load';
import { PolicyError } from '../policy/types';
import { renderPlan } from '../report/plan';
import { renderReport } from '../report/text';
import { table } from '../report/table';

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  now: () => Date;
  /** Builds the live source; tests replace it with one over mocked clients. */
  liveSource?: (region: string) => InventorySource;
  /** Builds the CloudWatch client the live report reads history with; tests pass a mocked one. */
  cloudwatch?: (region: string) => CloudWatchClient;
}

/** A usage error: the message says what is wrong and the CLI exits with 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export { DEFAULT_NAMESPACE };

export const USAGE = `Usage:
  eks-ip-responder report   [--snapshot DIR | --region REGION] [--clusters a,b] [--json]
                            [--namespace NS] [--no-forecast]
      Sample clusters and print findings, subnets, holders, nodegroups and limits.
      With --snapshot, read a snapshot directory instead of the live account. Live, forecasts
      come from the metric history the deployed stack published in NS (default EKS/IPResponder).
  eks-ip-responder capture  --out DIR [--region REGION] [--clusters a,b]
      Write a snapshot of the live account (read-only calls) for replay or a bug report.
  eks-ip-responder plan     [--snapshot DIR | --region REGION] [--policy policy.yml] [--clusters a,b] [--json]
      What the policy would do: each action, why, its predicted effect, what blocks it.
      Plans only: this command changes nothing.
  eks-ip-responder policy check [--file policy.yml]
  eks-ip-responder policy show --cluster NAME [--file policy.yml]
      Validate the policy (every problem named), or print the policy in force for a cluster.
  eks-ip-responder max-pods [TYPE ...] [--all] [--prefix-delegation] [--custom-networking] [--no-cap] [--json]
      Max pods per instance type from the bundled DescribeInstanceTypes data.
`;

function clusterList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function regionOf(value: string | undefined, io: CliIo): string {
  const region = value ?? io.env['AWS_REGION'] ?? io.env['AWS_DEFAULT_REGION'];
  if (!region) throw new UsageError('no region: pass --region or set AWS_REGION');
  return region;
}

function liveSource(region: string, io: CliIo): InventorySource {
  return io.liveSource ? io.liveSource(region) : new LiveSource(createAwsClients(region), region);
}

/** A snapshot directory (reported as of when it was taken) or the live account (as of now). */
async function openSource(values: { snapshot?: string; region?: string }, io: CliIo): Promise<{ source: InventorySource; now: Date }> {
  if (values.snapshot) {
    const snapshot = await readSnapshot(values.snapshot, { region: values.region });
    return { source: snapshot, now: snapshot.capturedAt ? new Date(snapshot.capturedAt) : io.now() };
  }
  return { source: liveSource(regionOf(values.region, io), io), now: io.now() };
}

async function report(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      snapshot: { type: 'string' },
      region: { type: 'string' },
      clusters: { type: 'string' },
      namespace: { type: 'string' },
      'no-forecast': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const { source, now } = await openSource(values, io);
  // Live, the forecast reads the history the deployed stack published (read-only).
  const forecast = !values.snapshot && !values['no-forecast'];
  const cloudwatch = forecast ? (io.cloudwatch ? io.cloudwatch(source.region) : createAwsClients(source.region).cloudwatch) : undefined;
  const result = await runCycle(
    {
      source,
      thresholds: DEFAULT_THRESHOLDS,
      ...(cloudwatch ? { metrics: { cloudwatch, namespace: values.namespace ?? DEFAULT_NAMESPACE, publish: false } } : {}),
    },
    { clusterNames: clusterList(values.clusters), concurrency: 4, now },
  );
  if (values.json) {
    const forecasts = result.forecasts
      ? { subnets: Object.fromEntries(result.forecasts.subnets), clusters: Object.fromEntries(result.forecasts.clusters) }
      : undefined;
    io.out(JSON.stringify({ usage: result.usage, findings: result.findings, forecasts, problems: result.problems }, null, 2) + '\n');
  } else {
    io.out(renderReport(result.usage, result.findings));
    for (const p of result.problems) io.err(`note: ${p}\n`);
  }
  return 0;
}

async function capture(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { out: { type: 'string' }, region: { type: 'string' }, clusters: { type: 'string' } },
    allowPositionals: false,
  });
  if (!values.out) throw new UsageError('capture needs --out DIR');
  const region = regionOf(values.region, io);
  const recording = new RecordingSource(liveSource(region, io));
  const now = io.now();
  const { usage } = await sample(recording, { clusterNames: clusterList(values.clusters), concurrency: 4, now });
  const files = await writeSnapshot(values.out, recording, { region, capturedAt: now.toISOString() });
  io.out(
    `captured ${usage.clusters.length} cluster(s) of ${region} into ${values.out} (${files.length} files)\n` +
      usage.failedClusters.map((f) => `  not captured: ${f.name}: ${f.problem.message}\n`).join(''),
  );
  return 0;
}

function maxPodsCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parseArgs({
    args,
    options: {
      all: { type: 'boolean', default: false },
      'prefix-delegation': { type: 'boolean', default: false },
      'custom-networking': { type: 'boolean', default: false },
      'no-cap': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const known = knownInstanceTypes();
  if (!values.all && positionals.length === 0) throw new UsageError('max-pods needs instance types, or --all');
  const types = values.all ? [...known.keys()].sort() : positionals;
  const opts: MaxPodsOptions = {
    prefixDelegation: values['prefix-delegation'],
    customNetworking: values['custom-networking'],
    applyKubeletCap: !values['no-cap'],
  };
  const rows: {
    instanceType: string;
    maxPods: number;
    eniMaxPods: number;
    kubeletCap: number;
    maxEnis: number;
    ipv4PerEni: number;
    podIpSlots: number;
    nitro: boolean;
  }[] = [];
  const unknown: string[] = [];
  for (const t of types) {
    const info = known.get(t);
    if (!info) {
      unknown.push(t);
      continue;
    }
    const cap = networkCapacityOf(info);
    rows.push({
      instanceType: t,
      maxPods: maxPods(cap, opts),
      eniMaxPods: eniMaxPods(cap),
      kubeletCap: kubeletMaxPodsCap(cap),
      maxEnis: cap.maxEnis,
      ipv4PerEni: cap.ipv4PerEni,
      podIpSlots: podIpSlots(cap, opts),
      nitro: cap.nitro,
    });
  }
  if (values.json) {
    io.out(JSON.stringify({ options: opts, instanceTypes: rows, unknown }, null, 2) + '\n');
  } else {
    const mode = `${opts.prefixDelegation ? 'prefix delegation' : 'secondary IPs'}${opts.customNetworking ? ', custom networking' : ''}${opts.applyKubeletCap ? ', kubelet cap applied' : ', uncapped'}`;
    io.out(`Max pods (${mode})\n`);
    io.out(
      table(
        ['INSTANCE TYPE', 'MAX PODS', 'ENI-MAX-PODS', 'CAP', 'ENIS', 'IPV4/ENI', 'POD IP SLOTS', 'NITRO'],
        rows.map((r) => [r.instanceType, r.maxPods, r.eniMaxPods, r.kubeletCap, r.maxEnis, r.ipv4PerEni, r.podIpSlots, r.nitro ? 'yes' : 'no']),
        '',
      ) + '\n',
    );
  }
  for (const t of unknown) io.err(`unknown instance type: ${t} (not in the bundled DescribeInstanceTypes data)\n`);
  return unknown.length > 0 ? 1 : 0;
}

async function plan(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      snapshot: { type: 'string' },
      region: { type: 'string' },
      clusters: { type: 'string' },
      policy: { type: 'string', default: 'policy.yml' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const policyFile = values.policy ?? 'policy.yml';
  const policy = readPolicyFile(policyFile);
  const { source, now } = await openSource(values, io);
  // Plans only: no ledger (cooldowns and changes in flight are shown as unknown) and no
  // executor, so this command cannot change anything.
  const result = await runCycle(
    { source, thresholds: DEFAULT_THRESHOLDS, remediation: { policy, baseThresholds: DEFAULT_THRESHOLDS, source } },
    { clusterNames: clusterList(values.clusters), concurrency: 4, now },
  );
  const remediation = result.remediation ?? [];
  io.out(values.json ? JSON.stringify({ policy: policyFile, clusters: remediation }, null, 2) + '\n' : renderPlan(remediation, policyFile));
  return 0;
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
  const { values } = parseArgs({
    args: rest,
    options: { file: { type: 'string', default: 'policy.yml' }, cluster: { type: 'string' } },
    allowPositionals: false,
  });
  const file = values.file ?? 'policy.yml';
  if (sub === 'check') {
    try {
      // The same checks as packaging (lib/policy/policy.stack.js): the policy, and the IAM
      // policy the stack derives from it for the responder's role.
      const policy = readPolicyFile(file);
      deployableRemediationPolicy(policy, file);
      io.out(`${file}: valid (${Object.keys(policy.clusters ?? {}).length} cluster override(s), default mode ${policy.default.mode})\n`);
      io.out(`${iamSummary(remediationGrants(policy))}\n`);
      return 0;
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      io.err(`${err.message}\n`);
      return 1;
    }
  }
  if (sub === 'show') {
    if (!values.cluster) throw new UsageError('policy show needs --cluster NAME');
    io.out(JSON.stringify(effectivePolicy(readPolicyFile(file), values.cluster), null, 2) + '\n');
    return 0;
  }
  throw new UsageError('policy takes check or show');
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'report':
        return await report(rest, io);
      case 'capture':
        return await capture(rest, io);
      case 'plan':
        return await plan(rest, io);
      case 'policy':
        return policyCommand(rest, io);
      case 'max-pods':
        return maxPodsCommand(rest, io);
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
    if (usage) io.err(USAGE);
    return usage ? 2 : 1;
  }
}
