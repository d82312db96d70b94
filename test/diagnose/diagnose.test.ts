import * as path from 'node:path';
import { collectInventory } from '../../lib/inventory/collect';
import { readSnapshot } from '../../lib/inventory/snapshot';
import type { Inventory } from '../../lib/inventory/types';
import { measure } from '../../lib/measure/measure';
import { compareFindings, diagnose, FINDING_KIND_ORDER } from '../../lib/diagnose/diagnose';
import { DEFAULT_THRESHOLDS, type Finding } from '../../lib/diagnose/types';
import { AZ_A, AZ_B, ids, nodegroup, run, TYPES, World } from './world';

describe('diagnose', () => {
  /** Two clusters: `alpha` with a full subnet (critical) and a control-plane warning; `beta` with a scarce subnet (warning). */
  function account(): Inventory {
    const w = new World()
      .addSubnet('subnet-a', '10.0.1.0/24', AZ_A)
      .addSubnet('subnet-b', '10.0.2.0/24', AZ_B)
      .addSubnet('subnet-c', '10.0.3.0/24', AZ_A);
    w.node({ cluster: 'alpha', nodegroup: 'web', type: 'm5.large', subnetId: 'subnet-a', enis: [10] });
    w.node({ cluster: 'beta', nodegroup: 'jobs', type: 'm5.large', subnetId: 'subnet-c', enis: [10] });
    w.controlPlane('alpha', 'subnet-a').controlPlane('alpha', 'subnet-b');
    w.fillTo('subnet-a', 10, 'branch').fillTo('subnet-b', 100).fillTo('subnet-c', 50, 'branch');
    return {
      region: 'eu-west-1',
      collectedAt: '2026-11-26T10:00:00.000Z',
      clusters: [
        w.inventory({ name: 'beta', subnets: [['subnet-c', ['node']]] }),
        w.inventory({ name: 'alpha', subnets: [['subnet-a', ['cluster', 'node']], ['subnet-b', ['cluster']]], nodegroups: [nodegroup('alpha', 'web', ['m5.large'], ['subnet-a'], 1)] }),
      ],
      failedClusters: [],
      instanceTypes: TYPES,
      unknownInstanceTypes: [],
    };
  }

  it('diagnoses every cluster, worst first, then by cluster, kind and subject', () => {
    const inv = account();
    expect(ids(diagnose(measure(inv), inv, DEFAULT_THRESHOLDS))).toEqual([
      'critical alpha/subnet-exhaustion/subnet-a',
      'critical alpha/subnet-exhaustion/web@eu-west-1a',
      'warning alpha/control-plane-headroom/alpha',
      'warning alpha/nodegroup-headroom/web',
      // beta declares no nodegroup: `jobs` comes from its node's tags, its subnets from its nodes.
      'warning beta/subnet-exhaustion/jobs@eu-west-1a',
      'warning beta/subnet-exhaustion/subnet-c',
    ]);
  });

  it('orders kinds as DESIGN.md lists the causes', () => {
    const f = (kind: Finding['kind'], severity: Finding['severity'], cluster = 'c', subject = 's'): Finding => ({
      id: `${cluster}/${kind}/${subject}`,
      cluster,
      kind,
      severity,
      subject: { type: 'subnet', id: subject },
      title: '',
      evidence: {},
      evidenceText: [],
      fixes: [],
    });
    const sorted = [
      f('control-plane-headroom', 'warning'),
      f('prefix-fragmentation', 'warning'),
      f('ips-held-by-others', 'warning', 'a'),
      f('eni-limit', 'warning'),
      f('subnet-exhaustion', 'warning', 'c', 't'),
      f('subnet-exhaustion', 'warning', 'c', 's'),
      f('control-plane-headroom', 'critical', 'z'),
    ].sort(compareFindings);
    expect(sorted.map((x) => x.id)).toEqual([
      'z/control-plane-headroom/s',
      'a/ips-held-by-others/s',
      'c/subnet-exhaustion/s',
      'c/subnet-exhaustion/t',
      'c/eni-limit/s',
      'c/prefix-fragmentation/s',
      'c/control-plane-headroom/s',
    ]);
  });

  it('throws when a measured cluster is not in the inventory', () => {
    const inv = account();
    const usage = measure(inv);
    expect(() => diagnose(usage, { ...inv, clusters: inv.clusters.slice(0, 1) }, DEFAULT_THRESHOLDS)).toThrow(
      'diagnosing cluster alpha: it is in the usage but not in the inventory it was measured from',
    );
  });

  it('still diagnoses a cluster with incomplete data, and says so in every finding', () => {
    const w = new World().addSubnet('subnet-a', '10.0.1.0/24', AZ_A);
    w.fillTo('subnet-a', 5);
    const inv = w.inventory({
      name: 'prod',
      subnets: [['subnet-a', ['cluster', 'node']]],
      problems: [{ source: 'ec2:DescribeInstances', message: 'cluster prod: UnauthorizedOperation', code: 'UnauthorizedOperation' }],
    });
    const { findings, usage } = run(inv);
    expect(usage.complete).toBe(false);
    expect(ids(findings)).toEqual([
      'critical prod/subnet-exhaustion/subnet-a',
      'critical prod/ips-held-by-others/subnet-a',
      'critical prod/control-plane-headroom/prod',
    ]);
    for (const f of findings) {
      expect(f.evidence).toMatchObject({ dataComplete: 'no', collectionProblems: 1 });
      expect(f.evidenceText[f.evidenceText.length - 1]).toBe(
        'Data incomplete (1 problem, first: ec2:DescribeInstances: cluster prod: UnauthorizedOperation): the figures may be off, and nothing is changed automatically.',
      );
    }
  });

  it('finds nothing in a cluster with nothing in it', () => {
    expect(run(new World().inventory({ name: 'empty', subnets: [] })).findings).toEqual([]);
  });
});

describe('diagnose on the demo snapshot', () => {
  let findings: Finding[];
  beforeAll(async () => {
    const source = await readSnapshot(path.join(__dirname, '..', '..', 'events', 'demo-snapshot'));
    const inv = await collectInventory(source, { clusterNames: [], concurrency: 2, now: new Date('2026-11-26T10:00:00Z'), network: true });
    findings = diagnose(measure(inv), inv, DEFAULT_THRESHOLDS);
  });

  it('shows a finding of every kind: the full /24, the nodes at their limit, the fragmented /23, the warm m4 pools, the control plane, the /25 tagged 0 that v1.18.6 opts in', () => {
    expect(ids(findings)).toEqual([
      'critical batch-dev/node-egress/subnet-009e3b40cfec38505',
      // Issue 13: the Karpenter NodePool at its ENI limit; the IPv6 cluster's /27, short of IPv4 for nodes.
      'critical events-karpenter/eni-limit/karpenter:default',
      // Issue 14 (the demo's kubernetes/ part): kubelet max pods 58 over the 29 m5.large serves, pods failing.
      'critical events-karpenter/max-pods-mismatch/karpenter:default',
      'critical events-karpenter/pods-failing-ip/karpenter:default',
      'critical ml-ipv6/subnet-exhaustion/subnet-0e9de5f420855012c',
      'critical ml-ipv6/subnet-exhaustion/workers@eu-west-1a',
      'critical payments-prod/subnet-exhaustion/api-m5l@eu-west-1a',
      'critical payments-prod/subnet-exhaustion/general-m5xl@eu-west-1a',
      'critical payments-prod/subnet-exhaustion/subnet-0e59dfd0c9e3779b1',
      'critical payments-prod/vpc-dns/payments-prod',
      'critical payments-prod/pods-failing-ip/general-m5xl',
      'warning batch-dev/subnet-exhaustion/legacy-m4@eu-west-1c',
      'warning batch-dev/subnet-exhaustion/subnet-009e3b40cfec38505',
      'warning batch-dev/eni-limit/legacy-t3',
      'warning batch-dev/ips-held-by-others/subnet-009e3b40cfec38505',
      'warning batch-dev/prefix-fragmentation/subnet-009e3b40cfec38505',
      'warning batch-dev/prefix-fragmentation/subnet-0502fba4a608c0b54',
      'warning batch-dev/nodegroup-headroom/etl-c6g',
      'warning batch-dev/nodegroup-headroom/legacy-m4',
      'warning batch-dev/cni-discovery/subnet-009e3b40cfec38505',
      // Issue 14: batch-dev's authentication mode is CONFIG_MAP; NodePool batch allows only IP-capped types.
      'warning batch-dev/kube-access/batch-dev',
      'warning events-karpenter/karpenter-pool/karpenter:batch',
      'warning ml-ipv6/control-plane-headroom/ml-ipv6',
      'warning payments-prod/eni-limit/api-m5l',
      'warning payments-prod/control-plane-headroom/payments-prod',
      'warning payments-prod/nodegroup-headroom/api-m5l',
      'warning payments-prod/nodegroup-headroom/general-m5xl',
      // Issue 13: the VPC's Network Address Usage, by its metric (the demo's region-level files).
      'warning payments-prod/network-address-usage/vpc-05cb6340ff1bbcd88',
      'warning payments-prod/leaked-enis/subnet-02a477941daa66d13',
    ]);
    // Every kind but eni-quota: the demo's region holds 102 ENIs of the 5,000 the quota allows
    // (near it would take some 4,000 more ENIs in the shipped files); test/inventory/region-limits.test.ts
    // shows that finding on the emulated account.
    expect(new Set(findings.map((f) => f.kind))).toEqual(new Set(FINDING_KIND_ORDER.filter((k) => k !== 'eni-quota')));
  });

  it('advises the WARM_ENI_TARGET pool, not prefixes, for the m4 nodes that keep secondary IPs', () => {
    const f = findings.find((x) => x.id === 'batch-dev/subnet-exhaustion/subnet-009e3b40cfec38505');
    expect(f?.fixes[0]).toMatch(/WARM_ENI_TARGET/);
    expect(f?.fixes[0]).not.toMatch(/WARM_PREFIX_TARGET/);
  });

  it('points at the tagged 100.64 subnet in the same AZ', () => {
    const f = findings.find((x) => x.id === 'payments-prod/subnet-exhaustion/subnet-0e59dfd0c9e3779b1');
    expect(f?.title).toBe('Subnet subnet-0e59dfd0c9e3779b1 (eu-west-1a): 7 of 251 IPs free, 97% used');
    expect(f?.fixes[1]).toMatch(/^Already tagged kubernetes\.io\/role\/cni in eu-west-1a: subnet-0c55317ef17156075 \(8,187 free\)/);
  });

  it('finds no warm-pool excess in the full /24: WARM_IP_TARGET=5 keeps few idle IPs', () => {
    // 5 m5.large nodes at their limit (0..5 idle each) and 2 m5.xlarge with 42 IPs (5 idle each):
    // 10..35 idle + 2 other of 244 used, under 30 %.
    expect(findings.filter((x) => x.kind === 'ips-held-by-others' && x.cluster === 'payments-prod')).toEqual([]);
  });

  it('finds the spare ENI each m4.xlarge keeps under WARM_ENI_TARGET=1 (not Nitro: no prefixes)', () => {
    const f = findings.find((x) => x.id === 'batch-dev/ips-held-by-others/subnet-009e3b40cfec38505');
    // 3 nodes × 2 full ENIs (30 addresses) + 1 VPC endpoint = 91 used of 123; each node has 28
    // secondaries for 1..14 pods: 14..27 idle.
    expect(f?.evidence).toMatchObject({ free: 32, used: 91, warmMin: 42, warmMax: 81, warmNodes: 3, other: 1, heldShare: 0.473 });
    expect(f?.title).toBe('Subnet subnet-009e3b40cfec38505: 32 free, ≥43 of 91 used IPs idle in warm pools or held by others');
    expect(f?.fixes[0]).toMatch(/^Tune the warm pool on the vpc-cni add-on: set WARM_IP_TARGET \/ MINIMUM_IP_TARGET instead of WARM_ENI_TARGET=1/);
  });

  it('finds the /23 whose free space Lambda ENIs scattered: 176 IPs free, 2 free /28 blocks; none in the /20s', () => {
    const f = findings.find((x) => x.id === 'batch-dev/prefix-fragmentation/subnet-0502fba4a608c0b54');
    expect(f?.evidence).toMatchObject({ cidrBlock: '10.30.32.0/23', freeBlocks: 2, totalBlocks: 32, free: 176, freeAddressesOutsideBlocks: 144, prefixModeNodes: 3 });
    expect(f?.title).toBe('Subnet subnet-0502fba4a608c0b54: 2 free /28 blocks left for prefixes (176 IPs free)');
    const fragmented = findings.filter((x) => x.kind === 'prefix-fragmentation').map((x) => x.subject.id);
    expect(fragmented).not.toContain('subnet-0e13cd509b54cda26');
    expect(fragmented).toHaveLength(2);
  });
});
