/**
 * Figures of the pure core at the sizes its tests use, where a test once bounded the wall-clock
 * time (a bound that fails on a busy machine and proves nothing on an idle one): the bench prints
 * them, nothing asserts them. Each is the median of 5 runs after a warm-up, in this process.
 *
 * The synthetic account of 5,000 nodes (test/inventory/snapshot.test.ts) is already a figure of
 * the bench: "generate ms" of the sampler table.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { byteMachineComplexity, rulerPattern } from '../../lib/events/pattern-complexity';
import { forecastExhaustion } from '../../lib/forecast/trend';
import { freePrefixBlocks } from '../../lib/measure/prefix-blocks';
import { readPolicyFile } from '../../lib/policy/yaml';
import { PolicyError } from '../../lib/policy/types';
import { mulberry32 } from '../../tools/synthetic-account';

export interface CoreFigure {
  /** What was timed, and the test that uses the same input. */
  label: string;
  ms: number;
}

function medianMs(fn: () => unknown, runs = 5): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1] ?? NaN;
}

/** Times each figure; the inputs are those of the tests named in the labels. */
export function measureCoreFigures(): CoreFigure[] {
  // A week of 5-minute samples falling 12 an hour, with noise (test/forecast/trend.test.ts).
  const now = new Date('2026-11-26T12:00:00Z');
  const random = mulberry32(5);
  const points = Array.from({ length: 2017 }, (_, i) => ({
    t: new Date(now.getTime() - (2016 - i) * 300_000),
    value: Math.max(0, Math.round(3000 - 12 * (i / 12) + 20 * (random() - 0.5))),
  }));
  // Every third address of the first 60,000 of a /16 (test/measure/prefix-blocks.test.ts).
  const used: string[] = [];
  for (let i = 4; i < 60_004; i += 3) used.push(`10.1.${Math.floor(i / 256)}.${i % 256}`);
  // A 10 MB policy file, refused before the parser (test/policy/load.test.ts).
  const dir = mkdtempSync(path.join(tmpdir(), 'eks-ip-bench-policy-'));
  const policyFile = path.join(dir, 'policy.yml');
  writeFileSync(policyFile, Buffer.alloc(10 * 1024 * 1024, '# padding\n'));
  try {
    return [
      { label: 'forecastExhaustion, 2,017 points (a week of 5-minute samples; forecast/trend.test.ts)', ms: medianMs(() => forecastExhaustion(points, now)) },
      { label: 'freePrefixBlocks, a /16 with 20,000 addresses (measure/prefix-blocks.test.ts)', ms: medianMs(() => freePrefixBlocks('10.1.0.0/16', used, [])) },
      {
        label: 'readPolicyFile refusing a 10 MB file (policy/load.test.ts)',
        ms: medianMs(() => {
          try {
            readPolicyFile(policyFile);
          } catch (err) {
            if (!(err instanceof PolicyError)) throw err;
          }
        }),
      },
      {
        label: "byteMachineComplexity stopping at its cap of 100 (events/pattern-complexity.test.ts, event-ruler's testEvaluateBeyondMaxComplexity)",
        ms: medianMs(() => byteMachineComplexity([rulerPattern.wildcard('F*e*a*t*u*r*e*'.repeat(10000))], 100)),
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
