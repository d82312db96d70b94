/**
 * Progress of a live CLI run on stderr: per cluster, the read in progress and its page and item
 * counts ("payments-prod: DescribeNetworkInterfaces page 3 (2,000 ENIs)"). A run that ends
 * within {@link PROGRESS_QUIET_MS} prints nothing; after that, at most one batch of lines every
 * {@link PROGRESS_INTERVAL_MS}: the latest read of each cluster that moved on since the last one.
 */
import type { ReadProgress } from '../aws/live-source';

/** A run shorter than this shows no progress. */
export const PROGRESS_QUIET_MS = 3_000;
/** At most one batch of progress lines this often. */
export const PROGRESS_INTERVAL_MS = 2_000;

/** "payments-prod: DescribeNetworkInterfaces page 3 (2,000 ENIs)". */
export function formatProgress(p: ReadProgress): string {
  const page = p.page !== undefined ? ` page ${p.page}` : '';
  const items = p.items !== undefined ? ` (${p.items.toLocaleString('en-US')}${p.unit ? ` ${p.unit}` : ''})` : '';
  return `${p.subject}: ${p.operation}${page}${items}`;
}

/**
 * A progress sink that writes throttled lines with `write`, on `clock` (epoch ms; the CLI's own,
 * so that tests drive it).
 */
export function progressReporter(write: (text: string) => void, clock: () => number): (p: ReadProgress) => void {
  const started = clock();
  let last = started;
  let printed = false;
  const pending = new Map<string, string>();
  return (p) => {
    pending.set(p.subject, formatProgress(p));
    const t = clock();
    if (t - started < PROGRESS_QUIET_MS) return;
    if (printed && t - last < PROGRESS_INTERVAL_MS) return;
    write([...pending.values()].map((line) => `${line}\n`).join(''));
    pending.clear();
    last = t;
    printed = true;
  };
}
