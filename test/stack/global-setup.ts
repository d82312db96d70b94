/**
 * The stack project's globalSetup (jest.config.js): the stack tests read what `npm run package`
 * writes in .serverless/ (the template, the functions' zips). When that is missing or older than
 * what it is packaged from, this runs `npm run package` first, so that `npx jest` alone tests the
 * stack of the sources in the tree. `npm test` packages before jest: this then finds it fresh.
 *
 * It never throws (a globalSetup that throws stops the whole run, the other projects too): if
 * packaging fails, it leaves a one-line problem in STACK_PACKAGE_PROBLEM, and
 * test/stack/setup-package.ts fails each stack suite with it. STACK_TEMPLATE set (a template
 * packaged elsewhere, test/stack/template.ts) skips all of it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
/** What `serverless package` reads (the list scripts/bench/cold-start.ts packages on too). */
const SOURCES = ['serverless.yml', 'resources', 'stack', 'handlers', 'lib', 'policy.yml', 'package.json', 'package-lock.json'];
/** The variable that carries a packaging failure to the test files (workers inherit it). */
export const PROBLEM_VARIABLE = 'STACK_PACKAGE_PROBLEM';

/** The newest file under `path` (itself if a file), or undefined if there is none. */
function newest(path: string): { path: string; mtimeMs: number } | undefined {
  if (!existsSync(path)) return undefined;
  const st = statSync(path);
  if (!st.isDirectory()) return { path, mtimeMs: st.mtimeMs };
  let best: { path: string; mtimeMs: number } | undefined;
  for (const entry of readdirSync(path)) {
    const found = newest(join(path, entry));
    if (found && (!best || found.mtimeMs > best.mtimeMs)) best = found;
  }
  return best;
}

/** Why .serverless/ must be packaged again, or undefined when it is up to date. */
export function whyPackage(root = ROOT): string | undefined {
  const out = join(root, '.serverless');
  const template = join(out, 'cloudformation-template-update-stack.json');
  if (!existsSync(template)) return `${relative(root, template)} is missing`;
  const outputs = [template, ...readdirSync(out).filter((f) => f.endsWith('.zip')).map((f) => join(out, f))];
  if (outputs.length === 1) return `${relative(root, out)} holds no function zip`;
  const oldest = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  const sources = SOURCES.map((s) => newest(join(root, s))).filter((s) => s !== undefined);
  const changed = sources.reduce<{ path: string; mtimeMs: number } | undefined>((a, b) => (!a || b.mtimeMs > a.mtimeMs ? b : a), undefined);
  return changed && changed.mtimeMs > oldest ? `${relative(root, changed.path)} is newer than ${relative(root, out)}` : undefined;
}

export default function globalSetup(): void {
  if (process.env['STACK_TEMPLATE']) return;
  const why = whyPackage();
  if (!why) return;
  process.stderr.write(`stack tests: ${why}: running \`npm run package\`...\n`);
  const started = process.hrtime.bigint();
  const run = spawnSync('npm', ['run', '--silent', 'package'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (run.status === 0) {
    process.stderr.write(`stack tests: packaged in ${seconds.toFixed(1)} s\n`);
    return;
  }
  const lines = `${run.stderr ?? ''}\n${run.stdout ?? ''}`.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const cause = run.error ? run.error.message : (lines.find((l) => /error/i.test(l)) ?? lines[0] ?? `exit ${String(run.status)}`);
  process.env[PROBLEM_VARIABLE] = `the stack tests need .serverless/ (${why}) and \`npm run package\` failed: ${cause}: run \`npm run package\` to see why`;
  process.stderr.write(`${process.env[PROBLEM_VARIABLE]}\n`);
}
