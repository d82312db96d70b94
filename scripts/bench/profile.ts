/** Summarises a V8 .cpuprofile of the bundled bench child, or of a deployed bundle: self time by source module and by function. */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** The `top` heaviest entries of a self-time tally (µs), one line each: ms and share of `total`. */
function heaviest(m: Map<string, number>, total: number, top: number): string {
  return [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => `  ${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`)
    .join('\n');
}

/** Self time by module (from esbuild's `// path` markers in the unminified bundle) and by function. */
export function summariseProfile(file: string, bundle: string, top: number): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const lines = readFileSync(bundle, 'utf8').split('\n');
  const moduleAt: string[] = [];
  let current = '(bundle prelude)';
  lines.forEach((line, i) => {
    const m = /^\/\/ ((?:node_modules|lib|handlers|scripts|test)\/\S+)$/.exec(line);
    if (m?.[1]) current = m[1];
    moduleAt[i] = current;
  });
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const byModule = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const cf = nodes.get(id)!.callFrame;
    total += us;
    const mod = cf.url.endsWith(bundle.split('/').pop()!) ? (moduleAt[cf.lineNumber] ?? '?') : `(${cf.functionName || cf.url || 'native'})`;
    const fn = `${cf.functionName || '(anonymous)'}  ${mod}`;
    byModule.set(mod, (byModule.get(mod) ?? 0) + us);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  return `total ${(total / 1000).toFixed(0)} ms\nby module:\n${heaviest(byModule, total, top)}\nby function (self time):\n${heaviest(byFunction, total, top)}`;
}

/**
 * Self time by package and by function of a V8 .cpuprofile of a deployed (minified) bundle,
 * placed through its source map (`<bundle>.map`); V8's own entries (GC, idle) by their names.
 */
export function summariseDeployedProfile(file: string, bundle: string, top: number): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: (ProfileNode & { callFrame: { columnNumber: number } })[]; samples: number[]; timeDeltas: number[] };
  const map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as never);
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  const bundleName = path.basename(bundle);
  for (const [id, us] of self) {
    const cf = nodes.get(id)!.callFrame;
    total += us;
    let pkg = `(${cf.functionName || cf.url || 'native'})`;
    let fn = pkg;
    if (cf.url.endsWith(bundleName)) {
      const e = map.findEntry(cf.lineNumber, cf.columnNumber) as { originalSource?: string; name?: string; originalLine?: number };
      const source = e.originalSource ?? '?';
      const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?:.*\/)?([^/]+)$/.exec(source);
      pkg = inModules ? inModules[1]! : 'eks-ip-responder (lib, handlers)';
      const where = inModules ? `${inModules[1]}/${inModules[2]}` : source.replace(/^(\.\.\/)+/, '');
      fn = `${e.name ?? (cf.functionName || '(anonymous)')}  ${where}:${(e.originalLine ?? 0) + 1}`;
    }
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  return `total ${(total / 1000).toFixed(0)} ms (the whole process: load, cycle, idle while waiting on the network)\nby package:\n${heaviest(byPackage, total, top)}\nby function (self time):\n${heaviest(byFunction, total, top)}`;
}
