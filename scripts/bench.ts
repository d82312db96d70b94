/**
 * `npm run bench`: the sampler measured at scale, and the functions' cold start.
 *
 * 1. For synthetic accounts of 100, 1,000 and 5,000 nodes (the last one the target shape: 3
 *    clusters, 99 subnets, ~15,000 ENIs), one full cycle of handlers/sample.ts against the
 *    emulated AWS account (tools/mock-aws.ts: real filters, page sizes, response shapes)
 *    with 24 h of metric history and a dynalite ledger: calls by API, metrics published, CPU time
 *    against the JSON.parse floor of the same answers, peak memory. Each size runs in its own
 *    `node --expose-gc` process (bundled with the functions' esbuild options); a warm-up, then
 *    the median of 5.
 * 2. Each function's bundle (.js in .serverless/<fn>.zip, packaged first when stale), what
 *    dominates it (esbuild metafile), and the time to require it in a fresh process.
 * 3. The deployed sample bundle as Lambda runs it, per size, under the heap limits of a 256 and
 *    a 512 MB function, AWS served over HTTP in its wire formats (scripts/bench/lambda-memory.ts):
 *    whole-process peak RSS, CPU of the cycle with the SDK's real deserialising, estimated
 *    duration in Lambda; and the respond bundle's largest cycle (its remediation tick with every
 *    cluster in apply mode) at the largest size, 256 MB.
 * 4. The targets, PASS or FAIL (memory from 3).
 * 5. The pure core at its tests' sizes (scripts/bench/core.ts): forecast, prefix blocks, policy
 *    file refusal, pattern complexity. `--core` prints only these.
 * 6. The Kubernetes read of a 1,000- and a 5,000-node cluster through the real reader
 *    (scripts/bench/kube.ts), with its targets. `--kubernetes` prints only these (`--sizes` then
 *    sets the cluster sizes).
 *
 * 7. The XML floor (scripts/bench/xml-floor.ts): the EC2 XML bodies of the deployed sample cycle
 *    at 256 MB (recorded from the wire server), bytes and pages by API, tokenised once by fast
 *    streaming parsers; the deployed cycle's CPU against it, with its target. `--xml-floor`
 *    prints only these (sizes from `--sizes`, default 5,000); with `--profile`, also the CPU
 *    profile of the deployed cycle at the largest size, by package and function (source-mapped).
 *
 * 8. Ultra scale (scripts/bench/ultra.ts): the deployed sample bundle at 20,000, 100,000 (one
 *    cluster) and 90,000 (30 clusters of 3,000) nodes at 3,008 MB, and the respond tick at 100,000,
 *    each row's account served by its own process: reads against the pages the account needs,
 *    peak RSS, estimated Lambda duration, the EC2 Describe rate against the token bucket, and the
 *    monthly cost per 1,000 nodes. Only with `--ultra` (not in the full bench): `--rows 20k,100k,30x3k`
 *    (also 5k), `--memory 3008[,1769…]`, `--respond-rows 100k` (`none` for no respond run), `--work DIR`, `--no-sample` (the respond runs only);
 *    `--from DIR[,DIR]` prints again the runs saved in those work directories.
 *
 *   npx tsx scripts/bench.ts [--sizes 100,1000,5000] [--profile] [--core] [--kubernetes] [--xml-floor] [--ultra] [--help]
 *
 * --profile also writes a CPU profile of the 5,000-node child (node --cpu-prof) and prints its
 * heaviest functions.
 */
import { fork } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startDynalite } from '../tools/dynalite';
import { generateAccount, type GenerateAccountOptions } from '../tools/synthetic-account';
import { analyseBundle, buildChild, ROOT } from './bench/build';
import { ensurePackaged, measureColdStarts, unzipFunction, type FunctionColdStart } from './bench/cold-start';
import { measureCoreFigures } from './bench/core';
import { KUBE_SIZES, measureKubernetes, printKubernetesFigures } from './bench/kube';
import { measureLambdaMemory, type LambdaMemoryFigures } from './bench/lambda-memory';
import { measureXmlFloor, xmlFloorMs, type XmlFloorFigures } from './bench/xml-floor';
import { summariseDeployedProfile, summariseProfile } from './bench/profile';
import { benchEnv } from './bench/runtime';
import { printUltra, ultraBench } from './bench/ultra';
import type { ChildInput, ChildResult, RunFigures } from './bench/types';

const WORK = '/tmp/eks-ip-bench';
const CHILD = path.join(WORK, 'cycle-child.js');
/** Types with at least 4 ENIs (m5.xlarge 4, m5.2xlarge 4, c6g.2xlarge 4, r6i.2xlarge 4) so that enisPerNode 4 holds. */
const TYPES = ['m5.xlarge', 'm5.2xlarge', 'c6g.2xlarge', 'r6i.2xlarge'];
/** Clusters and subnets in proportion to the nodes; 5,000 is the target shape. */
const SHAPES: Record<number, { clusters: number; subnetsPerCluster: number }> = {
  100: { clusters: 1, subnetsPerCluster: 6 },
  1000: { clusters: 2, subnetsPerCluster: 20 },
  5000: { clusters: 3, subnetsPerCluster: 33 },
};

const TARGET = { readCalls: 60, cpuRatio: 2, peakMB: 200, bundleMB: 1.5, xmlFloorRatio: 3 };
/** The Lambda memory sizes the deployed bundle is run under: the target's and the stack's default. */
const LAMBDA_MEMORY_SIZES = [256, 512];

/** The account of a size, as the cycle child generates it (scripts/bench/cycle-child.ts). */
function accountOptions(nodes: number): Required<Pick<GenerateAccountOptions, 'nodes' | 'clusters' | 'subnetsPerCluster' | 'enisPerNode' | 'instanceTypes' | 'seed'>> {
  const shape = SHAPES[nodes] ?? { clusters: 3, subnetsPerCluster: Math.max(3, Math.round(nodes / 50)) };
  return { ...shape, nodes, enisPerNode: 4, instanceTypes: TYPES, seed: 42 };
}

const MB = 2 ** 20;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (v: number, d = 0): string => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

function runChild(input: ChildInput, profileDir?: string): Promise<ChildResult> {
  const policy = readFileSync(input.policyFile, 'utf8');
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [JSON.stringify(input)], {
      // BENCH_NODE_FLAGS adds V8 flags to these analysis children (e.g. --max-old-space-size=400);
      // the Lambda runs (scripts/bench/lambda-memory.ts) take the runtime's own flags instead.
      execArgv: [
        '--expose-gc',
        ...(process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter((f) => f.length > 0),
        ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      ],
      // The function's logs (stdout) are written, as in Lambda, and dropped.
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIDBENCH',
        AWS_SECRET_ACCESS_KEY: 'bench',
        // A client that escaped the emulation fails fast instead of reaching AWS.
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        AWS_MAX_ATTEMPTS: '1',
        // What handlers/sample.ts parses at import (its module-level handler is not used).
        ...benchEnv('eks-ip-responder-bench-ledger', policy),
      },
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    let result: ChildResult | undefined;
    child.on('message', (m) => {
      if ((m as { error?: string }).error) reject(new Error((m as { error: string }).error));
      else result = m as ChildResult;
    });
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`child for ${input.nodes} nodes exited ${code}: ${stderr}`))));
  });
}

/**
 * The floor: the fastest of the parse rounds (the least the data can cost to read; a round that
 * a GC or the machine slowed is not the floor). The lower floor makes the ratio stricter.
 */
function floorOf(r: ChildResult): number {
  return Math.min(...r.floor.parseMs);
}

/** Whether a Lambda run covered every cluster with complete data (else its figures prove nothing). */
function wholeCycle(fn: 'sample' | 'respond', clusters: number, f: LambdaMemoryFigures): boolean {
  const s = f.summary;
  if (!s) return false;
  if (fn === 'sample') return (s['clustersFailed'] as unknown[]).length === 0 && (s['clustersIncomplete'] as unknown[]).length === 0 && s['clustersSampled'] === clusters;
  return s['status'] === 'handled' && (s['clusters'] as unknown[] | undefined)?.length === clusters && ((s['problems'] as unknown[] | undefined) ?? []).length === 0;
}

function callsBy(runs: RunFigures[], pick: (r: RunFigures) => Record<string, number>): Record<string, number> {
  const ops = new Set(runs.flatMap((r) => Object.keys(pick(r))));
  return Object.fromEntries([...ops].sort().map((op) => [op, median(runs.map((r) => pick(r)[op] ?? 0))]));
}

/**
 * The deployed sample bundle over the wire at each size, under the heap limits of each of
 * LAMBDA_MEMORY_SIZES; the target's function (256 MB) records its cycle's responses, whose XML
 * floor is measured.
 */
async function deployedSampleRuns(
  sizes: number[],
  bundle: string,
  dynamoEndpoint: string,
  event: Record<string, unknown>,
  lambda: { nodes: number; fn: 'sample' | 'respond'; figures: LambdaMemoryFigures }[],
  floors: { nodes: number; floor: XmlFloorFigures }[],
): Promise<void> {
  for (const nodes of sizes) {
    const account = generateAccount(accountOptions(nodes));
    for (const memoryMB of LAMBDA_MEMORY_SIZES) {
      const figures = await measureLambdaMemory({
        account,
        bundle,
        functionName: 'sample',
        event,
        dynamoEndpoint,
        memoryMB,
        historyHours: 24,
        workDir: WORK,
        invocations: WARM_INVOCATIONS,
        ...(memoryMB === 256 ? { recordTo: path.join(WORK, `responses-${nodes}.bin`) } : {}),
      });
      lambda.push({ nodes, fn: 'sample', figures });
      if (figures.recording) floors.push({ nodes, floor: await measureXmlFloor(figures.recording, WORK) });
    }
  }
}

/**
 * The responder's largest cycle: its remediation tick with every cluster in apply mode (collect,
 * diagnose, plan and the ledger's gates for all of them; the clusters carry no opt-in tag, so
 * nothing is applied), under a 256 MB Lambda's heap limits. Each cluster in apply mode by name:
 * a policy may not put `default.mode` in apply.
 */
async function deployedRespondRun(nodes: number, bundle: string, dynamoEndpoint: string, event: Record<string, unknown>): Promise<LambdaMemoryFigures> {
  const account = generateAccount(accountOptions(nodes));
  const policy = parseYaml(readFileSync(path.join(ROOT, 'policy.yml'), 'utf8')) as { clusters?: Record<string, { mode?: string }> | null };
  policy.clusters = Object.fromEntries(account.clusters.map((c) => [c.name, { mode: 'apply' }]));
  return measureLambdaMemory({
    account,
    bundle,
    functionName: 'respond',
    event,
    dynamoEndpoint,
    memoryMB: 256,
    historyHours: 24,
    workDir: WORK,
    invocations: WARM_INVOCATIONS,
    // The ticks one after another: not held back by the responder's minimum interval.
    env: { POLICY_JSON: JSON.stringify(policy), RESPOND_MIN_INTERVAL_SECONDS: '0' },
  });
}

/**
 * Each deployed run invokes the handler this many times in one process, as a warm container runs
 * the schedule's cycles one after another: the first invocation is a cold container's (the
 * bundle's code compiled as it first runs), the fastest of the others a warm one's, the cost of
 * each cycle after the first (the XML floor is likewise the fastest of its rounds).
 */
const WARM_INVOCATIONS = 3;

/** The fastest warm invocation's CPU (ms): of the invocations after the first; undefined without any. */
export function warmCpuMs(f: Pick<LambdaMemoryFigures, 'cpuEach'>): number | undefined {
  const warm = (f.cpuEach ?? []).slice(1);
  return warm.length > 0 ? Math.min(...warm) : undefined;
}

/** The usage: this file's header. */
function printHelp(): void {
  const header = /^\/\*\*\n([\s\S]*?)\*\//.exec(readFileSync(__filename, 'utf8'))?.[1] ?? '';
  console.log(header.replace(/^ \* ?/gm, ''));
}

async function main(): Promise<void> {
  const t0 = Date.now();
  if (process.argv.includes('--help')) return printHelp();
  if (process.argv.includes('--ultra')) {
    // --work: a directory of its own, so that two --ultra runs can go side by side.
    const work = arg('--work') ?? WORK;
    mkdirSync(work, { recursive: true });
    const list = (name: string): string[] | undefined => arg(name)?.split(',').filter((x) => x.length > 0);
    const respondRows = list('--respond-rows');
    // --from DIR[,DIR…]: print again the runs an earlier --ultra saved in each --work (ultra-runs.json), merged.
    const from = list('--from');
    if (from) return printUltra(from.flatMap((dir) => JSON.parse(readFileSync(path.join(dir, 'ultra-runs.json'), 'utf8')) as Parameters<typeof printUltra>[0]));
    return ultraBench(work, list('--rows'), list('--memory')?.map(Number), respondRows?.includes('none') ? [] : respondRows, !process.argv.includes('--no-sample'));
  }
  if (process.argv.includes('--core')) return printCoreFigures();
  if (process.argv.includes('--kubernetes')) {
    mkdirSync(WORK, { recursive: true });
    printKubernetesFigures(await measureKubernetes(WORK, arg('--sizes')?.split(',').map(Number) ?? KUBE_SIZES));
    console.log(`\n(bench took ${fmt((Date.now() - t0) / 1000, 1)} s)`);
    return;
  }
  if (process.argv.includes('--xml-floor')) {
    await xmlFloorOnly((arg('--sizes') ?? '5000').split(',').map(Number), process.argv.includes('--profile'));
    console.log(`\n(bench took ${fmt((Date.now() - t0) / 1000, 1)} s)`);
    return;
  }
  const sizes = (arg('--sizes') ?? '100,1000,5000').split(',').map(Number);
  const profile = process.argv.includes('--profile');
  mkdirSync(WORK, { recursive: true });
  await buildChild(CHILD);
  const db = await startDynalite();
  const results: ChildResult[] = [];
  let profileSummary = '';
  let pkg: ReturnType<typeof ensurePackaged> = { packaged: false, seconds: 0 };
  let cold: FunctionColdStart[] = [];
  const lambda: { nodes: number; fn: 'sample' | 'respond'; figures: LambdaMemoryFigures }[] = [];
  const xmlFloors: { nodes: number; floor: XmlFloorFigures }[] = [];
  try {
    for (const nodes of sizes) {
      const { seed: _seed, ...shape } = accountOptions(nodes);
      const input: ChildInput = {
        ...shape,
        endpoint: db.endpoint,
        policyFile: path.join(ROOT, 'policy.yml'),
        warmups: 1,
        runs: 5,
        historyHours: 24,
        noHistoryRuns: 3,
      };
      results.push(await runChild(input));
    }
    if (profile) {
      const dir = path.join(WORK, 'profile');
      rmSync(dir, { recursive: true, force: true });
      const nodes = sizes[sizes.length - 1]!;
      const { seed: _seed, ...shape } = accountOptions(nodes);
      await runChild(
        { ...shape, endpoint: db.endpoint, policyFile: path.join(ROOT, 'policy.yml'), warmups: 0, runs: 1, historyHours: 24, noHistoryRuns: 0 },
        dir,
      );
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      if (file) {
        profileSummary = `\nCPU profile of one ${nodes}-node child (generation, 2 cycles with history, capture; ${path.join(dir, file)}):\n${summariseProfile(path.join(dir, file), CHILD, 15)}`;
      }
    }
    // The functions' bundles (packaged when stale) and their cold start.
    pkg = ensurePackaged();
    cold = measureColdStarts(WORK);

    // The deployed bundle over the wire, per size, under the heap limits of 256 and 512 MB Lambdas.
    const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', time: new Date().toISOString() };
    await deployedSampleRuns(sizes, path.join(WORK, 'zip-sample', 'handlers', 'sample.js'), db.endpoint, scheduled, lambda, xmlFloors);
    lambda.push({ nodes: sizes[sizes.length - 1]!, fn: 'respond', figures: await deployedRespondRun(sizes[sizes.length - 1]!, path.join(WORK, 'zip-respond', 'handlers', 'respond.js'), db.endpoint, scheduled) });
  } finally {
    await db.stop();
  }

  console.log('Sampler cycle (handlers/sample.ts makeHandler, emulated AWS, dynalite ledger): median of 5 after a warm-up');
  console.log('Each run is a new container\'s first cycle: instance types not cached, an empty ledger; 24 h of 5-minute metric history.\n');
  const shapeRows = [['nodes', 'clusters', 'subnets', 'ENIs', 'instances', 'nodegroups', 'types', 'generate ms', 'account heap MB']];
  for (const r of results) {
    shapeRows.push([fmt(r.nodes), fmt(r.shape.clusters), fmt(r.shape.subnets), fmt(r.shape.enis), fmt(r.shape.instances), fmt(r.shape.nodegroups), fmt(r.shape.instanceTypes), fmt(r.generateMs), fmt(r.accountHeapMB, 1)]);
  }
  console.log(table(shapeRows));

  for (const r of results) {
    const runs = r.runs;
    const reads = callsBy(runs, (x) => Object.fromEntries(Object.entries(x.awsCalls).filter(([op]) => op !== 'PutMetricData' && op !== 'Publish')));
    const writes = callsBy(runs, (x) => Object.fromEntries(Object.entries(x.awsCalls).filter(([op]) => op === 'PutMetricData' || op === 'Publish')));
    const dynamo = callsBy(runs, (x) => x.dynamoCalls);
    const cpu = median(runs.map((x) => x.cpuMs));
    const cpuNoHistory = median(r.runsNoHistory.map((x) => x.cpuMs));
    const floor = floorOf(r);
    const last = runs[runs.length - 1]!;
    console.log(`\n== ${fmt(r.nodes)} nodes, ${fmt(r.shape.enis)} ENIs, ${r.shape.subnets} subnets, ${r.shape.clusters} cluster(s) ==`);
    const rows = [['figure', 'value']];
    for (const [op, n] of Object.entries(reads)) rows.push([`  read  ${op}`, fmt(n)]);
    rows.push(['AWS read calls', fmt(median(runs.map((x) => x.readCalls)))]);
    for (const [op, n] of Object.entries(writes)) rows.push([`  write ${op}`, fmt(n)]);
    for (const [op, n] of Object.entries(dynamo)) rows.push([`  DynamoDB ${op}`, fmt(n)]);
    rows.push(['PutMetricData calls', fmt(median(runs.map((x) => x.putMetricDataCalls)))]);
    rows.push(['metrics published', fmt(median(runs.map((x) => x.metricsPublished)))]);
    rows.push(['findings / notified', `${last.findings} / ${last.notified}`]);
    rows.push(['clusters sampled / failed / incomplete', `${last.clustersSampled} / ${last.clustersFailed} / ${last.clustersIncomplete}`]);
    rows.push(['cycle CPU ms (user+system)', fmt(cpu)]);
    rows.push(['  runs', runs.map((x) => fmt(x.cpuMs)).join(' ')]);
    rows.push(['cycle wall ms', fmt(median(runs.map((x) => x.wallMs)))]);
    rows.push(['cycle CPU ms without history (no forecast work)', fmt(cpuNoHistory)]);
    rows.push([`JSON.parse floor ms, fastest round (${r.floor.pages} answers, ${fmt(r.floor.bytes / MB, 1)} MB)`, fmt(floor, 1)]);
    rows.push(['  runs', r.floor.parseMs.map((x) => fmt(x)).join(' ')]);
    rows.push(['CPU / floor', `${fmt(cpu / floor, 2)}x (without history ${fmt(cpuNoHistory / floor, 2)}x)`]);
    rows.push(['RSS before the cycle MB (after GC)', fmt(median(runs.map((x) => x.rssBefore)) / MB)]);
    rows.push([`peak RSS during the cycle MB${last.peakIsCycleOnly ? '' : ' (process maxRSS)'}`, fmt(median(runs.map((x) => x.peakRss)) / MB)]);
    rows.push(['  without history', fmt(median(r.runsNoHistory.map((x) => x.peakRss)) / MB)]);
    rows.push(['heap used before -> after the cycle MB', `${fmt(median(runs.map((x) => x.heapBefore)) / MB)} -> ${fmt(median(runs.map((x) => x.heapAfter)) / MB)}`]);
    rows.push(['process peak RSS MB (maxRSS, generation included)', fmt(r.maxRss / MB)]);
    console.log(table(rows));
    const problems = [...new Set(runs.flatMap((x) => x.problems))];
    if (problems.length > 0) console.log(`problems: ${problems.slice(0, 5).join(' | ')}`);
  }

  // Cold start (measured above).
  console.log(`\nCold start (.serverless/*.zip${pkg.packaged ? `, packaged now in ${fmt(pkg.seconds, 1)} s` : ', up to date'}; require in a fresh node ${process.version}, median of 5)`);
  const coldRows = [['function', 'bundle .js MB', '.map MB', 'zip MB', 'require ms', 'require ms (no source maps)', 'RSS after require MB']];
  for (const c of cold) {
    coldRows.push([c.name, fmt(c.jsBytes / 1e6, 2), fmt(c.mapBytes / 1e6, 2), fmt(c.zipBytes / 1e6, 2), fmt(c.requireMs), fmt(c.requireMsNoSourceMaps), fmt(c.rssAfterRequire)]);
  }
  console.log(table(coldRows));
  const sampleBundle = await analyseBundle('handlers/sample.ts');
  console.log(`\nWhat the sample bundle holds (esbuild metafile, serverless.yml's options): ${fmt(sampleBundle.bytes / 1e6, 2)} MB`);
  console.log(table([['origin', 'KB'], ...sampleBundle.byOrigin.slice(0, 10).map(([k, v]) => [`  ${k}`, fmt(v / 1e3)])]));
  const alternatives: [string, Parameters<typeof analyseBundle>[1]][] = [
    ['main fields main,module (esbuild default)', { mainFields: ['main', 'module'] }],
    ['@aws-sdk/* external (the Lambda runtime\'s SDK)', { external: ['@aws-sdk/*'] }],
  ];
  for (const [label, extra] of alternatives) {
    const b = await analyseBundle('handlers/sample.ts', extra);
    console.log(`  with ${label}: ${fmt(b.bytes / 1e6, 2)} MB`);
  }

  console.log(
    '\nThe deployed sample bundle as Lambda runs it (scripts/bench/lambda-memory.ts): a fresh node with the runtime\'s heap limits for the memory size, the stack\'s environment, AWS over HTTP in each service\'s wire format (EC2 XML), the ledger in dynalite. Peak = whole-process VmHWM.',
  );
  const lambdaRows = [['function', 'nodes', 'memory MB', 'heap limits', 'peak RSS MB', 'RSS after load MB', 'cycle CPU ms', 'cycle wall ms', 'responses MB (EC2 XML)', 'reads', 'est. Lambda s', 'result']];
  for (const { nodes, fn, figures: f } of lambda) {
    const ok = wholeCycle(fn, accountOptions(nodes).clusters, f);
    lambdaRows.push([
      fn,
      fmt(nodes),
      fmt(f.memoryMB),
      f.flags.filter((x) => x.startsWith('--max')).map((x) => x.replace(/^--max-(\w+)-space-size=/, '$1 ')).join(', '),
      f.peakMB !== undefined ? fmt(f.peakMB) : '-',
      f.loadedMB !== undefined ? fmt(f.loadedMB) : '-',
      f.cpuMs !== undefined ? fmt(f.cpuMs) : '-',
      f.wallMs !== undefined ? fmt(f.wallMs) : '-',
      `${fmt(f.responseMB, 1)} (${fmt(f.ec2ResponseMB, 1)})`,
      fmt(f.readCalls),
      // Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB
      // (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). The cycle is
      // CPU-bound, so its duration scales with 1,769 / memory (this machine's core taken as one vCPU).
      f.cpuMs !== undefined ? fmt((f.cpuMs / 1000) * (1769 / f.memoryMB)) : '-',
      f.failure ? `FAILED: ${f.failure.slice(0, 80)}` : ok ? 'ok' : 'clusters failed or incomplete',
    ]);
  }
  console.log(table(lambdaRows));

  // Targets at the largest size.
  const big = results[results.length - 1]!;
  const bigReads = median(big.runs.map((x) => x.readCalls));
  const bigRatio = median(big.runs.map((x) => x.cpuMs)) / floorOf(big);
  const bigPeak = median(big.runs.map((x) => x.peakRss)) / MB;
  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
  console.log(`\nTargets (${fmt(big.nodes)} nodes, ${fmt(big.shape.enis)} ENIs, ${big.shape.subnets} subnets, ${big.shape.clusters} clusters):`);
  console.log(`${verdict(bigReads <= TARGET.readCalls)}  AWS read calls per cycle <= ${TARGET.readCalls}: ${fmt(bigReads)}`);
  console.log(`${verdict(bigRatio <= TARGET.cpuRatio)}  cycle CPU <= ${TARGET.cpuRatio}x the JSON.parse floor: ${fmt(bigRatio, 2)}x (${fmt(median(big.runs.map((x) => x.cpuMs)))} ms vs ${fmt(floorOf(big))} ms)`);
  console.log(`INFO  peak RSS of the bench process during the cycle: ${fmt(bigPeak)} MB (generator, emulator and mocks included)`);
  // Memory as Lambda measures it: the deployed bundle over the wire under the runtime's heap
  // limits for 256 MB (scripts/bench/lambda-memory.ts).
  for (const fn of ['sample', 'respond'] as const) {
    const at256 = lambda.find((l) => l.fn === fn && l.nodes === big.nodes && l.figures.memoryMB === 256)?.figures;
    if (!at256) continue;
    // A cycle that failed or saw incomplete data read less than a real one: its peak proves nothing.
    const whole = wholeCycle(fn, big.shape.clusters, at256);
    console.log(
      at256.peakMB !== undefined
        ? `${verdict(whole && at256.peakMB < TARGET.peakMB)}${whole ? '' : ' (clusters failed or incomplete)'}  ${fn} peak memory < ${TARGET.peakMB} MB: ${fmt(at256.peakMB)} MB (the deployed ${fn} bundle over the wire, heap limits of a 256 MB Lambda: ${at256.flags.join(' ')})`
        : `FAIL  ${fn} peak memory < ${TARGET.peakMB} MB: the function failed under a 256 MB Lambda's heap limits: ${at256.failure ?? ''}`,
    );
  }
  console.log(`INFO  the cycle's own data after a full GC: ${fmt(big.liveMB, 1)} MB (trimmed inventory, usage, findings); the rest of the peak is the runtime and bundle (RSS after load) and responses being parsed`);
  for (const c of cold) {
    console.log(`${verdict(c.jsBytes <= TARGET.bundleMB * 1e6)}  ${c.name} bundle <= ${TARGET.bundleMB} MB minified: ${fmt(c.jsBytes / 1e6, 2)} MB`);
  }
  if (profileSummary) console.log(profileSummary);
  printXmlFloor(xmlFloors, lambda.filter((l) => l.fn === 'sample'));
  printCoreFigures();
  printKubernetesFigures(await measureKubernetes(WORK));
  console.log(`\n(bench took ${fmt((Date.now() - t0) / 1000, 1)} s)`);
}

/**
 * `--xml-floor`: per size, the deployed sample bundle over the wire at 256 and 512 MB (the 256 MB
 * run recording its responses), then the floor of its EC2 XML. With `profile`, one more 256 MB
 * run of the largest size under --cpu-prof, summarised through the bundle's source map.
 */
async function xmlFloorOnly(sizes: number[], profile: boolean): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  const pkg = ensurePackaged();
  if (pkg.packaged) console.log(`(packaged the functions in ${fmt(pkg.seconds, 1)} s)`);
  const bundle = unzipFunction(WORK, 'sample');
  const db = await startDynalite();
  const lambda: { nodes: number; fn: 'sample' | 'respond'; figures: LambdaMemoryFigures }[] = [];
  const floors: { nodes: number; floor: XmlFloorFigures }[] = [];
  let profileText = '';
  const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events', time: new Date().toISOString() };
  try {
    await deployedSampleRuns(sizes, bundle, db.endpoint, scheduled, lambda, floors);
    const nodes = sizes[sizes.length - 1]!;
    lambda.push({ nodes, fn: 'respond', figures: await deployedRespondRun(nodes, unzipFunction(WORK, 'respond'), db.endpoint, scheduled) });
    if (profile) {
      const dir = path.join(WORK, 'profile-sample');
      rmSync(dir, { recursive: true, force: true });
      const f = await measureLambdaMemory({
        account: generateAccount(accountOptions(nodes)),
        bundle,
        functionName: 'sample',
        event: scheduled,
        dynamoEndpoint: db.endpoint,
        memoryMB: 256,
        historyHours: 24,
        workDir: WORK,
        invocations: WARM_INVOCATIONS,
        extraFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
      });
      const file = f.failure ? undefined : readdirSync(dir).find((x) => x.endsWith('.cpuprofile'));
      profileText = file
        ? `\nCPU profile of the deployed sample cycle, ${fmt(nodes)} nodes, 256 MB, ${WARM_INVOCATIONS} invocations in one process (${(f.cpuEach ?? [f.cpuMs ?? 0]).map((x) => fmt(x)).join(' / ')} ms of cycle CPU under the profiler; ${path.join(dir, file)}):\n${summariseDeployedProfile(path.join(dir, file), bundle, 15)}`
        : `\nCPU profile of the deployed sample cycle: no profile (${f.failure ?? 'none written'})`;
    }
  } finally {
    await db.stop();
  }
  printXmlFloor(floors, lambda);
  if (profileText) console.log(profileText);
}

/** The XML floor per size (scripts/bench/xml-floor.ts), the deployed cycle's CPU against it, and the target. */
function printXmlFloor(floors: { nodes: number; floor: XmlFloorFigures }[], lambda: { nodes: number; fn: 'sample' | 'respond'; figures: LambdaMemoryFigures }[]): void {
  if (floors.length === 0) return;
  console.log(
    '\nXML floor: the EC2 XML the wire server sent during the deployed sample cycle at 256 MB, tokenised once by a fast streaming parser (a child node --expose-gc, CPU ms, fastest of 5 rounds); the deployed cycle\'s CPU (scripts/bench/lambda-memory.ts) against it.',
  );
  for (const { nodes, floor: f } of floors) {
    const shape = accountOptions(nodes);
    console.log(`\n== ${fmt(nodes)} nodes, ${shape.clusters} cluster(s): ${fmt(f.xmlPages)} EC2 XML pages, ${fmt(f.xmlBytes / MB, 1)} MB ==`);
    const total = f.byApi.reduce((s, r) => s + r.bytes, 0);
    const apiRows = [['response (service operation)', 'pages', 'bytes', 'MB', 'share of bytes']];
    for (const r of f.byApi) apiRows.push([r.api, fmt(r.pages), fmt(r.bytes), fmt(r.bytes / MB, 1), `${fmt((100 * r.bytes) / total, 1)} %`]);
    console.log(table(apiRows));
    const floorMs = xmlFloorMs(f);
    const rows = [['figure', 'CPU ms (fastest of 5)', 'rounds', 'x floor']];
    for (const p of f.parsers) {
      const best = Math.min(...p.roundsMs);
      rows.push([`${p.name}: ${fmt(p.elements)} counted`, fmt(best, 1), p.roundsMs.map((x) => fmt(x)).join(' '), fmt(best / floorMs, 2)]);
    }
    rows.push([`JSON.parse of the JSON answers (EKS, CloudWatch: ${fmt(f.json.pages)} pages, ${fmt(f.json.bytes / MB, 1)} MB; information)`, fmt(Math.min(...f.json.roundsMs), 1), f.json.roundsMs.map((x) => fmt(x)).join(' '), '']);
    for (const l of lambda.filter((x) => x.nodes === nodes)) {
      const cpu = l.figures.cpuMs;
      const warm = warmCpuMs(l.figures);
      const peak = l.figures.peakMB !== undefined ? `, peak RSS ${fmt(l.figures.peakMB)} MB` : '';
      const label = `deployed ${l.fn} cycle CPU, ${l.figures.memoryMB} MB heap limits${peak}${l.figures.failure ? ' (FAILED)' : ''}`;
      rows.push([`${label}, cold (the first invocation)`, cpu !== undefined ? fmt(cpu) : '-', '1 run', cpu !== undefined ? fmt(cpu / floorMs, 1) : '-']);
      if (warm !== undefined) rows.push([`${label}, warm (fastest of the later invocations)`, fmt(warm), (l.figures.cpuEach ?? []).map((x) => fmt(x)).join(' '), fmt(warm / floorMs, 1)]);
    }
    console.log(table(rows));
  }
  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
  for (const { nodes, floor: f } of floors) {
    const floorMs = xmlFloorMs(f);
    // The warm cycle against the floor (both the steady state: each scheduled cycle after a
    // container's first); the cold one printed beside it.
    for (const l of lambda.filter((x) => x.nodes === nodes && x.figures.memoryMB === 256)) {
      const warm = warmCpuMs(l.figures);
      const ok = wholeCycle(l.fn, accountOptions(nodes).clusters, l.figures);
      console.log(
        warm !== undefined && l.figures.cpuMs !== undefined
          ? `${verdict(ok && warm <= TARGET.xmlFloorRatio * floorMs)}${ok ? '' : ' (clusters failed or incomplete)'}  ${fmt(nodes)} nodes: deployed ${l.fn} cycle CPU <= ${TARGET.xmlFloorRatio}x the streaming XML floor: warm ${fmt(warm / floorMs, 1)}x (${fmt(warm)} ms vs ${fmt(floorMs)} ms; 256 MB heap limits); cold, a container's first: ${fmt(l.figures.cpuMs / floorMs, 1)}x (${fmt(l.figures.cpuMs)} ms)`
          : `FAIL  ${fmt(nodes)} nodes: deployed ${l.fn} cycle CPU <= ${TARGET.xmlFloorRatio}x the streaming XML floor: the cycle failed (${l.figures.failure ?? 'not run'})`,
      );
    }
    for (const l of lambda.filter((x) => x.nodes === nodes && x.figures.memoryMB === 256)) {
      const ok = wholeCycle(l.fn, accountOptions(nodes).clusters, l.figures);
      console.log(
        l.figures.peakMB !== undefined
          ? `${verdict(ok && l.figures.peakMB < TARGET.peakMB)}${ok ? '' : ' (clusters failed or incomplete)'}  ${fmt(nodes)} nodes: ${l.fn} peak memory < ${TARGET.peakMB} MB: ${fmt(l.figures.peakMB)} MB (CPU ${fmt(l.figures.cpuMs ?? 0)} ms = ${fmt((l.figures.cpuMs ?? 0) / floorMs, 1)}x the floor)`
          : `FAIL  ${fmt(nodes)} nodes: ${l.fn} failed under a 256 MB Lambda's heap limits: ${l.figures.failure ?? ''}`,
      );
    }
  }
}

/** The pure core at its tests' sizes (scripts/bench/core.ts). */
function printCoreFigures(): void {
  console.log('\nThe pure core at its tests\' sizes (wall ms in this process, median of 5 after a warm-up):');
  console.log(table([['figure', 'ms'], ...measureCoreFigures().map((f) => [f.label, fmt(f.ms, 1)])]));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
