/**
 * `npm run bench -- --ultra`: the deployed bundles at 20,000 to 100,000 nodes. Each row's account is
 * generated and served by its own process (scripts/bench/wire-child.ts, a large heap: its cost is not
 * the function's); the packaged bundle runs as Lambda runs it (scripts/bench/lambda-memory.ts
 * runBundle). Printed side by side: shape, XML, reads against the pages the account needs, peak
 * RSS, CPU, estimated Lambda duration, the EC2 Describe rate against the account's token bucket,
 * and the monthly cost per 1,000 nodes at the stack's default schedule. Design: docs/performance.md, "Ultra scale".
 */
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startDynalite } from '../../tools/dynalite';
import type { GenerateAccountOptions } from '../../tools/synthetic-account';
import { buildChild, ROOT } from './build';
import { ensurePackaged, unzipFunction } from './cold-start';
import { RESERVATION_READS_AT_ONCE } from '../../lib/aws/subnet-cidr-reservations';
import { EC2_DESCRIBE_PACE, type PaceLimits } from '../../lib/config';
import { READ_LANES } from '../../lib/aws/read-lanes';
import { ec2ReadPace } from '../../lib/aws/pacer';
import { runBundle, type BundleRunFigures } from './lambda-memory';
import { maxInWindow, type ExpectedPages, type UltraServed } from './ultra-shape';

/** Instance types as the 5,000-node rows (scripts/bench.ts TYPES). */
const TYPES = ['m5.xlarge', 'm5.2xlarge', 'c6g.2xlarge', 'r6i.2xlarge'];
/**
 * The rows. Shapes scale the 5,000-node one (3 clusters, 33 subnets each: ~50 nodes a subnet,
 * enisPerNode 4 giving ~3 ENIs a node and ~36 private addresses a node).
 */
export const ULTRA_ROWS: Record<string, { label: string; options: GenerateAccountOptions }> = {
  '5k': { label: '5,000 nodes: 3 clusters of ~1,667 (the target shape, reference)', options: { nodes: 5000, clusters: 3, subnetsPerCluster: 33 } },
  '20k': { label: '20,000 nodes: 4 clusters of 5,000', options: { nodes: 20000, clusters: 4, subnetsPerCluster: 100 } },
  '100k': { label: '100,000 nodes: 1 cluster', options: { nodes: 100000, clusters: 1, subnetsPerCluster: 2000 } },
  '30x3k': { label: '90,000 nodes: 30 clusters of 3,000', options: { nodes: 90000, clusters: 30, subnetsPerCluster: 60 } },
};
const DEFAULT_ROWS = ['20k', '100k', '30x3k'];

/**
 * Targets. Lambda's CPU: one vCPU at 1,769 MB, in proportion below
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html); a single-threaded
 * Node cycle uses at most one, so est = CPU x max(1, 1769 / memory) + the AWS wait.
 */
const TARGET = { lambdaSeconds: 240, memoryMB: 3008, refillShare: 0.25, burstPerSecond: 50, readsPerCluster: 20, readsPerRegion: 10 };
/**
 * EC2's token bucket for non-mutating (Describe*) actions: 100 tokens, 20 a second refill
 * (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html, "Request token bucket
 * sizes and refill rates"). Evaluated per API; here every Describe* call of the cycle is counted
 * against one bucket (stricter), which node ipamds also draw on.
 */
const BUCKET = { burst: 100, refillPerSecond: 20 };
/**
 * Allowance for AWS's own time, per sequential call: 0.5 s, an assumption (AWS publishes no latency
 * for Describe pages of 1,000 items), applied to every read as if none overlapped (an upper bound:
 * clusters are read CLUSTER_CONCURRENCY at a time). The emulator's serve time is printed as a floor.
 */
const AWS_WAIT_PER_CALL_S = 0.5;
/**
 * Prices (US East (N. Virginia), https://aws.amazon.com/lambda/pricing/): Lambda Arm $0.0000133334
 * per GB-s (first 7.5 billion GB-s a month), x86 $0.0000166667 per GB-s, $0.20 per million requests;
 * CloudWatch (https://aws.amazon.com/cloudwatch/pricing/): custom metrics $0.30 a metric-month for
 * the first 10,000, $0.10 for the next 240,000 (an account's total: the figure per 1,000 nodes
 * depends on the account's size); $0.01 per 1,000 PutMetricData requests; GetMetricData $0.01 per
 * 1,000 metrics requested.
 */
const PRICE = { gbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 }, perRequest: 0.2 / 1e6, metricTiers: [[10_000, 0.3], [240_000, 0.1]] as const, putMetricDataPer1000: 0.01, getMetricDataPer1000: 0.01 };

/** Monthly price of `n` custom metrics through the tiers (past the last tier, its price). */
function metricsPrice(n: number): number {
  let left = n;
  let price = 0;
  let last = 0;
  for (const [size, each] of PRICE.metricTiers) {
    price += Math.min(left, size) * each;
    left -= Math.min(left, size);
    last = each;
  }
  return price + left * last;
}
const MB = 2 ** 20;

const fmt = (v: number, d = 0): string => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

interface Ready {
  endpoint: string;
  region: string;
  generateMs: number;
  accountHeapMB: number;
  expected: ExpectedPages;
}

/** Starts a row's emulator; `finish()` ends it and answers what it served. */
async function startEmulator(file: string, options: GenerateAccountOptions): Promise<{ ready: Ready; finish: () => Promise<UltraServed> }> {
  const child = fork(file, [JSON.stringify({ options: { instanceTypes: TYPES, enisPerNode: 4, seed: 42, ...options }, historyHours: 24 })], {
    execArgv: ['--expose-gc', '--max-old-space-size=16384'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const next = (type: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>): void => {
        if (m['type'] === type) resolve(m);
        else if (m['type'] === 'error') reject(new Error(String(m['error'])));
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`the emulator exited ${code}: ${stderr}`)));
    });
  const ready = (await next('ready')) as unknown as Ready;
  return {
    ready,
    finish: async () => {
      const done = next('done');
      child.send({ type: 'finish' });
      return (await done)['served'] as UltraServed;
    },
  };
}

interface UltraRun {
  key: string;
  fn: 'sample' | 'respond';
  ready: Ready;
  run: BundleRunFigures;
  served: UltraServed;
}

/**
 * The reads one after another on the cycle's longest path (lib/inventory/collect.ts): clusters
 * CLUSTER_CONCURRENCY (4, lib/config.ts) at a time; within a cluster the instance pages (alongside
 * the nodegroup and add-on reads), then the ENI pages in the cluster's lanes (lib/aws/read-lanes.ts)
 * alongside GetSubnetCidrReservations (RESERVATION_READS_AT_ONCE at once), the rest counted in
 * turn; the region's ENI read alongside all of that (started with the clusters: collect.ts
 * startRegionReads): its first page, then past one page its subnets (DescribeSubnets) and their
 * ENIs in lanes; the longer of the two paths.
 */
export function sequentialReads(r: UltraRun): number {
  const e = r.ready.expected;
  const clusters = e.clusters;
  const calls = r.served.calls;
  const resv = calls['GetSubnetCidrReservations'] ?? 0;
  // Runs saved before the lanes: one filter a cluster, the region's pages in turn.
  const regionLanes = e.regionEniLanes ?? 1;
  const regionSubnets = e.regionSubnetPages ?? 0;
  const clusterLanes = (e.clusterEniLanes ?? []).length > 0 ? e.clusterEniLanes!.reduce((a, b) => a + b, 0) / e.clusterEniLanes!.length : 1;
  const clusterEnis = Math.max(0, (calls['DescribeNetworkInterfaces'] ?? 0) - e.regionEniPages);
  const instances = calls['DescribeInstances'] ?? 0;
  const rest = Math.max(0, r.served.readCalls - resv - clusterEnis - instances - e.regionEniPages - regionSubnets);
  const perCluster = rest / clusters + instances / clusters + Math.max(Math.ceil(clusterEnis / clusters / Math.min(clusterLanes, READ_LANES)), Math.ceil(resv / clusters / RESERVATION_READS_AT_ONCE));
  // Its lanes READ_LANES at a time (lib/aws/live-source.ts and region-limits.ts run them with mapLimit).
  const regionPath = regionLanes === 1 ? e.regionEniPages : 1 + regionSubnets + Math.ceil((e.regionEniPages - 1) / Math.min(regionLanes, READ_LANES));
  return Math.max(Math.ceil(clusters / CLUSTER_CONCURRENCY) * perCluster, regionPath);
}
const CLUSTER_CONCURRENCY = 4;

/**
 * The least time the function's pace (lib/aws/pacer.ts ec2ReadPace: Describe* at EC2_DESCRIBE_PACE,
 * GetSubnetCidrReservations at three times it; each API its own bucket) lets the run's calls take:
 * the slowest API's calls past its burst, at its rate.
 */
export function paceSeconds(s: UltraServed, pace: PaceLimits = EC2_DESCRIBE_PACE): { api: string; calls: number; seconds: number } {
  const paceOf = ec2ReadPace(pace);
  let worst = { api: '-', calls: 0, seconds: 0 };
  for (const [op, o] of Object.entries(s.byOp)) {
    if (!op.startsWith('ec2 ')) continue;
    const api = op.replace(/^ec2 /, '');
    const limits = paceOf(api);
    if (!limits) continue;
    const seconds = Math.max(0, o.calls - limits.burst) / limits.perSecond;
    if (seconds > worst.seconds || (worst.api === '-' && api.startsWith('Describe'))) worst = { api, calls: o.calls, seconds };
  }
  return worst;
}

/** The busiest Describe API: its name and calls (the rate target's subject). */
function busiestDescribe(s: UltraServed): { api: string; calls: number } {
  const [op, o] = Object.entries(s.byOp).filter(([k]) => /^ec2 Describe\w*$/.test(k)).sort((a, b) => b[1].calls - a[1].calls)[0] ?? ['-', { calls: 0 }];
  return { api: op.replace(/^ec2 /, ''), calls: o.calls };
}

/**
 * The run's estimated Lambda duration (s): CPU scaled to Lambda's share, plus the AWS wait: the
 * longest path's reads at the assumed time a call, or the pace's least time, the longer.
 */
function estimate(r: UltraRun, memoryMB = r.run.memoryMB): { cpuS: number; waitS: number; pathS: number; paceS: number; floorWaitS: number; totalS: number } {
  const cpuS = ((r.run.cpuMs ?? 0) / 1000) * Math.max(1, 1769 / memoryMB);
  const pathS = sequentialReads(r) * AWS_WAIT_PER_CALL_S;
  const paceS = paceSeconds(r.served).seconds;
  const waitS = Math.max(pathS, paceS);
  const floorWaitS = Object.values(r.served.byOp).reduce((s, o) => s + o.serveMs, 0) / 1000;
  return { cpuS, waitS, pathS, paceS, floorWaitS, totalS: cpuS + waitS };
}

function describeCalls(s: UltraServed): number {
  return Object.entries(s.byOp).filter(([k]) => /^ec2 Describe\w*$/.test(k)).reduce((n, [, o]) => n + o.calls, 0);
}

function complete(r: UltraRun): boolean {
  const s = r.run.summary;
  if (!s) return false;
  if (r.fn === 'sample') return (s['clustersFailed'] as unknown[]).length === 0 && (s['clustersIncomplete'] as unknown[]).length === 0 && s['clustersSampled'] === r.ready.expected.clusters;
  return s['status'] === 'handled' && (s['clusters'] as unknown[] | undefined)?.length === r.ready.expected.clusters && ((s['problems'] as unknown[] | undefined) ?? []).length === 0;
}

/** serverless.yml's defaults: memory, architecture, the sampler's and the responder's schedules. */
function stackDefaults(): { memoryMB: number; architecture: 'arm64' | 'x86_64'; sampleMinutes: number; respondMinutes: number } {
  const doc = parseYaml(readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
    params?: { default?: Record<string, unknown> };
    provider?: { architecture?: string };
  };
  const p = doc.params?.default ?? {};
  const minutes = (rate: unknown): number => {
    const m = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(String(rate));
    if (!m) throw new Error(`serverless.yml: cannot read the schedule ${String(rate)}`);
    return Number(m[1]) * (m[2]!.startsWith('hour') ? 60 : 1);
  };
  return {
    memoryMB: Number(p['memorySize']),
    architecture: doc.provider?.architecture === 'x86_64' ? 'x86_64' : 'arm64',
    sampleMinutes: minutes(p['scheduleRate']),
    respondMinutes: minutes(p['remediationRate']),
  };
}

export async function ultraBench(work: string, rowKeys = DEFAULT_ROWS, memorySizes = [TARGET.memoryMB], respondRows = ['100k'], sample = true): Promise<void> {
  const t0 = Date.now();
  const pkg = ensurePackaged();
  if (pkg.packaged) console.log(`(packaged the functions in ${fmt(pkg.seconds, 1)} s)`);
  const bundles = { sample: unzipFunction(work, 'sample'), respond: unzipFunction(work, 'respond') };
  const wireChild = path.join(work, 'wire-child.js');
  await buildChild(wireChild, 'scripts/bench/wire-child.ts');
  const db = await startDynalite();
  const runs: UltraRun[] = [];
  const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', time: new Date().toISOString() };
  const policyDoc = readFileSync(path.join(ROOT, 'policy.yml'), 'utf8');
  try {
    const plan: { key: string; fn: 'sample' | 'respond'; memoryMB: number }[] = [];
    for (const key of rowKeys) {
      if (sample) for (const memoryMB of memorySizes) plan.push({ key, fn: 'sample', memoryMB });
      if (respondRows.includes(key)) plan.push({ key, fn: 'respond', memoryMB: memorySizes[0]! });
    }
    for (const { key, fn, memoryMB } of plan) {
      const row = ULTRA_ROWS[key];
      if (!row) throw new Error(`--ultra: no row ${key} (rows: ${Object.keys(ULTRA_ROWS).join(', ')})`);
      const emulator = await startEmulator(wireChild, row.options);
      let env: Record<string, string> | undefined;
      if (fn === 'respond') {
        // The responder's largest tick: every cluster in apply mode (no opt-in tag: nothing applied).
        const policy = parseYaml(policyDoc) as { clusters?: Record<string, { mode?: string }> | null };
        policy.clusters = Object.fromEntries(Array.from({ length: row.options.clusters }, (_, c) => [`cluster-${String(c + 1).padStart(2, '0')}`, { mode: 'apply' }]));
        env = { POLICY_JSON: JSON.stringify(policy) };
      }
      const t = Date.now();
      const run = await runBundle({
        bundle: bundles[fn],
        functionName: fn,
        event: scheduled,
        endpoint: emulator.ready.endpoint,
        dynamoEndpoint: db.endpoint,
        region: emulator.ready.region,
        memoryMB,
        workDir: work,
        // An hour: the emulator serves XML far slower than EC2 (its serve time is printed); the row
        // measures the whole cycle's CPU, which the estimate is built from, whatever the stack's timeout.
        remainingMs: 3_600_000,
        ...(env ? { env } : {}),
      });
      const served = await emulator.finish();
      runs.push({ key, fn, ready: emulator.ready, run, served });
      // Kept as each run ends (a long run that fails later loses nothing): printUltra(JSON.parse(file)).
      writeFileSync(path.join(work, 'ultra-runs.json'), JSON.stringify(runs));
      console.error(`(--ultra ${key} ${fn} ${memoryMB} MB: ${fmt((Date.now() - t) / 1000, 1)} s${run.failure ? `, FAILED ${run.failure.slice(0, 200)}` : ''})`);
    }
  } finally {
    await db.stop();
  }
  printUltra(runs);
  console.log(`\n(--ultra took ${fmt((Date.now() - t0) / 1000, 1)} s)`);
}

export function printUltra(runs: UltraRun[]): void {
  console.log(
    `\nUltra scale (issue 15): the deployed bundles (.serverless/*.zip) as Lambda runs them, each row's account generated and served over HTTP by its own process. Measured ${new Date().toISOString().slice(0, 10)}.`,
  );
  const shapeRows = [['row', 'nodes', 'clusters', 'subnets', 'ENIs', 'private IPs', 'generate s', 'emulator heap MB', 'emulator peak RSS MB']];
  const seen = new Set<string>();
  for (const r of runs) {
    if (seen.has(r.key)) continue;
    seen.add(r.key);
    const e = r.ready.expected;
    shapeRows.push([ULTRA_ROWS[r.key]!.label, fmt(e.nodes), fmt(e.clusters), fmt(e.subnets), fmt(e.enis), fmt(e.privateAddresses), fmt(r.ready.generateMs / 1000, 1), fmt(r.ready.accountHeapMB), fmt(r.served.maxRssMB)]);
  }
  console.log(table(shapeRows));

  const rows = [[
    'row', 'fn', 'memory MB', 'XML MB', 'reads', 'expected pages', 'reads - pages per cluster', 'peak RSS MB', 'cycle CPU s', 'wall s',
    'est. Lambda s (CPU + wait)', 'Describe calls', 'Describe /s', 'share of refill', 'max Describe in 1 s', 'result',
  ]];
  for (const r of runs) {
    const e = r.ready.expected;
    const est = estimate(r);
    const describe = describeCalls(r.served);
    rows.push([
      r.key, r.fn, fmt(r.run.memoryMB), fmt(r.served.ec2Bytes / MB), fmt(r.served.readCalls), fmt(e.total), fmt((r.served.readCalls - e.total) / e.clusters, 1),
      r.run.peakMB !== undefined ? fmt(r.run.peakMB) : '-', r.run.cpuMs !== undefined ? fmt(r.run.cpuMs / 1000, 1) : '-', r.run.wallMs !== undefined ? fmt(r.run.wallMs / 1000, 1) : '-',
      r.run.cpuMs !== undefined ? `${fmt(est.totalS)} (${fmt(est.cpuS)} + ${fmt(est.waitS)})` : '-',
      fmt(describe), r.run.cpuMs !== undefined ? fmt(describe / est.totalS, 2) : '-', r.run.cpuMs !== undefined ? `${fmt((100 * describe) / est.totalS / BUCKET.refillPerSecond, 1)} %` : '-',
      fmt(maxInWindow(r.served.describeAt)),
      r.run.failure ? `FAILED: ${r.run.failure.slice(0, 60)}` : complete(r) ? 'complete' : 'clusters failed or incomplete',
    ]);
  }
  console.log(`\n${table(rows)}`);
  console.log(
    `\nexpected pages: DescribeNetworkInterfaces per cluster (subnet-id filters of 200, or up to 4 lanes by the nodes' ENIs: <= ceil(ENIs/1000) + filters - 1) + the region's ENIs (one page; past one, the first page, one DescribeSubnets of the region, then ceil(ENIs/1000) + lanes - 1) + DescribeInstances per cluster tag (ceil(instances/1000)) + DescribeSubnets (200 ids a call) + GetMetricData history (500 series a call, 288 points each, 100,800 a page) + GetSubnetCidrReservations (one a subnet).` +
      `\nest. Lambda s = cycle CPU x max(1, 1769 / memory) + the wait: the longer of the longest path's reads x ${AWS_WAIT_PER_CALL_S} s (an assumed AWS time per call; as lib/inventory/collect.ts orders the reads: clusters 4 at a time, in each the instance pages, then the ENI pages in the cluster's lanes alongside the reservations 16 at once, the other reads in turn; the region's ENI read alongside them, in its lanes) and the least time the read pace allows the slowest paced API's calls (lib/aws/pacer.ts: Describe* 5/s after 20, GetSubnetCidrReservations 15/s after 20, each API its own bucket).` +
      `\nDescribe rate = EC2 Describe* calls / est. Lambda s, against one bucket of ${BUCKET.burst} tokens refilled at ${BUCKET.refillPerSecond}/s (EC2 API throttling, non-mutating actions); max in 1 s from the emulator's request log (no network latency here: an upper bound).`,
  );
  for (const r of runs) {
    const e = r.ready.expected;
    const tag = `${r.key} ${r.fn} ${fmt(r.run.memoryMB)} MB`;
    const ops = Object.entries(r.served.byOp).sort((a, b) => b[1].calls - a[1].calls).map(([k, o]) => `${k.replace(/^\w+ /, '')} ${o.calls}`).join(', ');
    console.log(`\n== ${tag}: ${ULTRA_ROWS[r.key]!.label} ==`);
    console.log(`calls: ${ops}`);
    console.log(`sequential reads (modelled): ${fmt(sequentialReads(r))}; GetSubnetCidrReservations: one call per subnet (the API takes one SubnetId), ${fmt(r.served.calls['GetSubnetCidrReservations'] ?? 0)}`);
    console.log(`pages: cluster ENIs ${e.clusterEniPages} (lanes ${(e.clusterEniLanes ?? []).join('/') || '-'}), region ENIs ${e.regionEniPages} (lanes ${e.regionEniLanes ?? 1}, region subnets ${e.regionSubnetPages ?? 0}), instances ${e.instancePages}, subnets ${e.subnetPages}, history ${e.historyPages}, reservations ${e.reservationPages} = ${e.total}`);
    const est = estimate(r);
    const pace = paceSeconds(r.served);
    console.log(`wait: longest path ${fmt(sequentialReads(r))} reads x ${AWS_WAIT_PER_CALL_S} s = ${fmt(est.pathS)} s; the pace (Describe* ${EC2_DESCRIBE_PACE.perSecond}/s after ${EC2_DESCRIBE_PACE.burst}, GetSubnetCidrReservations 3x, per API) lets ${pace.api}'s ${fmt(pace.calls)} calls take >= ${fmt(est.paceS)} s; wait = the longer`);
    const busiest = busiestDescribe(r.served);
    console.log(`the emulator's serve time, summed (wall time on this machine, with its load; information): ${fmt(est.floorWaitS, 1)} s`);
    if (r.run.failure) {
      console.log(`FAIL  ${tag}: the function failed: ${r.run.failure}`);
      continue;
    }
    const whole = complete(r);
    const allowed = e.total + TARGET.readsPerCluster * e.clusters + TARGET.readsPerRegion;
    console.log(`${verdict(whole)}  ${tag}: the cycle completed (every cluster, no problem)${whole ? '' : `: ${JSON.stringify(r.run.summary).slice(0, 300)}`}`);
    console.log(`${verdict(r.served.readCalls <= allowed)}  reads <= pages + ${TARGET.readsPerCluster} per cluster + ${TARGET.readsPerRegion}: ${fmt(r.served.readCalls)} <= ${fmt(e.total)} + ${fmt(TARGET.readsPerCluster * e.clusters + TARGET.readsPerRegion)} = ${fmt(allowed)}`);
    console.log(`${verdict(whole && est.totalS <= TARGET.lambdaSeconds && r.run.memoryMB <= TARGET.memoryMB)}  est. Lambda duration <= ${TARGET.lambdaSeconds} s at <= ${fmt(TARGET.memoryMB)} MB: ${fmt(est.totalS)} s at ${fmt(r.run.memoryMB)} MB (peak RSS ${fmt(r.run.peakMB ?? 0)} MB)`);
    const describe = describeCalls(r.served);
    const share = describe / est.totalS / BUCKET.refillPerSecond;
    const burst = maxInWindow(r.served.describeAt);
    // EC2 evaluates each API in its own bucket (same page): the busiest API, and every EC2 read
    // together (GetSubnetCidrReservations is a Get, not a Describe), for information.
    const ec2Reads = Object.entries(r.served.byOp).filter(([k]) => /^ec2 (Describe|Get)\w*$/.test(k));
    const all = ec2Reads.reduce((n, [, o]) => n + o.calls, 0);
    const [busiestRead, most] = ec2Reads.sort((a, b) => b[1].calls - a[1].calls)[0] ?? ['-', { calls: 0 }];
    console.log(
      `INFO  every EC2 read (Describe* and Get*): ${fmt(all)} calls, ${fmt(all / est.totalS, 2)}/s = ${fmt((100 * all) / est.totalS / BUCKET.refillPerSecond, 1)} % of one bucket's refill; the busiest API, ${busiestRead.replace(/^ec2 /, '')}: ${fmt(most.calls)} calls, ${fmt((100 * most.calls) / est.totalS / BUCKET.refillPerSecond, 1)} % of its own bucket's`,
    );
    // EC2 evaluates each API in its own bucket ("each API is evaluated individually", EC2 developer
    // guide, "Request throttling for the Amazon EC2 API"): the target is the busiest Describe API's share.
    const apiShare = busiest.calls / est.totalS / BUCKET.refillPerSecond;
    console.log(
      `INFO  every Describe* call counted against one bucket (stricter than EC2's per-API buckets): ${fmt(describe)} calls, ${fmt(describe / est.totalS, 2)}/s = ${fmt(100 * share, 1)} % of the refill`,
    );
    console.log(
      `${verdict(apiShare <= TARGET.refillShare && burst <= TARGET.burstPerSecond)}  Describe rate well inside the bucket (the busiest Describe API <= ${TARGET.refillShare * 100} % of its refill averaged; <= ${TARGET.burstPerSecond} Describe* in any 1 s): ${busiest.api} ${fmt(busiest.calls / est.totalS, 2)}/s = ${fmt(100 * apiShare, 1)} %, max ${burst} in 1 s`,
    );
  }
  printCost(runs);
}

/** The monthly cost per 1,000 nodes at the stack's defaults, from each row's measured figures. */
function printCost(runs: UltraRun[]): void {
  const d = stackDefaults();
  const month = 30 * 24 * 60;
  const invocations = { sample: month / d.sampleMinutes, respond: month / d.respondMinutes };
  const gbS = PRICE.gbSecond[d.architecture];
  console.log(
    `\nEstimated monthly cost per 1,000 nodes at serverless.yml's defaults (${d.architecture}, memorySize ${d.memoryMB} MB, sampler every ${d.sampleMinutes} min = ${fmt(invocations.sample)} runs, responder every ${d.respondMinutes} min = ${fmt(invocations.respond)} ticks, 30 days; US East prices):`,
  );
  console.log(
    `Lambda duration at ${d.memoryMB} MB = cycle CPU x ${fmt(1769 / d.memoryMB, 2)} + the AWS wait (${AWS_WAIT_PER_CALL_S} s a read); a row whose peak does not fit ${d.memoryMB} MB is priced at the memory it ran at. The respond tick is taken as the sample cycle's cost where not measured (it collects the same inventory).`,
  );
  const rows = [['row', 'priced at MB', 'GB-s per cycle', 'Lambda $ (both fns)', 'requests $', 'metrics', 'metrics $', 'PutMetricData $', 'GetMetricData $', 'total $/month', 'per 1,000 nodes $', 'dominant']];
  const keys = [...new Set(runs.map((r) => r.key))];
  for (const key of keys) {
    const sample = runs.find((r) => r.key === key && r.fn === 'sample' && !r.run.failure);
    if (!sample) continue;
    const respond = runs.find((r) => r.key === key && r.fn === 'respond' && !r.run.failure) ?? sample;
    const gbSecondsOf = (r: UltraRun): { mem: number; gbs: number } => {
      const mem = (r.run.peakMB ?? Infinity) < d.memoryMB ? d.memoryMB : r.run.memoryMB;
      return { mem, gbs: (mem / 1024) * estimate(r, mem).totalS };
    };
    const s = gbSecondsOf(sample);
    const p = gbSecondsOf(respond);
    const lambda = (s.gbs * invocations.sample + p.gbs * invocations.respond) * gbS;
    const requests = (invocations.sample + invocations.respond) * PRICE.perRequest;
    const metrics = metricsPrice(sample.served.metrics);
    const puts = ((sample.served.putMetricDataCalls * invocations.sample) / 1000) * PRICE.putMetricDataPer1000;
    // The forecast's history, read by both functions each cycle.
    // (Runs saved before the field: every subnet is a cluster's in the generated accounts.)
    const series = sample.ready.expected.historySeries ?? sample.ready.expected.subnets + sample.ready.expected.clusters;
    const gets = ((series * (invocations.sample + invocations.respond)) / 1000) * PRICE.getMetricDataPer1000;
    const total = lambda + requests + metrics + puts + gets;
    const parts: [string, number][] = [['Lambda', lambda], ['custom metrics', metrics], ['PutMetricData', puts], ['GetMetricData', gets], ['requests', requests]];
    const dominant = parts.sort((a, b) => b[1] - a[1])[0]!;
    rows.push([
      key, s.mem === p.mem ? fmt(s.mem) : `${fmt(s.mem)}/${fmt(p.mem)}`, `${fmt(s.gbs, 1)} / ${fmt(p.gbs, 1)}`, fmt(lambda, 2), fmt(requests, 2), fmt(sample.served.metrics), fmt(metrics, 2), fmt(puts, 2), fmt(gets, 2),
      fmt(total, 2), fmt(total / (sample.ready.expected.nodes / 1000), 2), `${dominant[0]} (${fmt((100 * dominant[1]) / total)} %)`,
    ]);
  }
  console.log(table(rows));
  console.log('DynamoDB (the ledger, on demand): not measured here (a dry-run tick writes only for new findings and actions); SNS: a few notifications a cycle, negligible.');
}
