/**
 * The Kubernetes API of the bench's large cluster, in a process of its own (run with tsx by
 * scripts/bench/kube.ts) so that serving it costs the measured reader nothing: tools/kube-server.ts
 * (the tests' server: real list shapes, `limit`/`continue`, field selectors) filled with
 * scripts/bench/kube-cluster.ts. IPC: `stats` answers the requests and body bytes since the last
 * `stats` (and resets them); `stop` ends it.
 */
import { KUBE_TEST_CA, startKubeServer } from '../../tools/kube-server';
import { benchKubeShape, putBenchKubeCluster } from './kube-cluster';

export interface KubeServerReady {
  endpoint: string;
  ca: string;
  stored: { nodes: number; pods: number; events: number };
  /** Pending pods without an address (one failure event each). */
  pendingPods: number;
  generateMs: number;
}

export interface KubeServerStats {
  requests: number;
  bytes: number;
  byPath: Record<string, number>;
}

async function main(): Promise<void> {
  const nodes = Number(process.argv[2]);
  const shape = benchKubeShape(nodes);
  const server = await startKubeServer();
  const stored = { nodes: 0, pods: 0, events: 0 };
  const t0 = performance.now();
  const { pendingPods } = putBenchKubeCluster(shape, (path, object) => {
    server.put(path, object);
    if (path.startsWith('/api/v1/nodes/')) stored.nodes += 1;
    else if (/\/pods\//.test(path)) stored.pods += 1;
    else if (/\/events\//.test(path)) stored.events += 1;
  });
  const ready: KubeServerReady = { endpoint: server.endpoint, ca: KUBE_TEST_CA, stored, pendingPods, generateMs: performance.now() - t0 };
  process.on('message', (m) => {
    if (m === 'stats') {
      const byPath: Record<string, number> = {};
      for (const r of server.requests) byPath[r.path] = (byPath[r.path] ?? 0) + 1;
      const stats: KubeServerStats = { requests: server.requests.length, bytes: server.sent.bytes, byPath };
      server.requests.length = 0;
      server.sent = { responses: 0, bytes: 0 };
      process.send?.({ stats });
    } else if (m === 'stop') {
      void server.stop().then(() => process.exit(0));
    }
  });
  process.send?.({ ready });
}

main().catch((err: unknown) => {
  process.send?.({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
