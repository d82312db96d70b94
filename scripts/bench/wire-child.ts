/**
 * The emulated account of one `--ultra` row in a process of its own (bundled by scripts/bench/ultra.ts,
 * run with a large --max-old-space-size): generates the synthetic account, serves it over HTTP in the
 * services' wire formats (tools/wire.ts: each page serialised when asked for, never the whole XML),
 * and logs every request (operation, arrival, serve time, bytes) so that its cost is not the
 * function's and the Describe rate can be read from the log. Talks to the parent by IPC:
 * `ready` (endpoint, shape, expected pages), then on `finish` the counts and the log's figures.
 */
import { accountApi } from '../../tools/mock-aws';
import { generateAccount, type GenerateAccountOptions } from '../../tools/synthetic-account';
import { startWireServer, type WireResponse } from '../../tools/wire';
import { addHistory } from './history';
import { withEniQuota } from './lambda-memory';
import { expectedPages, type UltraServed } from './ultra-shape';

interface Input {
  options: GenerateAccountOptions;
  historyHours: number;
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as Input;
  const t0 = performance.now();
  const account = withEniQuota(generateAccount(input.options));
  const generateMs = performance.now() - t0;
  const api = accountApi(account);
  // The deployed code reads the clock: the history ends now.
  addHistory(account, api.history, input.historyHours, new Date());
  const expected = expectedPages(account);
  global.gc?.();
  const accountHeapMB = process.memoryUsage().heapUsed / 2 ** 20;
  const byOp: UltraServed['byOp'] = {};
  /** Arrival (ms from the first request) of each EC2 Describe* call. */
  const describeAt: number[] = [];
  let first: number | undefined;
  const onResponse = (r: WireResponse): void => {
    const key = `${r.kind ?? '?'} ${r.op || '?'}${r.status >= 300 ? ` (${r.status})` : ''}`;
    const row = (byOp[key] ??= { calls: 0, bytes: 0, serveMs: 0 });
    row.calls++;
    row.bytes += r.body.length;
    row.serveMs += r.serveMs ?? 0;
    const at = r.receivedAt ?? performance.now();
    first ??= at;
    if (r.kind === 'ec2' && r.op.startsWith('Describe')) describeAt.push(at - first);
  };
  const server = await startWireServer(api, { onResponse });
  process.on('message', (m: { type?: string }) => {
    if (m.type !== 'finish') return;
    const served: UltraServed = {
      calls: { ...api.calls },
      readCalls: api.totalReadCalls(),
      requests: server.stats.requests,
      responseBytes: server.stats.responseBytes,
      ec2Bytes: server.stats.responseBytesBy.ec2 ?? 0,
      byOp,
      describeAt,
      maxRssMB: process.resourceUsage().maxRSS / 1024,
      metrics: new Set(api.putMetricData.flatMap((p) => (p.MetricData ?? []).map((d) => `${p.Namespace ?? ''}/${d.MetricName ?? ''}/${JSON.stringify(d.Dimensions ?? [])}`))).size,
      putMetricDataCalls: api.putMetricData.length,
    };
    void server.stop().then(() => process.send?.({ type: 'done', served }, () => process.exit(0)));
  });
  process.send?.({ type: 'ready', endpoint: server.endpoint, region: account.region, generateMs, accountHeapMB, expected });
}

main().catch((err: unknown) => {
  process.send?.({ type: 'error', error: String(err instanceof Error ? err.stack : err) }, () => process.exit(1));
});
