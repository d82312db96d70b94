import { Logger } from '@aws-lambda-powertools/logger';
import { logCycleHealth, samplingProblems } from '../lib/cycle';
import type { Usage } from '../lib/measure/types';

describe('logCycleHealth', () => {
  it('logs each problem once: the sampling ones with their details, every other one (a remediation note of an incomplete cluster included) as a cycle problem', () => {
    const usage = {
      failedClusters: [{ name: 'gone', problem: { source: 'eks:DescribeCluster', code: 'ResourceNotFoundException', message: 'No cluster found' } }],
      clusters: [
        { name: 'partial', complete: false, problems: [{ source: 'ec2:DescribeNetworkInterfaces', message: 'AccessDenied' }] },
        { name: 'fine', complete: true, problems: [] },
      ],
      unknownInstanceTypes: [],
    } as unknown as Usage;
    const problems = [...samplingProblems(usage), 'partial: the ledger could not be read, so cooldowns and changes in flight are unknown: timeout', 'no forecast: throttled'];
    const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => {});
    const error = jest.spyOn(logger, 'error').mockImplementation(() => {});
    logCycleHealth(logger, { usage, problems });
    expect(error.mock.calls.map((c) => c[0])).toEqual(['cluster sampling failed']);
    expect(warn.mock.calls).toEqual([
      ['cluster data incomplete', { cluster: 'partial', problems: [{ source: 'ec2:DescribeNetworkInterfaces', message: 'AccessDenied' }] }],
      ['cycle problem', { problem: 'partial: the ledger could not be read, so cooldowns and changes in flight are unknown: timeout' }],
      ['cycle problem', { problem: 'no forecast: throttled' }],
    ]);
  });
});
