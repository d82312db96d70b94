/**
 * The responder answers Karpenter's CreateFleet whose response lists a launch that failed for lack of
 * subnet addresses: the sample event on the whole demo account (its events-karpenter cluster).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { makeHandler } from '../../handlers/respond';
import { testRuntime } from '../support/runtime';
import { accountFromSnapshot, DEMO_SNAPSHOT } from '../support/snapshot-account';
import { useTestHarness } from '../support/harness';

const EVENT = path.join(__dirname, '..', '..', 'events', 'cloudtrail-create-fleet-insufficient-free-addresses.json');
const NOW = new Date('2026-11-26T10:00:00Z');
const harness = useTestHarness();

describe('respond handler, CreateFleet errorSet (Karpenter)', () => {
  it('counts the failure for the cluster of the subnet, and answers with a cycle of that cluster only', async () => {
    const t = await testRuntime(accountFromSnapshot(DEMO_SNAPSHOT), harness.db, { ALARM_NAME_PREFIX: 'eks-ip-responder-dev-', RESPOND_MIN_INTERVAL_SECONDS: '0' }, NOW);
    harness.track(t.aws);
    const out = await makeHandler(t.rt)(JSON.parse(readFileSync(EVENT, 'utf8')));
    expect(out).toMatchObject({ status: 'handled', clusters: ['events-karpenter'] });
    const counted = t.aws.putMetricData.flatMap((r) => r.MetricData ?? []).filter((d) => d.MetricName === 'AllocationFailures');
    expect(counted.map((d) => Object.fromEntries((d.Dimensions ?? []).map((x) => [x.Name, x.Value])))).toEqual([
      { ClusterName: 'events-karpenter', Kind: 'subnet-addresses' },
    ]);
    // The cycle of that cluster notified its finding: the Karpenter NodePool at its ENI limit.
    const subjects = t.aws.published.map((m) => m.Subject ?? '');
    expect(subjects.some((s) => /events-karpenter: Nodegroup karpenter:default/.test(s))).toBe(true);
    expect(t.aws.published.every((m) => m.MessageAttributes?.cluster?.StringValue === 'events-karpenter')).toBe(true);
  });
});
