/**
 * bin/eks-ip-responder.js as a user runs it: the CLI bundled as `npm run build:cli` bundles it,
 * in a fresh node. A live run against a closed port (it fails at once) builds the SDK's clients,
 * which on Node.js < 22 warn in 8 lines: the run says it in one line instead, once.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
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
  await build({ entryPoints: [join(ROOT, 'lib', 'cli', 'main.ts')], bundle: true, platform: 'node', target: 'node20', packages: 'external', logLevel: 'warning', outfile: join(dir, 'dist', 'cli.js') });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  const env = { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' };
  try {
    const { stderr } = await promisify(execFile)(process.execPath, [join(dir, 'bin', 'eks-ip-responder.js'), ...args], { env, encoding: 'utf8' });
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
