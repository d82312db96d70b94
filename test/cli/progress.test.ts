/** The CLI's progress lines: their wording, and the throttle (on a clock the test moves). */
import { formatProgress, progressReporter, PROGRESS_INTERVAL_MS, PROGRESS_QUIET_MS } from '../../lib/cli/progress';

describe('formatProgress', () => {
  it.each([
    [{ subject: 'payments-prod', operation: 'DescribeNetworkInterfaces', page: 3, items: 2000, unit: 'ENIs' }, 'payments-prod: DescribeNetworkInterfaces page 3 (2,000 ENIs)'],
    [{ subject: 'payments-prod', operation: 'DescribeNodegroup', items: 4, unit: 'of 12 nodegroups' }, 'payments-prod: DescribeNodegroup (4 of 12 nodegroups)'],
    [{ subject: 'payments-prod', operation: 'DescribeCluster' }, 'payments-prod: DescribeCluster'],
  ])('%j reads "%s"', (p, line) => {
    expect(formatProgress(p)).toBe(line);
  });
});

describe('progressReporter', () => {
  function run() {
    let t = 0;
    const out: string[] = [];
    const report = progressReporter((text) => out.push(text), () => t);
    return { report, out, at: (ms: number) => (t = ms) };
  }
  const page = (subject: string, n: number) => ({ subject, operation: 'DescribeNetworkInterfaces', page: n, items: n * 1000, unit: 'ENIs' });

  it('prints nothing for a run that ends within the quiet time', () => {
    const r = run();
    for (let i = 1; i < 50; i++) {
      r.at((i * (PROGRESS_QUIET_MS - 1)) / 50);
      r.report(page('a', i));
    }
    expect(r.out).toEqual([]);
  });

  it('then prints the latest read of each cluster, at most once per interval', () => {
    const r = run();
    r.report(page('a', 1));
    r.report(page('b', 1));
    r.at(PROGRESS_QUIET_MS);
    r.report(page('a', 2));
    expect(r.out).toEqual(['a: DescribeNetworkInterfaces page 2 (2,000 ENIs)\nb: DescribeNetworkInterfaces page 1 (1,000 ENIs)\n']);
    r.at(PROGRESS_QUIET_MS + PROGRESS_INTERVAL_MS - 1);
    r.report(page('a', 3));
    r.report(page('b', 2));
    expect(r.out).toHaveLength(1);
    r.at(PROGRESS_QUIET_MS + PROGRESS_INTERVAL_MS);
    r.report(page('b', 3));
    expect(r.out[1]).toBe('a: DescribeNetworkInterfaces page 3 (3,000 ENIs)\nb: DescribeNetworkInterfaces page 3 (3,000 ENIs)\n');
  });
});
