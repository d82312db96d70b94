/**
 * bin/eks-ip-responder.js as a user runs it: the CLI bundled as `npm run build:cli` bundles it,
 * in a fresh node. A live run against a closed port (it fails at once) builds the SDK's clients,
 * which on Node.js < 22 warn in 8 lines: the run says it in one line instead, once. The offline
 * commands and the runs over a snapshot load no @aws-sdk module at all (lib/cli/main.ts imports the
 * SDK lazily, and the cycle is given its adapters: lib/cycle.ts imports none).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { nodeVersionNote } from '../../lib/cli/node-version';

const ROOT = join(__dirname, '..', '..');
let dir: string;

beforeAll(async () => {
  // A copy of bin/ beside its own dist/cli.js, so the repository's dist/ is left alone.
  dir = mkdtempSync(join(tmpdir(), 'eks-ip-responder-bin-'));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(ROOT, 'bin', 'eks-ip-responder.js'), join(dir, 'bin', 'eks-ip-responder.js'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  // package.json's build:cli.
  // Preloaded with --require: writes the @aws-sdk modules the run required to $SDK_LOADS at exit.
  writeFileSync(
    join(dir, 'record-sdk.js'),
    `const Module = require('node:module');
const load = Module._load;
const seen = new Set();
Module._load = function (request, ...rest) {
  if (request.startsWith('@aws-sdk/')) seen.add(request);
  return load.call(this, request, ...rest);
};
process.on('exit', () => require('node:fs').writeFileSync(process.env.SDK_LOADS, JSON.stringify([...seen])));
`,
  );
  await build({ entryPoints: [join(ROOT, 'lib', 'cli', 'main.ts')], bundle: true, platform: 'node', target: 'node20', packages: 'external', logLevel: 'warning', outfile: join(dir, 'dist', 'cli.js') });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[], nodeArgs: string[] = [], extraEnv: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  const env = { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1', ...extraEnv };
  try {
    const { stderr } = await promisify(execFile)(process.execPath, [...nodeArgs, join(dir, 'bin', 'eks-ip-responder.js'), ...args], { env, encoding: 'utf8', cwd: ROOT });
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? '' };
  }
}

describe('bin/eks-ip-responder.js', () => {
  it("says the SDK's Node.js version warning in one line, once, on a live run", async () => {
    const { code, stderr } = await run(['report', '--region', 'eu-west-1']);
    expect(code).toBe(1);
    expect(stderr).not.toContain('NodeVersionSupportWarning');
    const note = nodeVersionNote(process.version);
    const lines = stderr.split('\n').filter((l) => l.length > 0);
    expect(lines).toEqual([...(note ? [note.trimEnd()] : []), expect.stringMatching(/^eks-ip-responder: .*ECONNREFUSED/)]);
  });

  it('says nothing of it on a run that builds no client', async () => {
    const { code, stderr } = await run(['max-pods', 'm5.large']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
  });
});

/** The @aws-sdk modules a run of the CLI required, and its exit code. */
async function sdkLoads(args: string[]): Promise<{ code: number; loaded: string[] }> {
  const file = join(dir, `sdk-loads-${Math.random().toString(36).slice(2)}.json`);
  const { code } = await run(args, ['--require', join(dir, 'record-sdk.js')], { SDK_LOADS: file });
  return { code, loaded: JSON.parse(readFileSync(file, 'utf8')) as string[] };
}

describe('the offline commands', () => {
  it.each([
    [['max-pods', 'm5.large']],
    [['max-pods', '--all', '--json']],
    [['policy', 'check', '--policy', join(ROOT, 'policy.yml')]],
    [['policy', 'show', '--default']],
    [['--version']],
    [['report', '--help']],
    // A snapshot run: the whole cycle (collect to output, the planners too), no AWS.
    [['report', '--snapshot', 'events/demo-snapshot']],
    [['report', '--snapshot', 'events/demo-snapshot', '--json']],
    [['plan', '--snapshot', 'events/demo-snapshot']],
  ])('%j loads no @aws-sdk module', async (args) => {
    expect(await sdkLoads(args)).toEqual({ code: 0, loaded: [] });
  });

  it('while a live run does (the recording sees the SDK when it is loaded)', async () => {
    const { code, loaded } = await sdkLoads(['report', '--region', 'eu-west-1']);
    expect(code).toBe(1);
    expect(loaded).toEqual(expect.arrayContaining(['@aws-sdk/client-eks', '@aws-sdk/client-ec2']));
  });
});
