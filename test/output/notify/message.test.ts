import { buildNotification, dashboardUrl, snsSubject } from '../../../lib/output/notify/message';
import { protocolMessages } from '../../../lib/aws/sns';
import type { Finding } from '../../../lib/diagnose/types';

const NOW = new Date('2026-11-26T12:00:00Z');

const finding: Finding = {
  id: 'payments-prod/subnet-exhaustion/subnet-0e59dfd0c9e3779b1',
  cluster: 'payments-prod',
  kind: 'subnet-exhaustion',
  severity: 'critical',
  subject: { type: 'subnet', id: 'subnet-0e59dfd0c9e3779b1', availabilityZone: 'eu-west-1a' },
  title: 'subnet subnet-0e59dfd0c9e3779b1 (eu-west-1a) has 7 of 251 addresses free',
  evidence: { available: 7, usable: 251 },
  evidenceText: ['7 free of 251 usable (97.2% used)', 'CNI secondary IPs hold 219'],
  fixes: ['Set WARM_IP_TARGET=2 and MINIMUM_IP_TARGET on the vpc-cni add-on', 'Tag a spare subnet kubernetes.io/role/cni'],
  forecast: { trend: 'decreasing', hoursToExhaustion: 9, slopePerHour: -0.8, samples: 288, spanHours: 24, summary: 'runs out in about 9 h (-0.8 IPs/h over the last 24 h)' },
};

describe('snsSubject', () => {
  it.each([
    ['plain', 'plain'],
    ['em — dash and −minus', 'em - dash and -minus'],
    ['line\nbreak\ttab', 'line break tab'],
    ['émoji ✓ gone', 'moji gone'],
  ])('makes %j ASCII on one line', (input, expected) => {
    expect(snsSubject(input)).toBe(expected);
  });

  it('stays under 100 characters', () => {
    const s = snsSubject('x'.repeat(300));
    expect(s.length).toBeLessThan(100);
    expect(s.endsWith('...')).toBe(true);
  });
});

describe('buildNotification', () => {
  it('gives a person the cluster, cause, evidence, forecast, first fix and dashboard', () => {
    const n = buildNotification(finding, 'appeared', { region: 'eu-west-1', dashboardName: 'eks-ip-responder-prod', stage: 'prod' }, NOW);
    expect(n.subject).toBe('[CRITICAL] payments-prod: subnet subnet-0e59dfd0c9e3779b1 (eu-west-1a) has 7 of 251 addresses free');
    expect(n.text).toContain('Cluster: payments-prod (eu-west-1)');
    expect(n.text).toContain('Cause: subnet close to full');
    expect(n.text).toContain('- 7 free of 251 usable (97.2% used)');
    expect(n.text).toContain('Forecast: runs out in about 9 h');
    expect(n.text).toContain('First fix to try: Set WARM_IP_TARGET=2');
    expect(n.text).toContain('- Tag a spare subnet kubernetes.io/role/cni');
    expect(n.text).toContain(`Dashboard: ${dashboardUrl('eu-west-1', 'eks-ip-responder-prod')}`);
    expect(n.attributes).toEqual({ cluster: 'payments-prod', kind: 'subnet-exhaustion', severity: 'critical', transition: 'appeared' });
    expect(n.json).toMatchObject({
      schema: 'eks-ip-responder/notification/v1',
      findingId: finding.id,
      severity: 'critical',
      evidence: { available: 7, usable: 251 },
      forecast: { hoursToExhaustion: 9 },
      time: '2026-11-26T12:00:00.000Z',
    });
  });

  it('says a finding cleared without evidence or fixes', () => {
    const n = buildNotification(finding, 'cleared', { region: 'eu-west-1' }, NOW);
    expect(n.subject.startsWith('[CLEARED] payments-prod:')).toBe(true);
    expect(n.text).toContain('Cleared: subnet');
    expect(n.text).not.toContain('First fix');
    expect(n.attributes.severity).toBe('cleared');
    expect(n.text).not.toContain('Dashboard:');
  });

  it('publishes per-protocol forms: text for e-mail, JSON for machines', () => {
    const n = buildNotification(finding, 'worsened', { region: 'eu-west-1' }, NOW);
    expect(n.subject.startsWith('[CRITICAL, worse] payments-prod:')).toBe(true);
    const doc = JSON.parse(protocolMessages(n));
    expect(doc.default).toBe(n.text);
    expect(doc.email).toBe(n.text);
    expect(JSON.parse(doc.sqs)).toEqual(JSON.parse(JSON.stringify(n.json)));
    expect(JSON.parse(doc.lambda).transition).toBe('worsened');
    expect(doc.sms.length).toBeLessThan(100);
  });
});
