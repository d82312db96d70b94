/**
 * The memory a Lambda needs, measured as Lambda runs it: the deployed bundle (unzipped from
 * .serverless/<fn>.zip) required and invoked in a fresh `node` with the V8 heap limits the
 * Lambda Node.js runtime sets for the function's memory size, the stack's environment
 * (NODE_OPTIONS=--enable-source-maps included), and AWS over real HTTP: the emulated account
 * served in each service's wire format (tools/wire.ts: EC2 XML, EKS/CloudWatch JSON,
 * SNS XML) and the ledger in dynalite, both in this (the parent) process. The function's
 * process therefore holds only what it holds in Lambda: the runtime, the bundle, its SDK
 * clients, the responses being parsed and what the cycle keeps. Its peak RSS (VmHWM, the whole
 * process from start) is the figure Lambda reports as "Max Memory Used" (which also counts the
 * Lambda runtime client loaded in the same process: a few MB not measured here).
 */
import { fork } from 'node:child_process';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { accountApi, type AccountApi } from '../../tools/mock-aws';
import { createLedgerTable } from '../../tools/dynalite';
import type { SyntheticAccount } from '../../tools/synthetic-account';
import { startWireServer, type WireResponse } from '../../tools/wire';
import { ROOT } from './build';
import { addHistory } from './history';
import { benchEnv } from './runtime';

/**
 * The heap limits of the Lambda Node.js runtime for `memoryMB`: its bootstrap
 * (/var/runtime/bootstrap of the nodejs14.x-18.x base images, as published in public copies;
 * assumed unchanged for nodejs22.x, not verified) runs node with --expose-gc and
 * new_space = memory/10, --max-semi-space-size = new_space/2, --max-old-space-size = memory - new_space.
 */
export function lambdaHeapFlags(memoryMB: number): string[] {
  const newSpace = Math.floor(memoryMB / 10);
  return ['--expose-gc', `--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMB - newSpace}`];
}

export interface LambdaMemoryFigures {
  memoryMB: number;
  flags: string[];
  /** Whole-process peak RSS (VmHWM), MB; undefined when the process died. */
  peakMB?: number;
  /** RSS after requiring the bundle, before the invocation, MB. */
  loadedMB?: number;
  /** The first invocation's CPU and wall time (a cold container's). */
  cpuMs?: number;
  wallMs?: number;
  /** With `invocations` > 1: each invocation's CPU and wall time, the first included. */
  cpuEach?: number[];
  wallEach?: number[];
  /** The handler's summary (clusters sampled, metrics, findings…). */
  summary?: Record<string, unknown>;
  /** When the process failed: its exit and the end of its stderr (e.g. "JavaScript heap out of memory"). */
  failure?: string;
  requests: number;
  responseMB: number;
  /** Of the responses, EC2's (XML). */
  ec2ResponseMB: number;
  readCalls: number;
  /** With `recordTo`: every response body of the run, as sent, in that file (see ResponseRecording). */
  recording?: ResponseRecording;
}

/** The response bodies of one run, back to back in `file`; `entries` in the order sent. */
export interface ResponseRecording {
  file: string;
  entries: { kind: string; op: string; status: number; offset: number; length: number }[];
}

/** The wrapper the child runs: require the bundle, invoke it once, report. Plain JS (no bundling). */
const WRAPPER = String.raw`
const { readFileSync } = require('node:fs');
const [bundle, event] = [process.argv[2], JSON.parse(process.argv[3])];
const mod = require(bundle);
const loaded = process.memoryUsage().rss;
const context = {
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: '$LATEST', memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME,
  awsRequestId: '00000000-0000-4000-8000-00000000bench', logGroupName: '/aws/lambda/bench', logStreamName: 'bench',
  callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => Number(process.env.BENCH_REMAINING_MS) - (performance.now() - t0),
};
// BENCH_INVOCATIONS times in a row, as a warm Lambda container runs one invocation after another;
// after each but the last, the parent is told and answers before the next starts (so that it can
// tell one invocation's requests from the next's).
const invocations = Math.max(1, Number(process.env.BENCH_INVOCATIONS || 1));
let t0 = performance.now();
const cpuEach = [];
const wallEach = [];
const next = () => new Promise((resolve) => process.once('message', resolve));
(async () => {
  let summary;
  for (let n = 1; n <= invocations; n++) {
    const cpu0 = process.cpuUsage();
    t0 = performance.now();
    summary = await mod.handler(event, context);
    wallEach.push(performance.now() - t0);
    const cpu = process.cpuUsage(cpu0);
    cpuEach.push((cpu.user + cpu.system) / 1000);
    if (n < invocations) {
      process.send({ invocation: n });
      await next();
    }
  }
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  process.send({
    summary,
    peak: hwm ? Number(hwm[1]) * 1024 : process.resourceUsage().maxRSS * 1024,
    loaded,
    cpuMs: cpuEach[0],
    wallMs: wallEach[0],
    cpuEach,
    wallEach,
  }, () => process.exit(0));
})().catch((err) => {
  process.send({ error: String(err && err.stack || err) }, () => process.exit(1));
});
`;

export interface LambdaMemoryOptions {
  account: SyntheticAccount;
  /** The unzipped function (its handlers/<fn>.js). */
  bundle: string;
  functionName: 'sample' | 'respond';
  event: unknown;
  dynamoEndpoint: string;
  memoryMB: number;
  historyHours: number;
  workDir: string;
  /** Further environment for the function (e.g. CLUSTER_CONCURRENCY). */
  env?: Record<string, string>;
  /** Writes every response body the wire server sends into this file (for the XML floor, scripts/bench/xml-floor.ts). */
  recordTo?: string;
  /** Further node flags for the function's process (e.g. --cpu-prof), after the heap limits. */
  extraFlags?: string[];
  /** The account's API to serve (default: a new one on `account`), for a caller that reads what was written. */
  api?: AccountApi;
  /**
   * Invocations in a row in the one process, as a warm container runs them (default 1). The
   * recording (`recordTo`) keeps the first invocation's responses only.
   */
  invocations?: number;
}

/**
 * The ENI quota an account of this size has had raised to (Service Quotas vpc/L-DF5E4CA3,
 * default 5,000 ENIs per Region): twice its ENIs, in thousands. Without a quota in the account
 * the emulator answers NoSuchResourceException to both reads and the cycle records a problem.
 */
export function withEniQuota(account: SyntheticAccount): SyntheticAccount {
  if (!account.quotas) {
    account.quotas = { 'vpc/L-DF5E4CA3': { applied: Math.max(5000, Math.ceil((2 * account.networkInterfaces.length) / 1000) * 1000), awsDefault: 5000 } };
  }
  return account;
}

/** One invocation of a bundle in a fresh node, against AWS at `endpoint`; see {@link measureLambdaMemory}. */
export interface BundleRunOptions {
  bundle: string;
  functionName: 'sample' | 'respond';
  event: unknown;
  /** Every AWS service but DynamoDB (AWS_ENDPOINT_URL). */
  endpoint: string;
  dynamoEndpoint: string;
  region: string;
  memoryMB: number;
  workDir: string;
  env?: Record<string, string>;
  extraFlags?: string[];
  /** What context.getRemainingTimeInMillis() answers at the start (default 300,000 ms); it counts down with the wall clock. */
  remainingMs?: number;
  /** Invocations in a row (default 1); `onInvocation` is told after each but the last, before the next starts. */
  invocations?: number;
  onInvocation?: (n: number) => void;
}

export type BundleRunFigures = Pick<LambdaMemoryFigures, 'memoryMB' | 'flags' | 'peakMB' | 'loadedMB' | 'cpuMs' | 'wallMs' | 'cpuEach' | 'wallEach' | 'summary' | 'failure'>;

/** Creates a ledger table, runs the bundle once under Lambda's heap limits for `memoryMB`, and reports. */
export async function runBundle(o: BundleRunOptions): Promise<BundleRunFigures> {
  const table = `eks-ip-responder-bench-lambda-${process.pid}-${o.functionName}-${o.memoryMB}-${Date.now()}`;
  const dynamo = new DynamoDBClient({
    endpoint: o.dynamoEndpoint,
    region: o.region,
    credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
    maxAttempts: 1,
  });
  await createLedgerTable(dynamo, table);
  dynamo.destroy();
  const wrapper = path.join(o.workDir, 'lambda-wrapper.js');
  writeFileSync(wrapper, WRAPPER);
  const policy = readFileSync(path.join(ROOT, 'policy.yml'), 'utf8');
  const flags = lambdaHeapFlags(o.memoryMB);
  const result = await new Promise<{ msg?: Record<string, unknown>; code: number | null; stderr: string }>((resolve) => {
    const child = fork(wrapper, [o.bundle, JSON.stringify(o.event)], {
      execArgv: [...flags, ...(o.extraFlags ?? [])],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: {
        PATH: process.env.PATH,
        AWS_REGION: o.region,
        AWS_ACCESS_KEY_ID: 'AKIDBENCH',
        AWS_SECRET_ACCESS_KEY: 'bench',
        AWS_SESSION_TOKEN: 'bench',
        AWS_LAMBDA_FUNCTION_NAME: `eks-ip-responder-bench-${o.functionName}`,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(o.memoryMB),
        // Every AWS service at the wire emulator, DynamoDB at dynalite.
        AWS_ENDPOINT_URL: o.endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: o.dynamoEndpoint,
        ...benchEnv(table, policy),
        POWERTOOLS_SERVICE_NAME: 'eks-ip-responder',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        BENCH_REMAINING_MS: String(o.remainingMs ?? 300000),
        BENCH_INVOCATIONS: String(o.invocations ?? 1),
        ...o.env,
      },
    });
    let stderr = '';
    let msg: Record<string, unknown> | undefined;
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('message', (m) => {
      const r = m as Record<string, unknown>;
      if (typeof r['invocation'] === 'number') {
        o.onInvocation?.(r['invocation']);
        child.send('next');
      } else msg = r;
    });
    child.on('exit', (code) => resolve({ msg, code, stderr }));
  });
  const base = { memoryMB: o.memoryMB, flags };
  const m = result.msg;
  if (!m || typeof m['error'] === 'string' || result.code !== 0) {
    const why = typeof m?.['error'] === 'string' ? m['error'] : result.stderr.split('\n').filter((l) => l.trim()).slice(-3).join(' | ');
    return { ...base, failure: `exit ${result.code}: ${why.slice(0, 600)}` };
  }
  const MB = 2 ** 20;
  return {
    ...base,
    peakMB: Number(m['peak']) / MB,
    loadedMB: Number(m['loaded']) / MB,
    cpuMs: Number(m['cpuMs']),
    wallMs: Number(m['wallMs']),
    ...(Array.isArray(m['cpuEach']) ? { cpuEach: m['cpuEach'] as number[], wallEach: m['wallEach'] as number[] } : {}),
    summary: m['summary'] as Record<string, unknown>,
  };
}

/** Runs the bundle once against the account over the wire, under Lambda's heap limits for `memoryMB`. */
export async function measureLambdaMemory(o: LambdaMemoryOptions): Promise<LambdaMemoryFigures> {
  const api = o.api ?? accountApi(withEniQuota(o.account));
  // The deployed code reads the clock: the history ends now.
  addHistory(o.account, api.history, o.historyHours, new Date());
  // The bodies go to a file as they are sent, so that the parent does not hold ~100 MB of them.
  const fd = o.recordTo ? openSync(o.recordTo, 'w') : undefined;
  const recording: ResponseRecording | undefined = o.recordTo ? { file: o.recordTo, entries: [] } : undefined;
  let offset = 0;
  let recordingOn = true;
  const onResponse = (r: WireResponse): void => {
    if (fd === undefined || !recording || !recordingOn) return;
    writeSync(fd, r.body);
    recording.entries.push({ kind: r.kind ?? '', op: r.op, status: r.status, offset, length: r.body.length });
    offset += r.body.length;
  };
  const server = await startWireServer(api, { onResponse });
  try {
    const run = await runBundle({
      bundle: o.bundle,
      functionName: o.functionName,
      event: o.event,
      endpoint: server.endpoint,
      dynamoEndpoint: o.dynamoEndpoint,
      region: o.account.region,
      memoryMB: o.memoryMB,
      workDir: o.workDir,
      ...(o.env ? { env: o.env } : {}),
      ...(o.extraFlags ? { extraFlags: o.extraFlags } : {}),
      ...(o.invocations ? { invocations: o.invocations } : {}),
      onInvocation: () => (recordingOn = false),
    });
    return {
      ...run,
      requests: server.stats.requests,
      responseMB: server.stats.responseBytes / 2 ** 20,
      ec2ResponseMB: (server.stats.responseBytesBy.ec2 ?? 0) / 2 ** 20,
      readCalls: api.totalReadCalls(),
      ...(recording ? { recording } : {}),
    };
  } finally {
    await server.stop();
    if (fd !== undefined) closeSync(fd);
  }
}
