/**
 * The Kubernetes section of `npm run bench` (`--kubernetes` runs only it): a large cluster served
 * by tools/kube-server.ts in its own process (scripts/bench/kube-server-child.ts, via tsx), read
 * through the product's KubeReader in a bundled `node --expose-gc` child
 * (scripts/bench/kube-child.ts); requests and body bytes counted at the server per read.
 * Targets and figures: docs/performance.md "Kubernetes read".
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { KUBE_PAGE_LIMIT } from '../../lib/kube/client';
import { buildChild, ROOT } from './build';
import type { KubeChildInput, KubeFloorFigures, KubeReadFigures } from './kube-child';
import { benchKubeShape, type BenchKubeShape } from './kube-cluster';
import type { KubeServerReady, KubeServerStats } from './kube-server-child';

export const KUBE_SIZES = [1000, 5000];
/**
 * The targets (docs/performance.md "Kubernetes read"): pods are tallied page by page and never
 * held whole, so the read's added peak heap stays bounded by a few pages in flight, not by the
 * cluster; and it makes one request per page, nothing more.
 */
export const KUBE_TARGET = { peakHeapAddedMB: 50 };

export interface KubeRun extends KubeReadFigures {
  requests: number;
  bytes: number;
  byPath: Record<string, number>;
}

export interface KubeSizeFigures {
  nodes: number;
  shape: BenchKubeShape;
  server: KubeServerReady;
  /** The pages a minimal read takes: each list's items over the page limit (at least one), and the aws-node GET. */
  expectedPages: number;
  loaded: { rss: number; heapUsed: number };
  runs: KubeRun[];
  floor: KubeFloorFigures;
}

const MB = 2 ** 20;

/** Resolves with the first message matching `key` (rejects on an `error` message or exit). */
function next<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown): void => {
      const o = m as Record<string, unknown>;
      if (o['error']) {
        cleanup();
        reject(new Error(String(o['error'])));
      } else if (key in o) {
        cleanup();
        resolve(o[key] as T);
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`child exited ${code} while waiting for ${key}`));
    };
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

const pagesOf = (items: number): number => Math.max(1, Math.ceil(items / KUBE_PAGE_LIMIT));

export async function measureKubernetes(workDir: string, sizes = KUBE_SIZES, runs = 3): Promise<KubeSizeFigures[]> {
  const childFile = path.join(workDir, 'kube-child.js');
  await buildChild(childFile, 'scripts/bench/kube-child.ts');
  const out: KubeSizeFigures[] = [];
  for (const nodes of sizes) {
    const shape = benchKubeShape(nodes);
    // The server holds every object (150,000 pods at the largest size): a large heap of its own.
    const server = fork(path.join(ROOT, 'scripts/bench/kube-server-child.ts'), [String(nodes)], {
      execArgv: ['--import', 'tsx', '--max-old-space-size=8192'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    try {
      const ready = await next<KubeServerReady>(server, 'ready');
      const input: KubeChildInput = { endpoint: ready.endpoint, ca: ready.ca };
      const child = fork(childFile, [JSON.stringify(input)], {
        execArgv: ['--expose-gc', ...(process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter((f) => f.length > 0)],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        env: { PATH: process.env.PATH },
      });
      try {
        const loaded = await next<{ rss: number; heapUsed: number }>(child, 'loaded');
        const measured: KubeRun[] = [];
        // A warm-up read (connections, JIT), then the measured ones.
        for (let i = 0; i <= runs; i++) {
          server.send('stats');
          await next<KubeServerStats>(server, 'stats');
          child.send('run');
          const run = await next<KubeReadFigures>(child, 'run');
          server.send('stats');
          const stats = await next<KubeServerStats>(server, 'stats');
          if (i > 0) measured.push({ ...run, requests: stats.requests, bytes: stats.bytes, byPath: stats.byPath });
        }
        child.send('floor');
        const floor = await next<KubeFloorFigures>(child, 'floor');
        child.send('exit');
        const activePods = ready.stored.pods - shape.finishedPods;
        const expectedPages = pagesOf(ready.stored.nodes) + pagesOf(activePods) + pagesOf(shape.failedSandboxEvents) + pagesOf(shape.eniConfigs) + 2 * pagesOf(shape.nodePools) + 1;
        out.push({ nodes, shape, server: ready, expectedPages, loaded, runs: measured, floor });
      } finally {
        if (child.exitCode === null) child.kill();
      }
    } finally {
      server.send('stop');
      await new Promise((resolve) => (server.exitCode !== null ? resolve(undefined) : server.once('exit', resolve)));
    }
  }
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (v: number, d = 0): string => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n');
}

/** The section's table (sizes side by side) and its PASS/FAIL lines. */
export function printKubernetesFigures(figures: KubeSizeFigures[]): void {
  console.log('\nKubernetes read (lib/kube/reader.ts KubeReader over HTTPS, tools/kube-server.ts in its own process; median of 3 after a warm-up)');
  console.log(`Pages of ${KUBE_PAGE_LIMIT} (limit/continue); pods and events filtered server-side by field selector; the reader's concurrency (3 parts at once).\n`);
  const m = (f: KubeSizeFigures, pick: (r: KubeRun) => number): number => median(f.runs.map(pick));
  const row = (label: string, cell: (f: KubeSizeFigures) => string): string[] => [label, ...figures.map(cell)];
  const rows: string[][] = [
    ['figure', ...figures.map((f) => `${fmt(f.nodes)} nodes`)],
    row('pods stored (of which finished, filtered out)', (f) => `${fmt(f.server.stored.pods)} (${fmt(f.shape.finishedPods)})`),
    row('events stored (FailedCreatePodSandBox)', (f) => `${fmt(f.server.stored.events)} (${fmt(f.shape.failedSandboxEvents)})`),
    row('requests (expected pages)', (f) => `${fmt(m(f, (r) => r.requests))} (${fmt(f.expectedPages)})`),
    row('  of which /api/v1/pods', (f) => fmt(m(f, (r) => r.byPath['/api/v1/pods'] ?? 0))),
    row('bytes received MB (response bodies)', (f) => fmt(m(f, (r) => r.bytes) / MB, 1)),
    row('read wall ms', (f) => fmt(m(f, (r) => r.wallMs))),
    row('read CPU ms (user+system, reader process)', (f) => fmt(m(f, (r) => r.cpuMs))),
    row('  runs', (f) => f.runs.map((r) => fmt(r.cpuMs)).join(' ')),
    row('JSON.parse floor ms, fastest of 5 (same answers)', (f) => fmt(Math.min(...f.floor.parseMs))),
    row('CPU / floor', (f) => `${fmt(m(f, (r) => r.cpuMs) / Math.min(...f.floor.parseMs), 2)}x`),
    row('heap after load MB (process baseline)', (f) => fmt(f.loaded.heapUsed / MB, 1)),
    row('heap before the read MB (after GC)', (f) => fmt(m(f, (r) => r.heapBefore) / MB, 1)),
    row('peak heap added during the read MB', (f) => fmt(m(f, (r) => r.peakHeap - r.heapBefore) / MB, 1)),
    row('  runs', (f) => f.runs.map((r) => fmt((r.peakHeap - r.heapBefore) / MB, 1)).join(' ')),
    row('RSS after load MB / before the read MB', (f) => `${fmt(f.loaded.rss / MB)} / ${fmt(m(f, (r) => r.rssBefore) / MB)}`),
    row('peak RSS during the read MB (VmHWM)', (f) => fmt(m(f, (r) => r.peakRss) / MB)),
    row('peak RSS added MB (over before the read / over after load)', (f) => `${fmt(m(f, (r) => r.peakRss - r.rssBefore) / MB)} / ${fmt(m(f, (r) => r.peakRss - f.loaded.rss) / MB)}`),
    row('KubeClusterView retained MB (after GC)', (f) => fmt(m(f, (r) => r.retainedBytes) / MB, 2)),
    row('the pods held whole instead MB (parsed pages kept)', (f) => fmt(f.floor.podsWholeBytes / MB)),
  ];
  console.log(table(rows));
  for (const f of figures) {
    const v = f.runs[f.runs.length - 1]!.view;
    console.log(
      `${fmt(f.nodes)} nodes, view: access ${v.access ? 'ok' : 'FAILED'}, ${fmt(v.nodes)} nodes, pods on ${fmt(v.podNodes)} nodes (${fmt(v.assigned)} assigned, ${fmt(v.awaiting)} awaiting, ${fmt(v.hostNetwork)} host-network), ${v.ipFailureRecords} failure records naming ${fmt(v.ipFailurePods)} pods, aws-node ${v.awsNode ? 'read' : 'absent'}, ${v.eniConfigs} ENIConfigs, ${v.nodePools} NodePools / ${v.nodeClasses} EC2NodeClasses${v.unread.length > 0 ? `, UNREAD: ${v.unread.join(' | ')}` : ''}`,
    );
  }
  const big = figures[figures.length - 1];
  if (!big) return;
  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
  const v = big.runs[big.runs.length - 1]!.view;
  const whole = v.access && v.unread.length === 0 && v.nodes === big.server.stored.nodes;
  const added = median(big.runs.map((r) => r.peakHeap - r.heapBefore)) / MB;
  const requests = Math.max(...big.runs.map((r) => r.requests));
  console.log(`\nTargets (${fmt(big.nodes)} nodes, ${fmt(big.server.stored.pods)} pods):`);
  console.log(`${verdict(whole && added < KUBE_TARGET.peakHeapAddedMB)}  the read adds < ${KUBE_TARGET.peakHeapAddedMB} MB peak heap: ${fmt(added, 1)} MB (the pods held whole would take ${fmt(big.floor.podsWholeBytes / MB)} MB)${whole ? '' : ' (the read was not complete)'}`);
  console.log(`${verdict(big.runs.every((r) => r.requests === big.expectedPages))}  requests = pages: ${fmt(requests)} requests for ${fmt(big.expectedPages)} pages in every run`);
}
