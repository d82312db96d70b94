import type { Finding, Severity } from '../../../lib/diagnose/types';
import {
  FINDING_STATE_TTL_DAYS,
  planTransitions,
  type FindingState,
  type PlanTransitionsOptions,
  type Transition,
} from '../../../lib/output/notify/transitions';

const CLUSTER = 'prod';
const T0 = new Date('2025-03-01T00:00:00.000Z');
const HOUR = 3_600_000;
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);
const iso = (hours: number) => at(hours).toISOString();
const ttl = (hours: number) => Math.floor(at(hours).getTime() / 1000) + FINDING_STATE_TTL_DAYS * 86_400;

function finding(subnet: string, severity: Severity): Finding {
  return {
    id: `${CLUSTER}/subnet-exhaustion/${subnet}`,
    cluster: CLUSTER,
    kind: 'subnet-exhaustion',
    severity,
    subject: { type: 'subnet', id: subnet, availabilityZone: 'eu-west-1a' },
    title: `${subnet}: ${severity === 'critical' ? 9 : 40} free IPs`,
    evidence: { AvailableIpAddressCount: severity === 'critical' ? 9 : 40 },
    evidenceText: [],
    fixes: [],
  };
}

/** A saved state, as planTransitions would have written it at hour `h`. */
function saved(subnet: string, severity: Severity, h: number, over: Partial<FindingState> = {}): FindingState {
  return {
    cluster: CLUSTER,
    findingId: `${CLUSTER}/subnet-exhaustion/${subnet}`,
    kind: 'subnet-exhaustion',
    severity,
    subject: { type: 'subnet', id: subnet, availabilityZone: 'eu-west-1a' },
    title: `${subnet}: ${severity === 'critical' ? 9 : 40} free IPs`,
    firstSeen: iso(h),
    lastSeen: iso(h),
    lastNotifiedAt: iso(h),
    lastNotifiedSeverity: severity,
    status: 'open',
    version: 3,
    expiresAt: ttl(h),
    ...over,
  };
}

const complete: PlanTransitionsOptions = { dataComplete: true };

/** The parts of a transition a reader checks: kind, notify, and what changes in the saved state. */
function summary(t: Transition) {
  return {
    kind: t.kind,
    notify: t.notify,
    id: t.next.findingId,
    severity: t.next.severity,
    status: t.next.status,
    lastNotifiedSeverity: t.next.lastNotifiedSeverity,
    lastNotifiedAt: t.next.lastNotifiedAt,
    expectedVersion: t.expectedVersion,
    version: t.next.version,
  };
}

describe('planTransitions', () => {
  const a = `${CLUSTER}/subnet-exhaustion/subnet-a`;

  it.each<{
    name: string;
    findings: Finding[];
    previous: FindingState[];
    now: Date;
    opts?: PlanTransitionsOptions;
    want: ReturnType<typeof summary>[];
  }>([
    {
      name: 'a new finding appears: notify, new item',
      findings: [finding('subnet-a', 'warning')],
      previous: [],
      now: at(1),
      want: [{ kind: 'appeared', notify: true, id: a, severity: 'warning', status: 'open', lastNotifiedSeverity: 'warning', lastNotifiedAt: iso(1), expectedVersion: undefined, version: 1 }],
    },
    {
      name: 'the same finding at the next sample: no notification',
      findings: [finding('subnet-a', 'warning')],
      previous: [saved('subnet-a', 'warning', 0)],
      now: at(1),
      want: [{ kind: 'unchanged', notify: false, id: a, severity: 'warning', status: 'open', lastNotifiedSeverity: 'warning', lastNotifiedAt: iso(0), expectedVersion: 3, version: 4 }],
    },
    {
      name: 'warning → critical worsened: notify',
      findings: [finding('subnet-a', 'critical')],
      previous: [saved('subnet-a', 'warning', 0)],
      now: at(1),
      want: [{ kind: 'worsened', notify: true, id: a, severity: 'critical', status: 'open', lastNotifiedSeverity: 'critical', lastNotifiedAt: iso(1), expectedVersion: 3, version: 4 }],
    },
    {
      name: 'critical → warning improved: state only, the last notification stays critical',
      findings: [finding('subnet-a', 'warning')],
      previous: [saved('subnet-a', 'critical', 0)],
      now: at(1),
      want: [{ kind: 'improved', notify: false, id: a, severity: 'warning', status: 'open', lastNotifiedSeverity: 'critical', lastNotifiedAt: iso(0), expectedVersion: 3, version: 4 }],
    },
    {
      name: 'back to critical after improving, already notified as critical: worsened, not notified again',
      findings: [finding('subnet-a', 'critical')],
      previous: [saved('subnet-a', 'warning', 0, { lastNotifiedSeverity: 'critical' })],
      now: at(1),
      want: [{ kind: 'worsened', notify: false, id: a, severity: 'critical', status: 'open', lastNotifiedSeverity: 'critical', lastNotifiedAt: iso(0), expectedVersion: 3, version: 4 }],
    },
    {
      name: 'back to critical after improving, last notified a day ago: re-notified',
      findings: [finding('subnet-a', 'critical')],
      previous: [saved('subnet-a', 'warning', 0, { lastNotifiedSeverity: 'critical' })],
      now: at(24),
      want: [{ kind: 'worsened', notify: true, id: a, severity: 'critical', status: 'open', lastNotifiedSeverity: 'critical', lastNotifiedAt: iso(24), expectedVersion: 3, version: 4 }],
    },
    {
      name: 'an open finding absent from complete data: cleared, notify',
      findings: [],
      previous: [saved('subnet-a', 'critical', 0)],
      now: at(1),
      want: [{ kind: 'cleared', notify: true, id: a, severity: 'critical', status: 'cleared', lastNotifiedSeverity: 'critical', lastNotifiedAt: iso(1), expectedVersion: 3, version: 4 }],
    },
    {
      name: 'an open finding absent from incomplete data: kept open, not notified',
      findings: [],
      previous: [saved('subnet-a', 'critical', 0)],
      now: at(1),
      opts: { dataComplete: false },
      want: [{ kind: 'unchanged', notify: false, id: a, severity: 'critical', status: 'open', lastNotifiedSeverity: 'critical', lastNotifiedAt: iso(0), expectedVersion: 3, version: 4 }],
    },
    {
      name: 'a cleared finding still absent: nothing to do',
      findings: [],
      previous: [saved('subnet-a', 'warning', 0, { status: 'cleared', clearedAt: iso(0) })],
      now: at(1),
      want: [],
    },
    {
      name: 'a cleared finding appears again: notify, on the existing item',
      findings: [finding('subnet-a', 'warning')],
      previous: [saved('subnet-a', 'critical', 0, { status: 'cleared', clearedAt: iso(0) })],
      now: at(5),
      want: [{ kind: 'appeared', notify: true, id: a, severity: 'warning', status: 'open', lastNotifiedSeverity: 'warning', lastNotifiedAt: iso(5), expectedVersion: 3, version: 4 }],
    },
    {
      name: 'still critical 1 ms before renotifyAfterHours: not yet',
      findings: [finding('subnet-a', 'critical')],
      previous: [saved('subnet-a', 'critical', 0)],
      now: new Date(at(24).getTime() - 1),
      want: [{ kind: 'unchanged', notify: false, id: a, severity: 'critical', status: 'open', lastNotifiedSeverity: 'critical', lastNotifiedAt: iso(0), expectedVersion: 3, version: 4 }],
    },
    {
      name: 'still critical exactly renotifyAfterHours (24 h) after the last notification: re-notify',
      findings: [finding('subnet-a', 'critical')],
      previous: [saved('subnet-a', 'critical', 0)],
      now: at(24),
      want: [{ kind: 'unchanged', notify: true, id: a, severity: 'critical', status: 'open', lastNotifiedSeverity: 'critical', lastNotifiedAt: iso(24), expectedVersion: 3, version: 4 }],
    },
    {
      name: 'custom renotifyAfterHours 6: re-notify at 6 h',
      findings: [finding('subnet-a', 'critical')],
      previous: [saved('subnet-a', 'critical', 0)],
      now: at(6),
      opts: { dataComplete: true, renotifyAfterHours: 6 },
      want: [{ kind: 'unchanged', notify: true, id: a, severity: 'critical', status: 'open', lastNotifiedSeverity: 'critical', lastNotifiedAt: iso(6), expectedVersion: 3, version: 4 }],
    },
    {
      name: 'renotifyAfterHours 0: never re-notify',
      findings: [finding('subnet-a', 'critical')],
      previous: [saved('subnet-a', 'critical', 0)],
      now: at(24 * 30),
      opts: { dataComplete: true, renotifyAfterHours: 0 },
      want: [{ kind: 'unchanged', notify: false, id: a, severity: 'critical', status: 'open', lastNotifiedSeverity: 'critical', lastNotifiedAt: iso(0), expectedVersion: 3, version: 4 }],
    },
    {
      name: 'a warning open for days: never re-notified',
      findings: [finding('subnet-a', 'warning')],
      previous: [saved('subnet-a', 'warning', 0)],
      now: at(24 * 7),
      want: [{ kind: 'unchanged', notify: false, id: a, severity: 'warning', status: 'open', lastNotifiedSeverity: 'warning', lastNotifiedAt: iso(0), expectedVersion: 3, version: 4 }],
    },
  ])('$name', ({ findings, previous, now, opts, want }) => {
    expect(planTransitions(CLUSTER, findings, previous, now, opts ?? complete).map(summary)).toEqual(want);
  });

  it('notifies the same finding once over two samples', () => {
    const first = planTransitions(CLUSTER, [finding('subnet-a', 'warning')], [], at(0), complete);
    const second = planTransitions(CLUSTER, [finding('subnet-a', 'warning')], first.map((t) => t.next), at(0.25), complete);
    expect([...first, ...second].filter((t) => t.notify)).toHaveLength(1);
    expect(second[0]?.expectedVersion).toBe(first[0]?.next.version);
  });

  it('refreshes lastSeen and the TTL of a seen finding, keeps firstSeen', () => {
    const [t] = planTransitions(CLUSTER, [finding('subnet-a', 'warning')], [saved('subnet-a', 'warning', 0)], at(2), complete);
    expect(t?.next).toMatchObject({ firstSeen: iso(0), lastSeen: iso(2), expiresAt: ttl(2) });
    expect(t?.finding?.id).toBe(a);
  });

  it('does not touch lastSeen of a finding kept open on incomplete data', () => {
    const [t] = planTransitions(CLUSTER, [], [saved('subnet-a', 'critical', 0)], at(2), { dataComplete: false });
    expect(t?.next).toMatchObject({ lastSeen: iso(0), expiresAt: ttl(2), status: 'open' });
    expect(t?.finding).toBeUndefined();
  });

  it('records when a finding cleared and expires it FINDING_STATE_TTL_DAYS later', () => {
    const [t] = planTransitions(CLUSTER, [], [saved('subnet-a', 'critical', 0)], at(3), complete);
    expect(t?.next).toMatchObject({ status: 'cleared', clearedAt: iso(3), lastSeen: iso(0), expiresAt: ttl(3) });
    expect(t?.previous?.status).toBe('open');
  });

  it('restarts firstSeen when a cleared finding appears again', () => {
    const prev = saved('subnet-a', 'warning', 0, { status: 'cleared', clearedAt: iso(1) });
    const [t] = planTransitions(CLUSTER, [finding('subnet-a', 'warning')], [prev], at(5), complete);
    expect(t?.next.firstSeen).toBe(iso(5));
    expect(t?.next.clearedAt).toBeUndefined();
  });

  it('orders transitions: this sample’s findings, then the cleared ones', () => {
    const kinds = planTransitions(
      CLUSTER,
      [finding('subnet-b', 'warning'), finding('subnet-a', 'critical')],
      [saved('subnet-c', 'warning', 0), saved('subnet-a', 'warning', 0)],
      at(1),
      complete,
    ).map((t) => [t.next.subject.id, t.kind]);
    expect(kinds).toEqual([
      ['subnet-b', 'appeared'],
      ['subnet-a', 'worsened'],
      ['subnet-c', 'cleared'],
    ]);
  });

  it.each([
    ['a finding of another cluster', [{ ...finding('subnet-a', 'warning'), cluster: 'staging' }], []],
    ['a state of another cluster', [], [{ ...saved('subnet-a', 'warning', 0), cluster: 'staging' }]],
    ['the same finding twice', [finding('subnet-a', 'warning'), finding('subnet-a', 'critical')], []],
    ['the same state twice', [], [saved('subnet-a', 'warning', 0), saved('subnet-a', 'warning', 0)]],
  ] as [string, Finding[], FindingState[]][])('throws for %s', (_name, findings, previous) => {
    expect(() => planTransitions(CLUSTER, findings, previous, at(1), complete)).toThrow(/planTransitions for cluster prod/);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('throws for renotifyAfterHours %p', (hours) => {
    expect(() => planTransitions(CLUSTER, [], [], at(1), { dataComplete: true, renotifyAfterHours: hours })).toThrow(RangeError);
  });
});

describe('planTransitions after a failed publish was rolled back', () => {
  it('notifies an open finding that was never notified, as new', () => {
    const prev = saved('subnet-a', 'critical', 0, { lastNotifiedAt: undefined, lastNotifiedSeverity: undefined });
    const [t] = planTransitions(CLUSTER, [finding('subnet-a', 'critical')], [prev], at(0.1), complete);
    expect(t?.kind).toBe('appeared');
    expect(t?.notify).toBe(true);
    expect(t?.next.lastNotifiedSeverity).toBe('critical');
    expect(t?.expectedVersion).toBe(prev.version);
  });

  it('notifies a finding saved as critical but last notified as warning, as worse', () => {
    const prev = saved('subnet-a', 'critical', 0, { lastNotifiedSeverity: 'warning' });
    const [t] = planTransitions(CLUSTER, [finding('subnet-a', 'critical')], [prev], at(0.1), complete);
    expect(t?.kind).toBe('worsened');
    expect(t?.notify).toBe(true);
  });
});
