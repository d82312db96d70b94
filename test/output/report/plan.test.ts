import type { ClusterRemediation } from '../../../lib/act/remediate';
import type { ActionKind } from '../../../lib/plan/types';
import type { Finding, FindingKind } from '../../../lib/diagnose/types';
import type { ClusterUsage, Usage } from '../../../lib/measure/types';
import { absentReason, absentReasons, renderPlan } from '../../../lib/output/report/plan';

const remediation = (mode: ClusterRemediation['mode'] = 'dry-run'): ClusterRemediation => ({ cluster: 'prod', mode, planned: [], results: [], notes: [] });

function usage(o: { complete?: boolean; install?: 'managed' | 'self-managed' | 'unknown'; prefixDelegation?: boolean } = {}): ClusterUsage {
  return {
    name: 'prod',
    cni: { install: o.install ?? 'managed', prefixDelegation: o.prefixDelegation ?? false },
    nodegroups: [{ name: 'api', kind: 'managed' }],
    complete: o.complete ?? true,
    problems: o.complete === false ? [{ source: 'ec2:DescribeSubnets', message: 'malformed JSON' }] : [],
  } as unknown as ClusterUsage;
}

function finding(kind: FindingKind, type: Finding['subject']['type'], id: string): Finding {
  return { id: `prod/${kind}/${id}`, cluster: 'prod', kind, severity: 'warning', subject: { type, id }, title: '', evidence: {}, evidenceText: [], fixes: [] };
}
const scarce = finding('subnet-exhaustion', 'subnet', 'subnet-1');
const capped = finding('eni-limit', 'nodegroup', 'api');

describe('absentReason', () => {
  it.each<[ActionKind, Partial<Parameters<typeof usage>[0]>, Finding[], RegExp]>([
    ['warm-targets', {}, [], /^no pod subnet short of addresses \(subnet-exhaustion or ips-held-by-others finding\)$/],
    ['warm-targets', { install: 'unknown' }, [scarce], /^the vpc-cni add-on could not be read/],
    ['warm-targets', {}, [scarce], /^no warm-target setting within the policy frees addresses/],
    ['cni-subnets', {}, [], /^no pod subnet short of addresses \(subnet-exhaustion finding\)$/],
    ['cni-subnets', {}, [scarce], /already has a roomy subnet tagged kubernetes\.io\/role\/cni/],
    ['prefix-delegation', { prefixDelegation: true }, [capped], /^prefix delegation is on already/],
    ['prefix-delegation', {}, [scarce], /^no nodegroup capped by its instance type \(eni-limit finding\)$/],
    ['prefix-rollout', {}, [capped], /^prefix delegation is not on \(the prefix-delegation action comes first\)$/],
    ['prefix-rollout', { prefixDelegation: true }, [], /^no managed nodegroup capped/],
    ['prefix-rollout', { prefixDelegation: true }, [capped], /run in prefix mode already/],
    ['instance-types', {}, [], /^no nodegroup capped by its instance type/],
  ])('%s with %j and %j findings', (kind, u, findings, expected) => {
    expect(absentReason(kind, remediation(), usage(u), findings)).toMatch(expected);
  });

  it('puts the policy first: observe, then not allowed', () => {
    expect(absentReason('warm-targets', remediation('observe'), usage(), [scarce], true)).toBe('the policy mode is observe: nothing is planned');
    expect(absentReason('instance-types', remediation(), usage(), [capped], false)).toBe('not allowed by the policy (actions.instanceTypes.allowed is false)');
    expect(absentReason('prefix-rollout', remediation(), usage(), [capped], false)).toBe('not allowed by the policy (actions.prefixDelegation.allowed is false)');
  });

  it('on incomplete data, says that the finding may be missing', () => {
    expect(absentReason('instance-types', remediation(), usage({ complete: false }), [])).toBe(
      'no nodegroup capped by its instance type (eni-limit finding) in the data that could be read; the data is incomplete, so one may be missing (and nothing acts on this cluster until it is complete)',
    );
  });
});

describe('renderPlan', () => {
  const u: Usage = { region: 'eu-west-1', collectedAt: '2026-12-01T10:00:00.000Z', clusters: [usage({ complete: false })], failedClusters: [{ name: 'gone', problem: { source: 'eks:DescribeCluster', message: 'AccessDeniedException: denied' } }], unknownInstanceTypes: [] };

  it('gives each absent action kind its reason, marks the incomplete cluster, and lists the failed one', () => {
    const text = renderPlan([remediation()], 'policy.yml', { usage: u, findings: [], allowed: (_c, kind) => kind !== 'instance-types' });
    expect(text.split('\n').slice(2)).toEqual([
      'Cluster prod: mode dry-run  INCOMPLETE: nothing acts on it until a sample is complete',
      '  no action:',
      expect.stringMatching(/^ {4}warm-targets: no pod subnet short of addresses .* may be missing/),
      expect.stringMatching(/^ {4}cni-subnets: no pod subnet short of addresses/),
      expect.stringMatching(/^ {4}prefix-delegation: no nodegroup capped/),
      '    prefix-rollout: prefix delegation is not on (the prefix-delegation action comes first)',
      '    instance-types: not allowed by the policy (actions.instanceTypes.allowed is false)',
      expect.stringMatching(/^ {4}subnet-reservations: the data is incomplete/),
      expect.stringMatching(/^ {4}leaked-enis: no leaked ENI \(leaked-enis finding\) in the data that could be read; the data is incomplete/),
      expect.stringMatching(/^ {4}karpenter-subnets: no Karpenter NodePool on scarce subnets .* the data is incomplete/),
      expect.stringMatching(/^ {4}karpenter-instance-types: no Karpenter NodePool capped by IP capacity .* the data is incomplete/),
      expect.stringMatching(/^ {4}eni-configs: no pod subnet short of addresses \(subnet-exhaustion finding\) in the data that could be read; the data is incomplete/),
      '',
      'Cluster gone: FAILED: could not be sampled, nothing is planned: AccessDeniedException: denied',
      '',
    ]);
  });

  it('leaves out the kinds that are planned', () => {
    const r = remediation();
    r.planned = [{ kind: 'warm-targets' } as ClusterRemediation['planned'][number]];
    expect(Object.keys(absentReasons(r, { usage: u, findings: [] }))).toEqual([
      'cni-subnets',
      'prefix-delegation',
      'prefix-rollout',
      'instance-types',
      'subnet-reservations',
      'leaked-enis',
      'karpenter-subnets',
      'karpenter-instance-types',
      'eni-configs',
    ]);
  });
});
