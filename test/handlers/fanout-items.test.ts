/**
 * The Map's results come back inline (Step Functions' 256 KiB state payload): the dispatch makes
 * at most FAN_OUT_ITEMS_MAX items, VPC groups sharing items past it, and each item's answer carries
 * a bounded number of problems (lib/fanout.ts packItems, itemAnswerProblems).
 */
import { dispatchFanOut, FAN_OUT_ITEMS_MAX, ITEM_ANSWER_PROBLEM_CHARS, ITEM_ANSWER_PROBLEMS, itemAnswerProblems, packItems, type FanOutItem } from '../../lib/fanout';
import { generateAccount } from '../../tools/synthetic-account';
import { PAYLOAD_LIMIT_BYTES } from '../support/step-functions';
import { useTestHarness } from '../support/harness';
import { testRuntime } from '../support/runtime';

const harness = useTestHarness();
const NOW = new Date('2026-11-26T12:00:00Z');

describe('packItems', () => {
  const groups: FanOutItem[] = [
    { clusterNames: ['a1', 'a2', 'a3'] },
    { clusterNames: ['b1'] },
    { clusterNames: ['c1', 'c2'] },
    { clusterNames: ['d1'] },
    { clusterNames: ['e1'] },
  ];

  it('keeps the groups as they are when they are no more than the items', () => {
    expect(packItems(groups, 5)).toEqual(groups);
  });

  it('puts every cluster in exactly one item, each group whole, the items balanced by clusters', () => {
    const items = packItems(groups, 2);
    expect(items).toHaveLength(2);
    expect(items.flatMap((i) => i.clusterNames).sort()).toEqual(groups.flatMap((g) => g.clusterNames).sort());
    for (const g of groups) expect(items.filter((i) => g.clusterNames.every((c) => i.clusterNames.includes(c)))).toHaveLength(1);
    expect(items.map((i) => i.clusterNames.length).sort()).toEqual([4, 4]);
  });
});

describe('itemAnswerProblems', () => {
  it('keeps the first problems, each cut to its length, and says how many more', () => {
    const long = 'x'.repeat(ITEM_ANSWER_PROBLEM_CHARS + 50);
    const out = itemAnswerProblems([long, 'b', 'c', 'd', 'e']);
    expect(out).toEqual([`${'x'.repeat(ITEM_ANSWER_PROBLEM_CHARS - 1)}…`, 'b', 'c', "2 more problem(s): the item's own log lists them all"]);
    expect(itemAnswerProblems(['a'])).toEqual(['a']);
    expect(itemAnswerProblems([])).toEqual([]);
  });

  it('keeps the Map of FAN_OUT_ITEMS_MAX items within the state payload, with 600 clusters of the longest names all failed', () => {
    // EKS cluster names: up to 100 characters (EKS API reference, CreateCluster `name`).
    const names = Array.from({ length: 600 }, (_, i) => `${'c'.repeat(96)}${String(i).padStart(4, '0')}`);
    const items = packItems(names.map((n) => ({ clusterNames: [n] })), FAN_OUT_ITEMS_MAX);
    const problems = Array.from({ length: 50 }, (_, i) => `problem ${i} ${'y'.repeat(1000)}`);
    // As the Map's Done state makes each result: {clusterNames, summary} (stack/fanout.ts).
    const results = items.map((i) => ({
      clusterNames: i.clusterNames,
      summary: {
        clustersSampled: 0,
        clustersFailed: i.clusterNames,
        clustersIncomplete: [],
        findings: 999,
        notified: 999,
        metricsPublished: 99999,
        putMetricDataCalls: 999,
        problems: itemAnswerProblems(problems),
      },
    }));
    expect(items).toHaveLength(FAN_OUT_ITEMS_MAX);
    expect(results.every((r) => r.summary.problems.length === ITEM_ANSWER_PROBLEMS + 1)).toBe(true);
    expect(Buffer.byteLength(JSON.stringify({ results }))).toBeLessThan(PAYLOAD_LIMIT_BYTES);
  });
});

describe('dispatchFanOut past FAN_OUT_ITEMS_MAX VPC groups', () => {
  it('makes FAN_OUT_ITEMS_MAX items of whole VPC groups, every cluster once, and says so', async () => {
    const t = await testRuntime(generateAccount({ clusters: FAN_OUT_ITEMS_MAX + 20, nodes: FAN_OUT_ITEMS_MAX + 20, subnetsPerCluster: 1, seed: 3 }), harness.db, {}, NOW);
    harness.track(t.aws);
    const clusters = await t.rt.source.listClusters();
    const vpcOf = new Map(await Promise.all(clusters.map(async (c) => [c, (await t.rt.source.describeCluster(c)).resourcesVpcConfig?.vpcId] as const)));
    const plan = await dispatchFanOut(t.rt, NOW);
    expect(plan.items).toHaveLength(FAN_OUT_ITEMS_MAX);
    expect(plan.items.flatMap((i) => i.clusterNames).sort()).toEqual([...clusters].sort());
    // A VPC's clusters in one item.
    for (const vpc of new Set(vpcOf.values())) {
      const own = clusters.filter((c) => vpcOf.get(c) === vpc);
      expect(plan.items.filter((i) => own.some((c) => i.clusterNames.includes(c)))).toHaveLength(1);
    }
    expect(t.logs.info.filter((l) => l[0] === 'fan-out dispatch: VPC groups share items')).toEqual([
      ['fan-out dispatch: VPC groups share items', { groups: expect.any(Number), items: FAN_OUT_ITEMS_MAX }],
    ]);
  });
});
