import type { Finding } from '../../../lib/diagnose/types';
import { groupFindings, sectionLines } from '../../../lib/output/report/findings';

const SUBNET = 'subnet-0e59dfd0c9e3779b1';
const SHARED = ['Shrink warm pools: WARM_IP_TARGET=5.', 'Custom networking on 100.64.0.0/10.'];

function subnetFinding(over: Partial<Finding> = {}): Finding {
  return {
    id: `prod/subnet-exhaustion/${SUBNET}`,
    cluster: 'prod',
    kind: 'subnet-exhaustion',
    severity: 'critical',
    subject: { type: 'subnet', id: SUBNET, availabilityZone: 'eu-west-1a' },
    title: `Subnet ${SUBNET} (eu-west-1a): 7 of 251 IPs free, 97% used`,
    evidence: { subnetId: SUBNET, free: 7 },
    evidenceText: ['7 of 251 usable IPs free (97% used) in 10.20.0.0/24.'],
    fixes: [...SHARED],
    ...over,
  };
}

function azFinding(nodegroup: string, over: Partial<Finding> = {}): Finding {
  return {
    id: `prod/subnet-exhaustion/${nodegroup}@eu-west-1a`,
    cluster: 'prod',
    kind: 'subnet-exhaustion',
    severity: 'critical',
    subject: { type: 'availability-zone', id: `${nodegroup}@eu-west-1a`, availabilityZone: 'eu-west-1a' },
    title: `Nodegroup ${nodegroup} in eu-west-1a: its subnet has 7 IPs free, 2 nodes there`,
    evidence: { nodegroup, availabilityZone: 'eu-west-1a', subnetIds: SUBNET, free: 7 },
    evidenceText: [`Nodegroup ${nodegroup} has 2 nodes in eu-west-1a.`],
    fixes: [...SHARED, `Or move capacity out of eu-west-1a, then scale ${nodegroup} down.`],
    ...over,
  };
}

describe('groupFindings', () => {
  it("merges a full subnet's finding with its nodegroups' AZ findings, headed by the subnet's", () => {
    const sections = groupFindings([azFinding('api-m5l'), azFinding('general-m5xl'), subnetFinding()]);
    expect(sections).toHaveLength(1);
    expect(sections[0]?.findings.map((f) => f.subject.id)).toEqual([SUBNET, 'api-m5l@eu-west-1a', 'general-m5xl@eu-west-1a']);
  });

  it('takes the worst severity of the findings it merges', () => {
    const [section] = groupFindings([subnetFinding({ severity: 'warning' }), azFinding('api-m5l')]);
    expect(section?.severity).toBe('critical');
  });

  it.each([
    ['another kind on the same subnet', subnetFinding({ kind: 'ips-held-by-others', id: 'x' })],
    ['another subnet', azFinding('batch', { evidence: { nodegroup: 'batch', subnetIds: 'subnet-0other' } })],
    ['a different first fix', azFinding('batch', { fixes: ['Something else first.'] })],
  ])('keeps apart a finding about %s', (_, other) => {
    expect(groupFindings([subnetFinding(), other])).toHaveLength(2);
  });

  it('leaves findings that are not about subnets one section each, in order', () => {
    const eni = subnetFinding({ kind: 'eni-limit', id: 'e', subject: { type: 'nodegroup', id: 'api-m5l' } });
    const cp = subnetFinding({ kind: 'control-plane-headroom', id: 'c', subject: { type: 'cluster', id: 'prod' } });
    expect(groupFindings([eni, subnetFinding(), cp]).map((s) => s.findings[0]?.kind)).toEqual(['eni-limit', 'subnet-exhaustion', 'control-plane-headroom']);
  });
});

describe('sectionLines', () => {
  it("says a merged section once: the subnet's evidence, each nodegroup's, the shared fixes, then each one's own", () => {
    const [section] = groupFindings([subnetFinding(), azFinding('api-m5l', { severity: 'warning' }), azFinding('general-m5xl')]);
    expect(sectionLines(section!)).toEqual([
      `CRITICAL: Subnet ${SUBNET} (eu-west-1a): 7 of 251 IPs free, 97% used`,
      '  Cause: subnet close to full',
      '  Nodegroups with no other subnet in eu-west-1a: api-m5l, general-m5xl',
      '',
      '  Evidence:',
      '  - 7 of 251 usable IPs free (97% used) in 10.20.0.0/24.',
      '',
      '  Nodegroup api-m5l (warning):',
      '  - Nodegroup api-m5l has 2 nodes in eu-west-1a.',
      '',
      '  Nodegroup general-m5xl:',
      '  - Nodegroup general-m5xl has 2 nodes in eu-west-1a.',
      '',
      `  First fix to try: ${SHARED[0]}`,
      '  Then:',
      `  - ${SHARED[1]}`,
      '  - Or move capacity out of eu-west-1a, then scale api-m5l down.',
      '  - Or move capacity out of eu-west-1a, then scale general-m5xl down.',
    ]);
  });

  it('says a finding of its own in the words of the notifications', () => {
    const [section] = groupFindings([subnetFinding()]);
    expect(sectionLines(section!)).toEqual([
      `CRITICAL: Subnet ${SUBNET} (eu-west-1a): 7 of 251 IPs free, 97% used`,
      '  Cause: subnet close to full',
      '',
      '  Evidence:',
      '  - 7 of 251 usable IPs free (97% used) in 10.20.0.0/24.',
      '',
      `  First fix to try: ${SHARED[0]}`,
      '  Then:',
      `  - ${SHARED[1]}`,
    ]);
  });
});
