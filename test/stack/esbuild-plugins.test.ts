/** stack/esbuild-plugins.js: the SDK schema modules' computed keys made literal, nothing else changed. */
import { build } from 'esbuild';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const plugins = require('../../stack/esbuild-plugins.js') as { literalSchemaKeys: (s: string) => { contents: string; replaced: number }; SCHEMA_FILE: RegExp };

describe('literalSchemaKeys', () => {
  it("replaces a computed key by the string its module constant holds, and leaves any other key", () => {
    const source = ['const _xN = "xmlName";', 'const _n = 3;', 'export var A$ = [3, "ns", "A", 0, [], [[0, { [_xN]: "a", [_n]: 1, [_other]: 2 }]]];'].join('\n');
    const { contents, replaced } = plugins.literalSchemaKeys(source);
    expect(replaced).toBe(1);
    expect(contents).toContain('{ "xmlName": "a", [_n]: 1, [_other]: 2 }');
  });

  it('lets esbuild drop the shapes nothing imports', async () => {
    const schemas = ['const _xN = "xmlName";', 'export var Used$ = [3, "ns", "Used", 0, ["a"], [[0, { [_xN]: "usedA" }]]];', 'export var Unused$ = [3, "ns", "Unused", 0, ["b"], [[0, { [_xN]: "unusedB" }]]];'].join('\n');
    const bundle = async (rewrite: boolean) => {
      const r = await build({
        stdin: { contents: 'import { Used$ } from "schemas"; console.log(Used$);', resolveDir: __dirname },
        bundle: true,
        write: false,
        minify: true,
        plugins: [{ name: 'schemas', setup: (b) => {
          b.onResolve({ filter: /^schemas$/ }, () => ({ path: 'schemas', namespace: 'v' }));
          b.onLoad({ filter: /.*/, namespace: 'v' }, () => ({ contents: rewrite ? plugins.literalSchemaKeys(schemas).contents : schemas, loader: 'js' }));
        } }],
      });
      return r.outputFiles[0]!.text;
    };
    expect(await bundle(false)).toContain('unusedB');
    const shaken = await bundle(true);
    expect(shaken).toContain('usedA');
    expect(shaken).not.toContain('unusedB');
  });

  it("applies to every SDK client's schema module, and only to those", () => {
    expect(plugins.SCHEMA_FILE.test('/x/node_modules/@aws-sdk/client-ec2/dist-es/schemas/schemas_0.js')).toBe(true);
    expect(plugins.SCHEMA_FILE.test('/x/node_modules/@aws-sdk/client-ec2/dist-es/commands/DescribeVpcsCommand.js')).toBe(false);
    expect(plugins.SCHEMA_FILE.test('/x/node_modules/@aws-sdk/core/dist-es/schemas/schemas_0.js')).toBe(false);
  });
});
