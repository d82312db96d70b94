/**
 * Live CLI runs that used to hang or say nothing: an endpoint that accepts connections and never
 * answers ends in a clear error within the configured timeout; --deadline cuts the reads still
 * in flight; progress goes to stderr for a live run, not under --json (unless --progress) and
 * never for --snapshot. Jest's test timeout is the guard against a hang: nothing here measures
 * elapsed time.
 */
import path from 'node:path';
import { LiveSource } from '../../lib/aws/live-source';
import { liveRunOptions, main, type CliIo } from '../../lib/cli/main';
import { emulateAccount } from '../../tools/mock-aws';
import { startHangingServer, withEndpoint, type HangingServer } from '../support/hanging-server';
import { generateAccount } from '../../tools/synthetic-account';
import { captureIo } from '../support/cli-io';

const DEMO = path.join(__dirname, '..', '..', 'events', 'demo-snapshot');

const io = (overrides: Partial<CliIo> = {}) => captureIo({ env: { AWS_REGION: 'eu-west-1' }, ...overrides });

/** A clock that moves one second each time it is read: every run looks long enough for progress. */
function slowClock(): () => Date {
  let t = Date.parse('2026-11-26T12:00:00Z');
  return () => new Date((t += 1_000));
}

/** Progress lines as the CLI writes them. */
const PROGRESS_LINE = /^[\w, .-]+: (ListClusters|DescribeCluster|ListNodegroups|DescribeNodegroup|DescribeAddon|DescribeSubnets|DescribeNetworkInterfaces|DescribeInstances|DescribeInstanceTypes)( page \d+)?( \([\d,]+ [\w ]+\))?$/;

describe('a live run against an endpoint that never answers', () => {
  let server: HangingServer;
  beforeEach(async () => {
    server = await startHangingServer();
  });
  afterEach(async () => {
    await server.stop();
  });

  it('fails with the call that timed out instead of hanging', async () => {
    const t = io({ env: { AWS_REGION: 'eu-west-1', HTTP_REQUEST_TIMEOUT_MS: '300', EC2_REQUEST_TIMEOUT_MS: '300' } });
    const code = await withEndpoint(server.endpoint, () => main(['report', '--json'], t.cli));
    expect(code).toBe(1);
    // The SDK's TimeoutError carries the code ETIMEDOUT.
    expect(t.err()).toMatch(/^eks-ip-responder: eks:ListClusters in eu-west-1: ETIMEDOUT: .*exceeded the configured 300 ms requestTimeout/m);
    expect(server.requests).toBeGreaterThanOrEqual(1);
  });

  it('names each cluster it could not read, and still prints the report', async () => {
    const t = io({ env: { AWS_REGION: 'eu-west-1', HTTP_REQUEST_TIMEOUT_MS: '300' } });
    await withEndpoint(server.endpoint, () => main(['report', '--clusters', 'payments-prod,search-prod', '--no-forecast'], t.cli));
    for (const name of ['payments-prod', 'search-prod']) {
      expect(t.out()).toMatch(new RegExp(`- ${name}: eks:DescribeCluster for cluster ${name}: ETIMEDOUT: .*exceeded the configured 300 ms requestTimeout`));
    }
  });

  it('with --deadline, aborts the reads still in flight when it passes', async () => {
    // The request timeout is far longer than the test: only the deadline can end these reads.
    const t = io({ env: { AWS_REGION: 'eu-west-1', HTTP_REQUEST_TIMEOUT_MS: '600000' } });
    await withEndpoint(server.endpoint, () => main(['report', '--clusters', 'payments-prod', '--no-forecast', '--deadline', '0.5'], t.cli));
    expect(t.out()).toMatch(/- payments-prod: eks:DescribeCluster for cluster payments-prod: aborted in flight: the --deadline of 0\.5 s passed/);
  });
});

describe('progress of a live run', () => {
  const account = generateAccount({ clusters: 2, nodes: 40, subnetsPerCluster: 3, seed: 11 });

  async function run(argv: string[]) {
    const aws = emulateAccount(account);
    try {
      const t = io({ now: slowClock(), liveSource: (r, options) => new LiveSource({ ec2: aws.ec2, eks: aws.eks }, r, 'all', options), cloudwatch: () => aws.cloudwatch });
      const code = await main(argv, t.cli);
      const lines = t.err().split('\n').filter((l) => PROGRESS_LINE.test(l));
      return { code, lines, t };
    } finally {
      aws.restore();
    }
  }

  it('goes to stderr, per cluster, with the pages and items read', async () => {
    const { code, lines, t } = await run(['report', '--no-forecast']);
    expect(code).toBe(0);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((l) => account.clusters.some((c) => l.startsWith(`${c.name}: `)))).toBe(true);
    expect(lines.some((l) => / page \d+ \([\d,]+ (ENIs|instances|subnets)\)$/.test(l))).toBe(true);
    // Throttled: far fewer lines than reads.
    expect(lines.length).toBeLessThan(20);
    // Only on stderr: the report itself is unchanged.
    expect(t.out()).not.toMatch(PROGRESS_LINE);
  });

  it('is quiet under --json, unless --progress asks for it', async () => {
    const quiet = await run(['report', '--json', '--no-forecast']);
    expect(quiet.code).toBe(0);
    expect(quiet.lines).toEqual([]);
    expect(JSON.parse(quiet.t.out()).usage.clusters).toHaveLength(2);

    const asked = await run(['report', '--json', '--no-forecast', '--progress']);
    expect(asked.code).toBe(0);
    expect(asked.lines.length).toBeGreaterThan(0);
    expect(JSON.parse(asked.t.out()).usage.clusters).toHaveLength(2);
  });

  it('is never shown for a snapshot', async () => {
    const { code, t } = await run(['report', '--snapshot', DEMO, '--progress']);
    expect(code).toBe(0);
    expect(t.err().split('\n').filter((l) => PROGRESS_LINE.test(l))).toEqual([]);
  });
});

describe('liveRunOptions', () => {
  const cli = io().cli;

  it('takes --progress and --deadline out of the arguments, in both spellings', () => {
    const a = liveRunOptions(['--clusters', 'a', '--deadline', '90', '--json', '--progress'], cli);
    expect(a.args).toEqual(['--clusters', 'a', '--json']);
    expect(a.live.deadlineSeconds).toBe(90);
    expect(a.live.onProgress).toBeInstanceOf(Function);
    const b = liveRunOptions(['--deadline=2.5', '--json'], cli);
    expect(b).toEqual({ args: ['--json'], live: { deadlineSeconds: 2.5 } });
  });

  it('shows progress by default, not under --json, never for --snapshot', () => {
    expect(liveRunOptions([], cli).live.onProgress).toBeInstanceOf(Function);
    expect(liveRunOptions(['--json'], cli).live.onProgress).toBeUndefined();
    expect(liveRunOptions(['--snapshot', 'dir', '--progress'], cli).live.onProgress).toBeUndefined();
    expect(liveRunOptions(['--snapshot=dir'], cli).live.onProgress).toBeUndefined();
  });

  it.each([['0'], ['-5'], ['soon'], ['']])('rejects --deadline %j with the usage', async (value) => {
    const t = io();
    expect(await main(['report', '--deadline', value], t.cli)).toBe(2);
    expect(t.err()).toContain('--deadline takes a number of seconds above 0');
    expect(t.err()).toContain('--deadline SECONDS');
  });

  it('leaves the options of other commands to them', async () => {
    const t = io();
    expect(await main(['max-pods', 'm5.large', '--progress'], t.cli)).toBe(2);
    expect(t.err()).toMatch(/Unknown option '--progress'|ERR_PARSE_ARGS_UNKNOWN_OPTION/);
  });
});
