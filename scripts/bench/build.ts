/**
 * Builds for the bench: the child process bundled with the functions' own esbuild options
 * (serverless.yml custom.esbuild), so that it runs the code the way Lambda does, and the
 * functions' bundles analysed with esbuild's metafile.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { parse as parseYaml } from 'yaml';

export const ROOT = path.resolve(__dirname, '..', '..');

/**
 * The esbuild options of serverless.yml's custom.esbuild block that esbuild itself takes, with
 * its `define` resolved as osls resolves it: a `${file(./x.js):key}` value is that module's
 * answer's `key` (stack/policy.stack.js: the policy compiled in).
 */
export async function functionBuildOptions(): Promise<BuildOptions> {
  const doc = parseYaml(readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
    custom?: { esbuild?: Record<string, unknown> };
  };
  const e = doc.custom?.esbuild ?? {};
  const keys = ['bundle', 'minify', 'minifyWhitespace', 'minifyIdentifiers', 'minifySyntax', 'keepNames', 'target', 'platform', 'mainFields', 'conditions', 'external', 'treeShaking', 'legalComments', 'drop', 'define'];
  const out: Record<string, unknown> = {};
  for (const k of keys) if (e[k] !== undefined) out[k] = e[k];
  // serverless-esbuild requires `plugins` (a path) and passes what it exports to esbuild.
  if (typeof e['plugins'] === 'string') out['plugins'] = (await import(path.join(ROOT, e['plugins']))).default as unknown;
  // serverless-esbuild passes `exclude` to esbuild as external (and packages none of it).
  if (Array.isArray(e['exclude'])) out['external'] = [...((out['external'] as string[] | undefined) ?? []), ...(e['exclude'] as string[])];
  if (out['define']) {
    const define: Record<string, string> = {};
    for (const [name, value] of Object.entries(out['define'] as Record<string, string>)) {
      const ref = /^\$\{file\((.+)\):(\w+)\}$/.exec(value);
      if (!ref) {
        define[name] = value;
        continue;
      }
      const mod = (await import(path.join(ROOT, ref[1]!))) as { default: (ctx?: unknown) => Promise<Record<string, unknown>> };
      const answer = await mod.default();
      define[name] = String(answer[ref[2]!]);
    }
    out['define'] = define;
  }
  return out as BuildOptions;
}

/** Bundles a bench child (default the cycle child) into `outfile`: the functions' options, unminified, with a source map (for --cpu-prof). */
export async function buildChild(outfile: string, entry = 'scripts/bench/cycle-child.ts'): Promise<void> {
  const fn = await functionBuildOptions();
  await build({
    ...fn,
    entryPoints: [path.join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    minify: false,
    keepNames: true,
    sourcemap: 'linked',
    // dynalite runs in the parent; the child only talks to it.
    external: [...(fn.external ?? []), 'dynalite'],
    logLevel: 'error',
  });
}

export interface BundleBreakdown {
  bytes: number;
  /** Output bytes by package (node_modules) or by lib/ folder, largest first. */
  byOrigin: [string, number][];
}

/** A function's bundle as serverless-esbuild builds it (same options), in memory, with its metafile. */
export async function analyseBundle(entry: string, extra: BuildOptions = {}): Promise<BundleBreakdown> {
  const r = await build({
    ...(await functionBuildOptions()),
    ...extra,
    entryPoints: [path.join(ROOT, entry)],
    outfile: '/tmp/eks-ip-bench/analyse.js',
    write: false,
    metafile: true,
    sourcemap: false,
    logLevel: 'error',
  });
  const meta: Metafile = r.metafile;
  const out = Object.values(meta.outputs).find((o) => o.entryPoint);
  if (!out) throw new Error(`no output for ${entry}`);
  const by = new Map<string, number>();
  for (const [file, v] of Object.entries(out.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    const key = m?.[1] ?? (file.startsWith('lib/') ? file.split('/').slice(0, 2).join('/') + (file.endsWith('.json') ? ` (${path.basename(file)})` : '') : file);
    by.set(key, (by.get(key) ?? 0) + v.bytesInOutput);
  }
  return { bytes: out.bytes, byOrigin: [...by.entries()].sort((a, b) => b[1] - a[1]) };
}
