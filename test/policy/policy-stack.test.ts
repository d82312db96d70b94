import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { policyVersion } from '../../lib/policy/load';
import { parsePolicy, readPolicyFile } from '../../lib/policy/yaml';

// What serverless.yml calls at packaging time: `${file(./stack/policy.stack.js):define}` (the
// policy compiled into the functions) and `:version` (POLICY_VERSION).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const resolveStack = require('../../stack/policy.stack.js') as (context?: {
  policyFile?: string;
}) => Promise<{ json: string; version: string; define: string }>;
const resolvePolicy = async (context?: { policyFile?: string }): Promise<string> => (await resolveStack(context)).json;

const REPO_POLICY = resolve(__dirname, '..', '..', 'policy.yml');

describe('policy.stack.js', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'policy-stack-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    delete process.env['POLICY_FILE'];
  });

  it('returns the repository policy as compact JSON that parsePolicy accepts', async () => {
    const json = await resolvePolicy();
    expect(typeof json).toBe('string');
    expect(json).not.toContain('\n');
    expect(parsePolicy(json, 'POLICY_JSON')).toEqual(readPolicyFile(REPO_POLICY));
  });

  it('gives the version of that JSON and the JSON as the string literal esbuild defines', async () => {
    const { json, version, define } = await resolveStack();
    expect(version).toBe(policyVersion(json));
    expect(version).toMatch(/^[0-9a-f]{12}$/);
    // esbuild's define takes a JavaScript expression: a string literal evaluating to the JSON.
    expect(JSON.parse(define)).toBe(json);
  });

  it('reads POLICY_FILE when set, and throws naming every problem of an invalid file', async () => {
    const file = join(dir, 'policy.yml');
    writeFileSync(
      file,
      readFileSync(REPO_POLICY, 'utf8')
        .replace('mode: dry-run\n\n', 'mode: dryrun\n\n')
        .replace('maxSubnetsPerAction: 3', 'maxSubnetsPerAction: -1'),
    );
    process.env['POLICY_FILE'] = file;
    const failure = resolvePolicy();
    await expect(failure).rejects.toThrow(/\(2 problems\)/);
    await expect(failure).rejects.toThrow(`${file}: default.mode: must be one of observe, dry-run, apply, not "dryrun"`);
    await expect(failure).rejects.toThrow(`${file}: default.actions.cniSubnets.maxSubnetsPerAction: must be a whole number from 1 to 200, not -1`);
  });

  it('takes the file from its argument too', async () => {
    const file = join(dir, 'policy.yml');
    writeFileSync(file, readFileSync(REPO_POLICY, 'utf8').replace('allowedTypes: [m5, m6i, m7i]', 'allowedTypes: [m5, m6i, m7i, c7gn]'));
    const policy = parsePolicy(await resolvePolicy({ policyFile: file }), 'POLICY_JSON');
    expect(policy.clusters['payments-prod']?.actions?.instanceTypes?.allowedTypes).toEqual(['m5', 'm6i', 'm7i', 'c7gn']);
  });

  it('takes a policy far beyond what 4 KB of environment would hold (200 clusters)', async () => {
    const file = join(dir, 'policy.yml');
    const clusters = Array.from({ length: 200 }, (_, i) => `  cluster-${i}:\n    actions:\n      instanceTypes:\n        allowedTypes: [m5, m6i, m7i, c6i, c7i, r6i]\n`).join('');
    writeFileSync(file, readFileSync(REPO_POLICY, 'utf8') + clusters);
    const json = await resolvePolicy({ policyFile: file });
    expect(json.length).toBeGreaterThan(4096 * 4);
    expect(Object.keys(parsePolicy(json, 'POLICY_JSON').clusters)).toHaveLength(201);
  });

  it('throws when the policy is above its bound (a runaway file)', async () => {
    const file = join(dir, 'policy.yml');
    const clusters = Array.from({ length: 1200 }, (_, i) => `  cluster-${i}:\n    actions:\n      instanceTypes:\n        allowedTypes: [m5, m6i, m7i, c6i, c7i, r6i]\n`).join('');
    writeFileSync(file, readFileSync(REPO_POLICY, 'utf8') + clusters);
    await expect(resolvePolicy({ policyFile: file })).rejects.toThrow(/bytes as compact JSON, above the 65536 bytes/);
  });
});
