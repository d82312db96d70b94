import { build } from 'esbuild';
import { functionBuildOptions } from './bench/build';
(async () => {
  const fn = await functionBuildOptions();
  for (const entry of ['handlers/respond.ts', 'handlers/sample.ts']) {
    const r = await build({ ...fn, entryPoints: [entry], outfile: '/tmp/an.js', bundle: true, write: false, metafile: true, sourcemap: false, logLevel: 'error' });
    const out = Object.values(r.metafile.outputs)[0]!;
    const byPkg: Record<string, number> = {};
    for (const [f, v] of Object.entries(out.inputs)) {
      const m = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(f);
      const k = m ? m[1]! : f.split('/').slice(0, 2).join('/');
      byPkg[k] = (byPkg[k] ?? 0) + v.bytesInOutput;
    }
    console.log(entry, out.bytes);
    console.log(Object.entries(byPkg).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${v}\t${k}`).join('\n'));
  }
})();
