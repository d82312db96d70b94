/**
 * When the stack project's globalSetup (test/stack/global-setup.ts) packages before the stack
 * tests: the rule, on a service directory of its own (this file is not in the stack project, so
 * that running it packages nothing).
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { whyPackage } from './stack/global-setup';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'stack-package-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Writes `path` under the root with its mtime at `minute` minutes past a fixed time. */
function file(path: string, minute: number): void {
  const at = new Date(Date.UTC(2026, 10, 26, 12, minute));
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), 'x');
  utimesSync(join(root, path), at, at);
}

/** A service packaged at minute 10 from sources of minute 5. */
function packaged(): void {
  for (const source of ['serverless.yml', 'policy.yml', 'package.json', 'package-lock.json', 'lib/a.ts', 'handlers/sample.ts', 'resources/topic.yml', 'stack/policy.stack.js']) file(source, 5);
  for (const output of ['cloudformation-template-update-stack.json', 'sample.zip', 'respond.zip']) file(`.serverless/${output}`, 10);
}

describe('whyPackage', () => {
  it('answers nothing for a package newer than every source', () => {
    packaged();
    expect(whyPackage(root)).toBeUndefined();
  });

  it('names the missing template', () => {
    expect(whyPackage(root)).toBe('.serverless/cloudformation-template-update-stack.json is missing');
  });

  it('names a package without a function zip', () => {
    file('serverless.yml', 5);
    file('.serverless/cloudformation-template-update-stack.json', 10);
    expect(whyPackage(root)).toBe('.serverless holds no function zip');
  });

  it.each(['serverless.yml', 'policy.yml', 'package-lock.json', 'lib/a.ts', 'lib/deep/down/b.ts', 'handlers/sample.ts', 'resources/topic.yml', 'stack/policy.stack.js'])(
    'names %s when it changed after packaging',
    (source) => {
      packaged();
      file(source, 15);
      expect(whyPackage(root)).toBe(`${source} is newer than .serverless`);
    },
  );

  it('compares with the oldest output: a zip older than a source is stale even if the template is not', () => {
    packaged();
    file('lib/a.ts', 7);
    file('.serverless/respond.zip', 6);
    expect(whyPackage(root)).toBe('lib/a.ts is newer than .serverless');
  });

  it('ignores what the package is not made from (tests, docs)', () => {
    packaged();
    file('test/x.test.ts', 20);
    file('docs/x.md', 20);
    expect(whyPackage(root)).toBeUndefined();
  });
});
