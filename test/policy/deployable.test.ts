import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../lib/cli/main';
import { deployablePolicy } from '../../lib/policy/deployable';
import { remediationPolicy, REMEDIATION_POLICY_MAX_CHARS } from '../../lib/policy/iam';
import { DEFAULT_APPLY_PROBLEM, POLICY_FILE_MAX_BYTES, POLICY_MAX_BYTES, policyJson, policyVersion } from '../../lib/policy/load';
import { readPolicyFile } from '../../lib/policy/yaml';
import { captureIo } from '../support/cli-io';

// What serverless.yml calls at packaging time (`${file(./stack/policy.stack.js):...}`).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const resolveStack = require('../../stack/policy.stack.js') as (context?: {
  policyFile?: string;
}) => Promise<{ json: string; version: string; define: string; remediationPolicy: unknown }>;

const REPO_POLICY = resolve(__dirname, '..', '..', 'policy.yml');
const REPO_TEXT = readFileSync(REPO_POLICY, 'utf8');

/** `count` cluster entries (YAML under `clusters:`), in apply mode or not, each allowing two instance families. */
function clusters(count: number, mode: 'apply' | 'dry-run'): string {
  return Array.from(
    { length: count },
    (_, i) => `  cluster-${String(i).padStart(12, '0')}:\n    mode: ${mode}\n    actions:\n      instanceTypes:\n        allowedTypes: [m6i, m7i]\n`,
  ).join('');
}

const io = () => captureIo({ now: () => new Date('2026-01-01T00:00:00Z') });

describe('`policy check` makes the checks packaging makes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'policy-deployable-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (content: string | Buffer) => {
    const file = join(dir, 'policy.yml');
    writeFileSync(file, content);
    return file;
  };

  /** Packaging's message for `file` (policy.stack.js, as serverless calls it), or undefined when it packages. */
  async function packagingError(file: string): Promise<string | undefined> {
    try {
      await resolveStack({ policyFile: file });
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }

  it('passes the repository policy.yml, which packaging takes, and says how much room is left', async () => {
    const packaged = await resolveStack();
    const t = io();
    expect(await main(['policy', 'check', '--policy', REPO_POLICY], t.cli)).toBe(0);
    expect(t.err()).toBe('');
    expect(t.out()).toContain(`${REPO_POLICY}: valid (1 cluster override(s), default mode dry-run)`);
    expect(t.out()).toMatch(
      new RegExp(`size: ${Buffer.byteLength(packaged.json)} of ${POLICY_MAX_BYTES} bytes compiled into the functions \\(version ${packaged.version}\\); ` +
        `IAM policy remediate up to \\d+ of ${REMEDIATION_POLICY_MAX_CHARS} characters`),
    );
    expect(deployablePolicy(REPO_POLICY)).toEqual({
      policy: readPolicyFile(REPO_POLICY),
      json: packaged.json,
      version: packaged.version,
      remediationPolicy: packaged.remediationPolicy,
    });
  });

  // Each a policy packaging refuses; `policy check` must exit 1 with packaging's very message.
  it.each<[string, () => string | Buffer, RegExp]>([
    // 1,200 clusters in dry-run: the IAM policy is a single Deny, but the JSON is above 64 KB.
    ['compact JSON above POLICY_MAX_BYTES', () => REPO_TEXT + clusters(1200, 'dry-run'),
      /above the 65536 bytes it may take \(it is compiled into each function\); remove cluster overrides that repeat the default or shorten lists$/],
    // 30 clusters in apply mode: a few KB of JSON, but an IAM policy above 6,500 characters.
    ['an IAM policy above REMEDIATION_POLICY_MAX_CHARS', () => REPO_TEXT + clusters(30, 'apply'),
      /the responder's IAM policy for the 30 cluster\(s\) in apply mode .* above the 6500 it may .*: put fewer clusters in apply mode per stack, or list fewer spare subnets$/],
    ['default.mode apply', () => REPO_TEXT.replace(/^(default:\n(?:\s*#.*\n|\s*\n)*\s+mode: )dry-run$/m, '$1apply'),
      new RegExp(`default\\.mode: ${DEFAULT_APPLY_PROBLEM.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(line \\d+\\)$`)],
    ['max pods above 250', () => REPO_TEXT.replace('maxPods: { min: 1, max: 250 }', 'maxPods: { min: 1, max: 251 }'),
      /default\.actions\.prefixDelegation\.maxPods\.max: must be a whole number from 1 to 250, not 251 \(.*\) \(line \d+\)$/],
    ['a 10 MB file', () => Buffer.alloc(10 * 1024 * 1024, '# padding\n'),
      new RegExp(`^[^\\n]*: \\(top level\\): the file is 10485760 bytes, above the ${POLICY_FILE_MAX_BYTES} a policy file may be .*$`)],
    ['a binary file', () => Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00]),
      /^[^\n]*: \(top level\): not a text file \(a NUL byte at offset 7\): a policy is YAML or JSON text in UTF-8; check the path$/],
  ])('refuses %s as packaging does, with its message and how to fix it', async (_name, content, expected) => {
    const file = write(content());
    const packaging = await packagingError(file);
    expect(packaging).toMatch(expected);
    const t = io();
    expect(await main(['policy', 'check', '--policy', file], t.cli)).toBe(1);
    expect(t.err()).toBe(`${packaging}\n`);
    expect(t.out()).toBe('');
  });

  it('names both the JSON size and the IAM size when both are above their bounds, as packaging does', async () => {
    const file = write(REPO_TEXT + clusters(1200, 'apply'));
    const packaging = await packagingError(file);
    expect(packaging?.split('\n')).toEqual([
      `invalid remediation policy ${file} (2 problems):`,
      expect.stringMatching(new RegExp(`^${file}: \\(top level\\): the policy is \\d+ bytes as compact JSON, above the 65536 bytes`)),
      expect.stringMatching(new RegExp(`^${file}: \\(top level\\): the responder's IAM policy for the 1200 cluster\\(s\\) in apply mode`)),
    ]);
    const t = io();
    expect(await main(['policy', 'check', '--policy', file], t.cli)).toBe(1);
    expect(t.err()).toBe(`${packaging}\n`);
  });

  it('takes what packaging takes: 200 dry-run clusters and 9 in apply mode', async () => {
    const file = write(REPO_TEXT + clusters(200, 'dry-run') + clusters(9, 'apply').replace(/cluster-0/g, 'applied-0'));
    const packaged = await resolveStack({ policyFile: file });
    const t = io();
    expect(await main(['policy', 'check', '--policy', file], t.cli)).toBe(0);
    const { json, remediationPolicy: iam } = deployablePolicy(file);
    expect([json, policyVersion(json), iam]).toEqual([packaged.json, packaged.version, packaged.remediationPolicy]);
    expect(iam).toEqual(remediationPolicy(readPolicyFile(file)));
    expect(json).toBe(policyJson(readPolicyFile(file), file));
  });
});
