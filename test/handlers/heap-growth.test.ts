/**
 * Both handlers decide the container's V8 heap growth at the start of each invocation
 * (lib/runtime.ts startInvocation, lib/heap-growth.ts): V8's own in the first, the configured
 * growth from the second while the container's peak memory leaves room, whatever the event.
 */
import scheduledEvent from '../../events/scheduled.json';
import { makeHandler as makeRespond } from '../../handlers/respond';
import { makeHandler } from '../../handlers/sample';
import { HeapGrowthControl, type HeapGrowthProcess } from '../../lib/heap-growth';
import { generateAccount } from '../../tools/synthetic-account';
import { useTestHarness } from '../support/harness';
import { testRuntime } from '../support/runtime';

const harness = useTestHarness();
const MB = 2 ** 20;

function fakeProcess(peakMB: number[]): HeapGrowthProcess & { flags: string[]; reads: number } {
  const p = {
    flags: [] as string[],
    reads: 0,
    heapLimitBytes: () => 280 * MB,
    peakRssBytes: () => (peakMB[Math.min(p.reads++, peakMB.length - 1)] ?? 0) * MB,
    setFlags: (f: string) => void p.flags.push(f),
  };
  return p;
}

describe('the heap growth in the handlers', () => {
  it('the sampler: V8 own in the first invocation, 100 % from the second, back to V8 own once the peak is past 75 % of the memory', async () => {
    const t = await testRuntime(generateAccount({ clusters: 1, nodes: 6, subnetsPerCluster: 2, seed: 7 }), harness.db);
    harness.track(t.aws);
    const proc = fakeProcess([60, 150, 230]);
    const info = jest.spyOn(t.rt.logger, 'info');
    const handler = makeHandler({ ...t.rt, heapGrowth: new HeapGrowthControl(100, 256, proc) });
    await handler(scheduledEvent as never);
    expect(proc.flags).toEqual([]);
    await handler(scheduledEvent as never);
    expect(proc.flags).toEqual(['--heap-growing-percent=100']);
    expect(info).toHaveBeenCalledWith('V8 heap growth set to 100 %', { heapGrowth: { percent: 100, why: "the container's peak memory (150 MB) is within 75 % of 256 MB" } });
    await handler(scheduledEvent as never);
    expect(proc.flags).toEqual(['--heap-growing-percent=100', '--heap-growing-percent=0']);
    expect(proc.reads).toBe(3);
  });

  it('the responder: each invocation decides, a malformed event included', async () => {
    const t = await testRuntime(generateAccount({ clusters: 1, nodes: 6, subnetsPerCluster: 2, seed: 7 }), harness.db);
    harness.track(t.aws);
    const proc = fakeProcess([60, 150]);
    const respond = makeRespond({ ...t.rt, heapGrowth: new HeapGrowthControl(100, 256, proc) });
    await respond({ unexpected: true });
    await respond({ unexpected: true });
    expect(proc.reads).toBe(2);
    expect(proc.flags).toEqual(['--heap-growing-percent=100']);
  });
});
