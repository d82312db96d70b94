/**
 * Cold-start figures of the deployed functions: the size of each bundle in its zip (the .js,
 * not the .map), and the time a fresh node process takes to require it (its module scope runs:
 * configuration parsed, clients built), with the environment the stack gives it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './build';
import { benchEnv } from './runtime';

export const FUNCTIONS = ['sample', 'respond'] as const;
const SOURCES = ['handlers', 'lib', 'stack', 'resources', 'package.json', 'package-lock.json', 'serverless.yml', 'policy.yml'];

function newestMtime(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const e of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

/** Packages the stack (`serverless package`) when a zip is missing or older than the sources; says whether it did. */
export function ensurePackaged(): { packaged: boolean; seconds: number } {
  const sources = Math.max(...SOURCES.map((s) => newestMtime(path.join(ROOT, s))));
  const zips = FUNCTIONS.map((f) => path.join(ROOT, '.serverless', `${f}.zip`));
  const stale = zips.some((z) => {
    try {
      return statSync(z).mtimeMs < sources;
    } catch {
      return true;
    }
  });
  if (!stale) return { packaged: false, seconds: 0 };
  const t0 = Date.now();
  const r = spawnSync('npx', ['serverless', 'package', '--stage', 'test', '--region', 'eu-west-1'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`serverless package failed:\n${r.stdout}\n${r.stderr}`);
  return { packaged: true, seconds: (Date.now() - t0) / 1000 };
}

export interface FunctionColdStart {
  name: string;
  jsBytes: number;
  mapBytes: number;
  zipBytes: number;
  /** require() of the handler module, ms, median of 5 fresh processes: as deployed (NODE_OPTIONS=--enable-source-maps) and without. */
  requireMs: number;
  requireMsNoSourceMaps: number;
  /** RSS of the fresh process after the require (MB). */
  rssAfterRequire: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Unzips each function and times the require of its handler in fresh processes. */
export function measureColdStarts(workDir: string): FunctionColdStart[] {
  const policy = readFileSync(path.join(ROOT, 'policy.yml'), 'utf8');
  return FUNCTIONS.map((name) => {
    const zip = path.join(ROOT, '.serverless', `${name}.zip`);
    const dir = path.join(workDir, `zip-${name}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync('unzip', ['-q', '-o', zip, '-d', dir]);
    const js = path.join(dir, 'handlers', `${name}.js`);
    const script = `const t0 = process.hrtime.bigint(); require(${JSON.stringify(js)}); const ms = Number(process.hrtime.bigint() - t0) / 1e6; process.stdout.write(JSON.stringify({ ms, rss: process.memoryUsage().rss }));`;
    const time = (sourceMaps: boolean): { ms: number; rss: number }[] =>
      Array.from({ length: 5 }, () => {
        const env: NodeJS.ProcessEnv = {
          PATH: process.env.PATH,
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'AKIDBENCH',
          AWS_SECRET_ACCESS_KEY: 'bench',
          ...benchEnv('eks-ip-responder-bench-ledger', policy),
          ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
        };
        // stderr dropped: the SDK's Node-version notice would print once per process.
        const out = execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        return JSON.parse(out) as { ms: number; rss: number };
      });
    const deployed = time(true);
    const plain = time(false);
    return {
      name,
      jsBytes: statSync(js).size,
      mapBytes: statSync(`${js}.map`).size,
      zipBytes: statSync(zip).size,
      requireMs: median(deployed.map((r) => r.ms)),
      requireMsNoSourceMaps: median(plain.map((r) => r.ms)),
      rssAfterRequire: median(deployed.map((r) => r.rss)) / 2 ** 20,
    };
  });
}

/** Unzips a function's bundle into `<workDir>/zip-<name>`; returns its handler's path. */
export function unzipFunction(workDir: string, name: (typeof FUNCTIONS)[number]): string {
  const dir = path.join(workDir, `zip-${name}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('unzip', ['-q', '-o', path.join(ROOT, '.serverless', `${name}.zip`), '-d', dir]);
  return path.join(dir, 'handlers', `${name}.js`);
}
