/**
 * One size of the Kubernetes bench, in a `node --expose-gc` process of its own (bundled by
 * scripts/bench/kube.ts): reads the cluster of the server child through the product's
 * KubeReader (lib/kube/reader.ts) over HTTPS, a warm-up then `runs` measured reads, each: CPU and
 * wall of the read, peak heap (sampled every 2 ms) and peak RSS (VmHWM) against the baseline
 * after a full GC, and the heap the resulting KubeClusterView retains. Then the JSON.parse floor
 * of the same answers, and what holding the pods whole would take. The parent counts requests
 * and bytes at the server between runs (IPC `run` → figures).
 */
import { request } from 'node:https';
import { getHeapStatistics } from 'node:v8';
import type { Cluster } from '@aws-sdk/client-eks';
import type { KubeClusterView } from '../../lib/inventory/kube-types';
import { KUBE_PAGE_LIMIT } from '../../lib/kube/client';
import { KUBE_FIELD_SELECTORS, KUBE_PATHS, KubeReader } from '../../lib/kube/reader';
import { gc, peakRss, resetPeakRss } from './process-memory';

export interface KubeChildInput {
  endpoint: string;
  ca: string;
}

export interface KubeReadFigures {
  cpuMs: number;
  wallMs: number;
  heapBefore: number;
  peakHeap: number;
  rssBefore: number;
  peakRss: number;
  peakRssIsReadOnly: boolean;
  retainedBytes: number;
  view: { access: boolean; nodes: number; podNodes: number; assigned: number; awaiting: number; hostNetwork: number; ipFailureRecords: number; ipFailurePods: number; awsNode: boolean; eniConfigs: number; nodePools: number; nodeClasses: number; unread: string[] };
}

export interface KubeFloorFigures {
  pages: number;
  bytes: number;
  parseMs: number[];
  /** Heap of every pod page parsed and kept (the PodList held whole), after a full GC. */
  podsWholeBytes: number;
}

const TOKEN = 'k8s-aws-v1.bench';

function cluster(input: KubeChildInput): Cluster {
  return {
    name: 'bench',
    arn: 'arn:aws:eks:eu-west-1:111122223333:cluster/bench',
    status: 'ACTIVE',
    endpoint: input.endpoint,
    certificateAuthority: { data: Buffer.from(input.ca, 'utf8').toString('base64') },
    accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
  };
}

function summarise(v: KubeClusterView): KubeReadFigures['view'] {
  const pods = Object.values(v.pods ?? {});
  return {
    access: v.access.ok,
    nodes: v.nodes?.length ?? 0,
    podNodes: pods.length,
    assigned: pods.reduce((s, p) => s + p.assignedIpv4, 0),
    awaiting: pods.reduce((s, p) => s + p.awaitingIp, 0),
    hostNetwork: pods.reduce((s, p) => s + p.hostNetwork, 0),
    ipFailureRecords: v.ipFailures?.length ?? 0,
    ipFailurePods: (v.ipFailures ?? []).reduce((s, f) => s + f.pods.length, 0),
    awsNode: Boolean(v.awsNode),
    eniConfigs: v.eniConfigs?.length ?? 0,
    nodePools: v.karpenter?.nodePools.length ?? 0,
    nodeClasses: v.karpenter?.nodeClasses.length ?? 0,
    unread: v.unread.map((u) => `${u.part}: ${u.message}`),
  };
}

let view: KubeClusterView | undefined;

async function readOnce(reader: KubeReader, c: Cluster): Promise<KubeReadFigures> {
  view = undefined;
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = process.memoryUsage().rss;
  const reset = resetPeakRss();
  let peakHeap = heapBefore;
  const sampler = setInterval(() => {
    const h = getHeapStatistics().used_heap_size;
    if (h > peakHeap) peakHeap = h;
  }, 2);
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  view = await reader.read(c);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - wall0;
  clearInterval(sampler);
  peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);
  const peak = reset ? peakRss() : process.resourceUsage().maxRSS * 1024;
  gc();
  const retainedBytes = process.memoryUsage().heapUsed - heapBefore;
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs, heapBefore, peakHeap, rssBefore, peakRss: peak, peakRssIsReadOnly: reset, retainedBytes, view: summarise(view) };
}

/** One raw GET (the floor's pages, outside the measured reads). */
function get(input: KubeChildInput, path: string): Promise<string> {
  const url = new URL(input.endpoint);
  return new Promise((resolve, reject) => {
    const r = request({ hostname: url.hostname, port: url.port, path, method: 'GET', ca: input.ca, headers: { Authorization: `Bearer ${TOKEN}`, Accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end();
  });
}

/** The answers the reader gets, as text: each list page by page (same limit and selectors), and aws-node. */
async function answers(input: KubeChildInput): Promise<{ part: string; text: string }[]> {
  const out: { part: string; text: string }[] = [];
  for (const [part, path] of Object.entries(KUBE_PATHS)) {
    if (part === 'aws-node') {
      out.push({ part, text: await get(input, path) });
      continue;
    }
    let token: string | undefined;
    do {
      const q = new URLSearchParams({ ...(KUBE_FIELD_SELECTORS[part as keyof typeof KUBE_FIELD_SELECTORS] ? { fieldSelector: KUBE_FIELD_SELECTORS[part as keyof typeof KUBE_FIELD_SELECTORS]! } : {}), limit: String(KUBE_PAGE_LIMIT), ...(token ? { continue: token } : {}) });
      const text = await get(input, `${path}?${q.toString()}`);
      out.push({ part, text });
      token = (JSON.parse(text) as { metadata?: { continue?: string } }).metadata?.continue || undefined;
    } while (token);
  }
  return out;
}

async function floor(input: KubeChildInput): Promise<KubeFloorFigures> {
  const pages = await answers(input);
  const parseMs: number[] = [];
  for (let round = 0; round < 5; round++) {
    const t0 = process.cpuUsage();
    for (const p of pages) JSON.parse(p.text);
    const t = process.cpuUsage(t0);
    parseMs.push((t.user + t.system) / 1000);
  }
  gc();
  const before = process.memoryUsage().heapUsed;
  const whole: unknown[] = [];
  for (const p of pages) if (p.part === 'pods') whole.push(...((JSON.parse(p.text) as { items: unknown[] }).items));
  gc();
  const podsWholeBytes = process.memoryUsage().heapUsed - before;
  const bytes = pages.reduce((s, p) => s + Buffer.byteLength(p.text), 0);
  whole.length = 0;
  return { pages: pages.length, bytes, parseMs, podsWholeBytes };
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as KubeChildInput;
  const reader = new KubeReader({ token: () => Promise.resolve(TOKEN), timeoutMs: 120_000 });
  const c = cluster(input);
  process.on('message', (m) => {
    void (async () => {
      try {
        if (m === 'run') process.send?.({ run: await readOnce(reader, c) });
        else if (m === 'floor') {
          view = undefined;
          process.send?.({ floor: await floor(input) });
        } else if (m === 'exit') process.exit(0);
      } catch (err) {
        process.send?.({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      }
    })();
  });
  process.send?.({ loaded: { rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed } });
}

main().catch((err: unknown) => {
  process.send?.({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
