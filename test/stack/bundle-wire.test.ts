/**
 * The packaged functions, run as Lambda runs them (scripts/bench/lambda-memory.ts) over the wire
 * emulator (tools/wire.ts), read and write what the unbundled code reads and writes: every SDK
 * shape they use survives the bundling (stack/esbuild-plugins.js makes the SDK's schemas
 * tree-shakeable; a shape dropped wrongly would fail a call or lose a field here).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { PutMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import type { PublishCommandInput } from '@aws-sdk/client-sns';
import { measureLambdaMemory, withEniQuota } from '../../scripts/bench/lambda-memory';
import { startDynalite, type RunningDynalite } from '../../tools/dynalite';
import { accountApi, type AccountApi } from '../../tools/mock-aws';
import { makeWireAccount } from '../support/wire-account';
import { readZip } from '../support/zip';
import { REPOSITORY_ROOT } from './template';


let work: string;
let db: RunningDynalite;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'bundle-wire-'));
  db = await startDynalite();
});
afterAll(async () => {
  await db.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The function's bundle and source map from its package, unzipped into `work`. */
function unzip(fn: string, into: string): string {
  const files = readZip(readFileSync(join(REPOSITORY_ROOT, '.serverless', `${fn}.zip`)));
  for (const [name, body] of files) {
    mkdirSync(dirname(join(into, name)), { recursive: true });
    writeFileSync(join(into, name), body);
  }
  return join(into, 'handlers', `${fn}.js`);
}

async function run(bundle: string, fn: 'sample' | 'respond', env: Record<string, string> = {}): Promise<{ api: AccountApi; summary: Record<string, unknown> }> {
  const account = withEniQuota(makeWireAccount());
  const api = accountApi(account);
  const figures = await measureLambdaMemory({ account, api, bundle, functionName: fn, event: {}, dynamoEndpoint: db.endpoint, memoryMB: 512, historyHours: 4, workDir: work, env });
  expect(figures.failure).toBeUndefined();
  return { api, summary: figures.summary ?? {} };
}

const metricData = (r: PutMetricDataCommandInput[]) =>
  r.flatMap((x) => x.MetricData ?? []).map((d) => ({ ...d, Timestamp: undefined })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
const messages = (p: PublishCommandInput[]) => p.map((x) => JSON.stringify({ ...x, Message: undefined })).sort();

describe('the packaged sample function over the wire', () => {
  it('reads every cluster whole and writes what the unbundled build of the same code writes', async () => {
    const packaged = await run(unzip('sample', join(work, 'sample')), 'sample');
    // The same handler built without the schema rewrite: esbuild as osls runs it, minus the plugin.
    const { build } = await import('esbuild');
    const { functionBuildOptions } = await import('../../scripts/bench/build');
    const options = await functionBuildOptions();
    const plain = join(work, 'plain', 'sample.js');
    await build({ ...options, plugins: [], entryPoints: [join(REPOSITORY_ROOT, 'handlers', 'sample.ts')], outfile: plain, bundle: true, logLevel: 'error' });
    const reference = await run(plain, 'sample');

    expect(packaged.summary).toMatchObject({ clustersSampled: 2, clustersFailed: [], clustersIncomplete: [], problems: [] });
    expect(packaged.summary).toEqual(reference.summary);
    expect(packaged.api.calls).toEqual(reference.api.calls);
    expect(metricData(packaged.api.putMetricData)).toEqual(metricData(reference.api.putMetricData));
    expect(metricData(packaged.api.putMetricData).length).toBeGreaterThan(50);
    expect(messages(packaged.api.published)).toEqual(messages(reference.api.published));
    expect(packaged.api.published.length).toBeGreaterThan(0);
  });
});
