/**
 * Two invocations notifying the same finding at once (two samplers overlapping, or the sampler
 * and the responder): both read the finding's state, both plan the same transition, and the
 * ledger's conditional write (lib/aws/ledger.ts, on dynalite) lets one save it. The winner
 * publishes; the loser reports a conflict and publishes nothing. Nothing is sent twice.
 */
import type { Finding, Severity } from '../../lib/diagnose/types';
import type { ClusterUsage, Usage } from '../../lib/measure/types';
import { createLedger, createLedgerDocumentClient, type Ledger } from '../../lib/aws/ledger';
import type { FindingLedger } from '../../lib/output/notify/ledger';
import type { Notification } from '../../lib/output/notify/message';
import { notifyFindings, type NotifyDeps, type NotifyResult } from '../../lib/output/notify/notify';
import { createLedgerTable, dynaliteClient } from '../../tools/dynalite';
import { useTestHarness } from '../support/harness';

const CLUSTER = 'payments-prod';
const NOW = new Date('2026-11-26T12:00:00Z');
const LATER = new Date('2026-11-26T12:05:00Z');
const harness = useTestHarness();
let tables = 0;

async function ledger(): Promise<Ledger> {
  const raw = dynaliteClient(harness.db.endpoint);
  const table = `notify-race-${++tables}`;
  await createLedgerTable(raw, table);
  return createLedger(createLedgerDocumentClient(raw), table);
}

function finding(severity: Severity): Finding {
  const free = severity === 'critical' ? 9 : 40;
  return {
    id: `${CLUSTER}/subnet-exhaustion/subnet-0a1b2c3d`,
    cluster: CLUSTER,
    kind: 'subnet-exhaustion',
    severity,
    subject: { type: 'subnet', id: 'subnet-0a1b2c3d', availabilityZone: 'eu-west-1a' },
    title: `subnet-0a1b2c3d has ${free} free IPs`,
    evidence: { AvailableIpAddressCount: free },
    evidenceText: [],
    fixes: [],
  };
}

/** The usage notifying reads: the cluster, its data complete. */
const usage: Usage = {
  region: 'eu-west-1',
  collectedAt: NOW.toISOString(),
  clusters: [{ name: CLUSTER, complete: true } as ClusterUsage],
  failedClusters: [],
  unknownInstanceTypes: [],
};

/** Resolves `wait()` for everyone once `n` callers wait: both notifiers read before either writes. */
function barrier(n: number): { wait(): Promise<void> } {
  let waiting = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return {
    wait() {
      if (++waiting === n) open();
      return opened;
    },
  };
}

/** The ledger as one invocation sees it: its read held at the barrier until the other has read too. */
function readingAtOnce(l: FindingLedger, b: { wait(): Promise<void> }): FindingLedger {
  return {
    getFindingStates: async (cluster) => {
      const states = await l.getFindingStates(cluster);
      await b.wait();
      return states;
    },
    saveFindingState: (state, expected) => l.saveFindingState(state, expected),
  };
}

/** A notifier: its ledger view and what it publishes. */
function notifier(l: FindingLedger, name: string, publish?: NotifyDeps['publish']): { deps: NotifyDeps; sent: Notification[] } {
  const sent: Notification[] = [];
  return {
    sent,
    deps: {
      ledger: l,
      publish:
        publish ??
        (async (n) => {
          sent.push(n);
          return `${name}-${sent.length}`;
        }),
      context: { region: 'eu-west-1', stage: 'test' },
    },
  };
}

/** Of two results, the one that notified and the one that did not (the race decides which is which). */
function winnerAndLoser(a: NotifyResult, b: NotifyResult): [NotifyResult, NotifyResult] {
  return a.notified.length > 0 ? [a, b] : [b, a];
}

describe('two notifiers racing on the same finding state', () => {
  it('tells a new finding once: the second to save it gets a conflict and publishes nothing', async () => {
    const shared = await ledger();
    const b = barrier(2);
    const one = notifier(readingAtOnce(shared, b), 'one');
    const two = notifier(readingAtOnce(shared, b), 'two');
    const [r1, r2] = await Promise.all([notifyFindings(one.deps, usage, [finding('warning')], NOW), notifyFindings(two.deps, usage, [finding('warning')], NOW)]);

    const [winner, loser] = winnerAndLoser(r1, r2);
    expect(winner).toEqual({ notified: [{ findingId: finding('warning').id, transition: 'appeared', messageId: expect.any(String) as unknown }], conflicts: [], failures: [] });
    expect(loser).toEqual({ notified: [], conflicts: [finding('warning').id], failures: [] });
    expect(one.sent.length + two.sent.length).toBe(1);
    const [state] = await shared.getFindingStates(CLUSTER);
    expect(state).toMatchObject({ findingId: finding('warning').id, version: 1, severity: 'warning', lastNotifiedAt: NOW.toISOString(), lastNotifiedSeverity: 'warning' });
  });

  it('tells a worsening once: both expect the saved version, only one write finds it', async () => {
    const shared = await ledger();
    // The finding was told as a warning at NOW (version 1).
    const first = notifier(shared, 'first');
    expect((await notifyFindings(first.deps, usage, [finding('warning')], NOW)).notified).toHaveLength(1);

    const b = barrier(2);
    const one = notifier(readingAtOnce(shared, b), 'one');
    const two = notifier(readingAtOnce(shared, b), 'two');
    const [r1, r2] = await Promise.all([
      notifyFindings(one.deps, usage, [finding('critical')], LATER),
      notifyFindings(two.deps, usage, [finding('critical')], LATER),
    ]);

    const [winner, loser] = winnerAndLoser(r1, r2);
    expect(winner.notified).toEqual([{ findingId: finding('critical').id, transition: 'worsened', messageId: expect.any(String) as unknown }]);
    expect(loser).toEqual({ notified: [], conflicts: [finding('critical').id], failures: [] });
    expect(one.sent.length + two.sent.length).toBe(1);
    const [state] = await shared.getFindingStates(CLUSTER);
    expect(state).toMatchObject({ version: 2, severity: 'critical', lastNotifiedSeverity: 'critical', lastNotifiedAt: LATER.toISOString() });
  });

  it('without a race (one reads after the other saved), the second sees the first one\'s notification and stays silent', async () => {
    const shared = await ledger();
    const one = notifier(shared, 'one');
    const two = notifier(shared, 'two');
    expect((await notifyFindings(one.deps, usage, [finding('warning')], NOW)).notified).toHaveLength(1);
    expect(await notifyFindings(two.deps, usage, [finding('warning')], NOW)).toEqual({ notified: [], conflicts: [], failures: [] });
    expect(two.sent).toEqual([]);
  });

  it('when the winner cannot publish and the other has saved since, its take-back conflicts: named as a failure, nothing sent twice', async () => {
    const shared = await ledger();
    const other = notifier(shared, 'other');
    let otherResult: NotifyResult | undefined;
    // The winner saved the new finding; while it publishes, the other invocation reads that state
    // (told at NOW: nothing to tell) and saves its own version over it; then the publish fails.
    const failing = notifier(shared, 'failing', async () => {
      otherResult = await notifyFindings(other.deps, usage, [finding('warning')], LATER);
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    });
    const result = await notifyFindings(failing.deps, usage, [finding('warning')], NOW);

    expect(otherResult).toEqual({ notified: [], conflicts: [], failures: [] });
    expect(other.sent).toEqual([]);
    expect(result.notified).toEqual([]);
    expect(result.conflicts).toEqual([]);
    expect(result.failures).toEqual([
      { cluster: CLUSTER, findingId: finding('warning').id, message: expect.stringMatching(/Rate exceeded/) as unknown },
      { cluster: CLUSTER, findingId: finding('warning').id, message: expect.stringMatching(/^could not take back the notification: /) as unknown },
    ]);
    // The other invocation's state stands (version 2): the take-back did not overwrite it.
    const [state] = await shared.getFindingStates(CLUSTER);
    expect(state).toMatchObject({ version: 2, lastSeen: LATER.toISOString() });
  });
});
