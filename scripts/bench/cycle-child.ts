/**
 * One size of the bench, run in a child process of its own (node --expose-gc, bundled by
 * scripts/bench.ts): generates the synthetic account, then runs the sampler's full cycle
 * (handlers/sample.ts makeHandler: collect, measure, diagnose, forecast read, plan, publish,
 * notify) against the emulated account, a warm-up and `runs` measured runs, each on a fresh
 * runtime and ledger table (a new container's first cycle: no instance-type cache, every
 * finding new). Then the JSON.parse floor of the same responses. Results go to the parent by IPC.
 *
 * The parent sets the environment handlers/sample.ts parses at import (its module-level
 * `handler` is built from it and never called here).
 */
import { readFileSync } from 'node:fs';
import { makeHandler } from '../../handlers/sample';
import { generateAccount, type GenerateAccountOptions, type SyntheticAccount } from '../../tools/synthetic-account';
import { diagnose } from '../../lib/diagnose/diagnose';
import { DEFAULT_THRESHOLDS } from '../../lib/diagnose/types';
import { collectInventory } from '../../lib/inventory/collect';
import { measure } from '../../lib/measure/measure';
import { addHistory } from './history';
import { benchRuntime } from './runtime';
import { gc, peakRss, resetPeakRss } from './process-memory';
import type { ChildInput, ChildResult, RunFigures } from './types';

const NOW = new Date('2026-11-26T12:00:00Z');
const WRITE_OPS = new Set(['PutMetricData', 'Publish', 'UpdateAddon', 'CreateTags', 'CreateNodegroup', 'UpdateNodegroupConfig']);

/** Wraps a client's send to keep each read answer as the JSON text it would have arrived in. */
function capture(client: { send: (...a: never[]) => Promise<unknown> }, pages: string[]): void {
  const send = client.send.bind(client) as (cmd: object) => Promise<unknown>;
  (client as { send: (cmd: object) => Promise<unknown> }).send = async (cmd: object) => {
    const out = await send(cmd);
    const op = cmd.constructor.name.replace(/Command$/, '');
    if (!WRITE_OPS.has(op)) pages.push(JSON.stringify(out));
    return out;
  };
}

async function runOnce(
  account: SyntheticAccount,
  input: ChildInput,
  policy: string,
  n: number,
  pages?: string[],
  historyHours = input.historyHours,
): Promise<RunFigures> {
  const b = await benchRuntime(account, input.endpoint, `bench-${process.pid}-${n}`, policy, NOW);
  if (historyHours > 0) addHistory(account, b.aws.history, historyHours, NOW);
  if (pages) for (const c of [b.aws.ec2, b.aws.eks, b.aws.cloudwatch]) capture(c as never, pages);
  const handler = makeHandler(b.rt);
  gc();
  const reset = resetPeakRss();
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const summary = await handler({ 'detail-type': 'Scheduled Event', source: 'aws.events' } as never);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - wall0;
  const heapAfter = process.memoryUsage().heapUsed;
  const peak = reset ? peakRss() : process.resourceUsage().maxRSS * 1024;
  const figures: RunFigures = {
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs,
    rssBefore,
    peakRss: peak,
    peakIsCycleOnly: reset,
    heapBefore,
    heapAfter,
    awsCalls: { ...b.aws.calls },
    readCalls: b.aws.totalReadCalls(),
    dynamoCalls: { ...b.dynamoCalls },
    putMetricDataCalls: summary.putMetricDataCalls,
    metricsPublished: summary.metricsPublished,
    findings: summary.findings,
    notified: summary.notified,
    clustersSampled: summary.clustersSampled,
    clustersFailed: summary.clustersFailed.length,
    clustersIncomplete: summary.clustersIncomplete.length,
    problems: summary.problems,
  };
  b.close();
  return figures;
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as ChildInput;
  const policy = readFileSync(input.policyFile, 'utf8');
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const gen0 = performance.now();
  const opts: GenerateAccountOptions = {
    clusters: input.clusters,
    nodes: input.nodes,
    subnetsPerCluster: input.subnetsPerCluster,
    enisPerNode: input.enisPerNode,
    instanceTypes: input.instanceTypes,
    seed: 42,
  };
  const account = generateAccount(opts);
  const generateMs = performance.now() - gen0;
  gc();
  const accountHeapMB = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;

  const runs: RunFigures[] = [];
  for (let i = 0; i < input.warmups; i++) await runOnce(account, input, policy, i);
  for (let i = 0; i < input.runs; i++) runs.push(await runOnce(account, input, policy, 100 + i));
  const runsNoHistory: RunFigures[] = [];
  for (let i = 0; i < input.noHistoryRuns; i++) runsNoHistory.push(await runOnce(account, input, policy, 200 + i, undefined, 0));

  // The data a cycle holds: collect (answers copied, trimmed as deployed), measure and diagnose,
  // then a full GC: what stays is the cycle's own live data, whatever garbage V8 defers.
  const liveMB = await (async () => {
    const b = await benchRuntime(account, input.endpoint, `bench-${process.pid}-live`, policy, NOW, true);
    gc();
    const before = process.memoryUsage().heapUsed;
    const inventory = await collectInventory(b.rt.source, { clusterNames: [], concurrency: b.rt.config.clusterConcurrency, now: NOW });
    const usage = measure(inventory);
    const findings = diagnose(usage, inventory, DEFAULT_THRESHOLDS);
    gc();
    const held = process.memoryUsage().heapUsed - before;
    b.close();
    return findings.length >= 0 ? held / 2 ** 20 : 0;
  })();

  // The floor: the same read answers as JSON text, parsed. Captured in a run of their own (not
  // timed) so that the texts do not weigh on the measured runs' memory.
  const pages: string[] = [];
  await runOnce(account, input, policy, 999, pages);
  gc();
  const parseMs: number[] = [];
  let sink = 0;
  for (let r = 0; r < 5; r++) {
    const c0 = process.cpuUsage();
    for (const p of pages) sink += (JSON.parse(p) as object) ? 1 : 0;
    const c = process.cpuUsage(c0);
    parseMs.push((c.user + c.system) / 1000);
  }
  const result: ChildResult = {
    nodes: input.nodes,
    shape: {
      clusters: account.clusters.length,
      subnets: account.subnets.length,
      enis: account.networkInterfaces.length,
      instances: account.instances.length,
      instanceTypes: account.instanceTypes.length,
      nodegroups: Object.values(account.nodegroups).reduce((s, l) => s + l.length, 0),
    },
    generateMs,
    accountHeapMB,
    runs,
    runsNoHistory,
    liveMB,
    floor: { pages: pages.length, bytes: pages.reduce((s, p) => s + p.length, 0), parseMs, parsed: sink },
    maxRss: process.resourceUsage().maxRSS * 1024,
  };
  process.send?.(result);
}

main().catch((err: unknown) => {
  process.send?.({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exitCode = 1;
});
