/**
 * Every bad input ends in a clear one-line error: an SDK error whose message has several lines
 * (an endpoint answering HTTP 500 with an HTML page), a snapshot file whose parser message quotes
 * the file's line breaks, the same failure of two reads, and empty names on the command line.
 */
import { promises as fs } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { LiveSource } from '../../lib/aws/live-source';
import { EXIT_INCOMPLETE, main } from '../../lib/cli/main';
import { logCycleHealth } from '../../lib/cycle';
import { awsCallError } from '../../lib/errors';
import { collectInventory, problemOf } from '../../lib/inventory/collect';
import { measure } from '../../lib/measure/measure';
import { listenLocal } from '../../tools/local-server';
import { emulateAccount } from '../../tools/mock-aws';
import { generateAccount } from '../../tools/synthetic-account';
import { captureIo } from '../support/cli-io';

const DEMO = path.join(__dirname, '..', '..', 'events', 'demo-snapshot');

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});
async function demoCopy(damage: (dir: string) => Promise<void>): Promise<string> {
  const root = await fs.mkdtemp(path.join(tmpdir(), 'one-line-'));
  dirs.push(root);
  const dir = path.join(root, 'snap');
  await fs.cp(DEMO, dir, { recursive: true });
  await damage(dir);
  return dir;
}

/** The stderr notes of a run: each line must be a note of its own, not the rest of one. */
const noteLines = (err: string): string[] => err.trimEnd().split('\n');

/**
 * What the SDK throws when an endpoint answers 500 with an HTML page: a SyntaxError whose message
 * has a second line, "Deserialization error: …". Made by a real EKS client against a real server.
 */
async function htmlAnswerError(): Promise<Error> {
  const local = await listenLocal(
    createServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end('<html>\n<body>Internal Server Error</body>\n</html>\n');
    }),
  );
  try {
    const eks = new EKSClient({ region: 'eu-west-1', endpoint: local.endpoint, maxAttempts: 1, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
    const err = await eks.send(new DescribeClusterCommand({ name: 'x' })).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    if (!err) throw new Error('the HTML endpoint answered');
    return err;
  } finally {
    await local.stop();
  }
}

describe('an SDK error of several lines', () => {
  it('is one line in the CLI note, the report, --json and a capture\'s failed-reads.json', async () => {
    const html = await htmlAnswerError();
    // The input the test is about: without the fix, each output below would have this line break.
    expect(html.message).toMatch(/is not valid JSON\n\s+Deserialization error/);

    const account = generateAccount({ clusters: 2, nodes: 6, subnetsPerCluster: 2, seed: 3 });
    const [c1, c2] = account.clusters.map((c) => c.name ?? '') as [string, string];
    const aws = emulateAccount(account);
    aws.faults['DescribeAddon'] = (input) => (input['clusterName'] === c1 ? html : undefined);
    aws.faults['DescribeCluster'] = (input) => (input['name'] === c2 ? html : undefined);
    const root = await fs.mkdtemp(path.join(tmpdir(), 'one-line-capture-'));
    dirs.push(root);
    const dir = path.join(root, 'snap');
    try {
      const live = (r: string) => new LiveSource({ ec2: aws.ec2, eks: aws.eks }, r);
      const cap = captureIo({ env: { AWS_REGION: 'eu-west-1' }, liveSource: live });
      expect(await main(['capture', '--out', dir], cap.cli)).toBe(EXIT_INCOMPLETE);
      expect(noteLines(cap.err())).toEqual([
        expect.stringMatching(new RegExp(`^note: ${c2}: could not be sampled: eks:DescribeCluster .*: SyntaxError: .*is not valid JSON Deserialization error: to see the raw response`)),
        expect.stringMatching(new RegExp(`^note: ${c1}: data incomplete \\(nothing acts on it\\): eks:DescribeAddon .*is not valid JSON Deserialization error: to see the raw response`)),
      ]);
      const failed = JSON.parse(await fs.readFile(path.join(dir, 'failed-reads.json'), 'utf8')) as { failedReads: { error: { message: string } }[] };
      expect(failed.failedReads.length).toBeGreaterThanOrEqual(2);
      for (const r of failed.failedReads) {
        expect(r.error.message).not.toMatch(/\n/);
        expect(r.error.message).toContain('is not valid JSON Deserialization error');
      }

      const text = captureIo({ env: { AWS_REGION: 'eu-west-1' }, liveSource: live });
      await main(['report', '--no-forecast'], text.cli);
      const bullets = text.out().split('\n').filter((l) => /Deserialization error/.test(l));
      expect(bullets.length).toBeGreaterThan(0);
      for (const l of bullets) expect(l).toMatch(/is not valid JSON Deserialization error: to see the raw response, inspect the hidden field \{error\}\.\$response on this object\.( \(\d+ reads\))?\)?/);
      expect(text.out()).not.toMatch(/\n\s+Deserialization error/);

      const json = captureIo({ env: { AWS_REGION: 'eu-west-1' }, liveSource: live });
      await main(['report', '--json', '--no-forecast'], json.cli);
      const report = JSON.parse(json.out());
      const problems = [
        ...report.usage.clusters.flatMap((c: { problems: { message: string }[] }) => c.problems),
        ...report.usage.failedClusters.map((f: { problem: { message: string } }) => f.problem),
      ];
      expect(problems.length).toBeGreaterThanOrEqual(2);
      for (const p of problems) {
        expect(p.message).not.toMatch(/\n/);
        // The cause is for logs only: not in the JSON.
        expect(Object.keys(p)).not.toContain('cause');
      }
    } finally {
      aws.restore();
    }
  });
});

describe('a problem made from an error', () => {
  it('says it on one line and keeps the error whole as its cause, for the logs only', async () => {
    const html = await htmlAnswerError();
    const err = awsCallError('eks:DescribeAddon', 'vpc-cni for cluster prod', html);
    expect(err.message).toMatch(/\n/);
    const p = problemOf('eks:DescribeAddon', err, { part: 'cni' });
    expect(p).toEqual({
      source: 'eks:DescribeAddon',
      code: 'SyntaxError',
      message: `eks:DescribeAddon vpc-cni for cluster prod: SyntaxError: ${html.message.replace(/\s+/g, ' ')}`,
      unread: { part: 'cni' },
    });
    expect(p.cause).toBe(err);
    expect(JSON.parse(JSON.stringify(p))).not.toHaveProperty('cause');

    // The cycle's log of an incomplete cluster carries it.
    const warn = jest.fn();
    const logger = { warn, error: jest.fn(), info: jest.fn() } as unknown as Parameters<typeof logCycleHealth>[0];
    const account = generateAccount({ clusters: 1, nodes: 2, subnetsPerCluster: 1, seed: 5 });
    const aws = emulateAccount(account);
    aws.faults['DescribeAddon'] = () => html;
    try {
      const usage = measure(await collectInventory(new LiveSource({ ec2: aws.ec2, eks: aws.eks }, 'eu-west-1'), { clusterNames: [], concurrency: 1, now: new Date() }));
      logCycleHealth(logger, { usage, problems: [] });
    } finally {
      aws.restore();
    }
    const [, attributes] = warn.mock.calls.find(([message]) => message === 'cluster data incomplete') ?? [];
    const logged = (attributes as { problems: { message: string; cause?: Error }[] } | undefined)?.problems[0];
    expect(logged?.message).not.toMatch(/\n/);
    expect(logged?.cause?.message).toMatch(/\n\s+Deserialization error/);
  });
});

describe('a snapshot file that does not parse, whose parser message quotes its line breaks', () => {
  it('is one line in the note and in the report\'s "Incomplete data"', async () => {
    const dir = await demoCopy((d) => fs.writeFile(path.join(d, 'ec2/describe-network-interfaces.json'), 'oops\nthis is\nnot JSON\n'));
    // What the parser says, for the record: its message has the file's line breaks in it.
    expect(() => JSON.parse('oops\nthis is\nnot JSON\n')).toThrow(/\n/);
    const t = captureIo();
    expect(await main(['report', '--snapshot', dir], t.cli)).toBe(EXIT_INCOMPLETE);
    expect(noteLines(t.err())).toEqual([
      expect.stringMatching(/^note: payments-prod: data incomplete \(nothing acts on it\): ec2\/describe-network-interfaces\.json: malformed JSON: Unexpected token 'o', "oops this "\.\.\. is not valid JSON$/),
      expect.stringMatching(/^note: batch-dev: data incomplete /),
      expect.stringMatching(/^note: search-auto: data incomplete /),
      expect.stringMatching(/^note: events-karpenter: data incomplete /),
      expect.stringMatching(/^note: ml-ipv6: data incomplete /),
      expect.stringMatching(/^note: events-consumers: data incomplete /),
    ]);
    const bullets = t.out().split('\n').filter((l) => l.startsWith('    - ec2:DescribeNetworkInterfaces: '));
    expect(bullets).toHaveLength(6);
    for (const l of bullets) expect(l).toMatch(/malformed JSON: .* is not valid JSON$/);
  });
});

describe('one failure of two reads (the subnets by id and by tag, from one truncated file)', () => {
  it('is named once in the note, with the count, as in the report', async () => {
    const dir = await demoCopy(async (d) => {
      const file = path.join(d, 'ec2/describe-subnets.json');
      await fs.writeFile(file, (await fs.readFile(file, 'utf8')).slice(0, 3000));
    });
    const t = captureIo();
    expect(await main(['report', '--snapshot', dir], t.cli)).toBe(EXIT_INCOMPLETE);
    for (const line of noteLines(t.err())) {
      const message = /(ec2\/describe-subnets\.json: malformed JSON: [^;]*?)(?: \(2 reads\))?(?:;|$)/.exec(line)?.[1];
      expect(message).toBeDefined();
      expect(line.split(message ?? '').length - 1).toBe(1);
      expect(line).toContain(`${message} (2 reads)`);
    }
  });
});

describe('empty names on the command line', () => {
  it.each([
    [['--clusters', ','], '--clusters ",": names 1, 2 of 2 are empty'],
    [['--clusters', 'payments-prod,,batch-dev'], '--clusters "payments-prod,,batch-dev": name 2 of 3 is empty'],
    [['--clusters', ''], '--clusters "": name 1 of 1 is empty'],
    [['--clusters', 'payments-prod, '], '--clusters "payments-prod, ": name 2 of 2 is empty'],
  ])('%j is a usage error naming the empty name, not every cluster', async (argv, expected) => {
    for (const command of [['report', '--snapshot', DEMO], ['plan', '--snapshot', DEMO]]) {
      const t = captureIo();
      expect(await main([...command, ...argv], t.cli)).toBe(2);
      expect(t.out()).toBe('');
      expect(t.err().split('\n')[0]).toBe(
        `eks-ip-responder: ${expected}; give cluster names separated by commas (a,b), or leave --clusters out for every cluster`,
      );
    }
  });

  it('still takes a list of names with spaces around them', async () => {
    const t = captureIo();
    expect(await main(['report', '--snapshot', DEMO, '--clusters', ' batch-dev , payments-prod'], t.cli)).toBe(0);
    expect(t.out().split('\n')[1]).toBe('2 cluster(s) sampled, 0 failed');
  });

  it.each([[['']], [['m5.large', ' ']]])('max-pods %j is a usage error, not "unknown instance type: "', async (types) => {
    const t = captureIo();
    expect(await main(['max-pods', ...types], t.cli)).toBe(2);
    expect(t.out()).toBe('');
    expect(t.err().split('\n')[0]).toBe(`eks-ip-responder: max-pods: instance type ${types.length} of ${types.length} is an empty name; give names like m5.large`);
    expect(t.err()).not.toContain('unknown instance type');
  });
});
