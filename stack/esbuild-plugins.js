// serverless.yml custom.esbuild.plugins: the esbuild plugins the functions are bundled with
// (serverless-esbuild requires this file; scripts/bench/build.ts uses it the same way).
//
// sdkSchemaKeys: the AWS SDK's schema-based clients describe every shape of their service in
// one module (dist-es/schemas/schemas_0.js: 1.3 MB for EC2's ~750 operations), each shape an
// exported array whose member traits are objects with computed keys, `{ [_xN]: _de }`, `_xN`
// being a module constant ("xmlName"). A computed key may run code (ToPropertyKey can call a
// toString), so esbuild keeps every such shape, used or not: 555 KB of each bundle was EC2
// shapes the functions never send or read (aws/aws-sdk-js-v3#7607). Replacing each computed key
// by the string literal its constant holds changes no value and lets esbuild drop the unused
// shapes. A key whose constant is not a string literal of the same module is left as it is.
const { readFile } = require('node:fs/promises');

const SCHEMA_FILE = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;

/** The module with each `[_name]:` computed key replaced by the literal its `const _name = "…"` holds. */
function literalSchemaKeys(source) {
  const strings = new Map();
  for (const m of source.matchAll(/^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm)) strings.set(m[1], m[2]);
  let replaced = 0;
  const contents = source.replace(/\[(_\w+)\]:/g, (whole, name) => {
    const literal = strings.get(name);
    if (literal === undefined) return whole;
    replaced += 1;
    return `${literal}:`;
  });
  return { contents, replaced };
}

const sdkSchemaKeys = {
  name: 'sdk-schema-keys',
  setup(build) {
    build.onLoad({ filter: SCHEMA_FILE }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      return { contents: literalSchemaKeys(source).contents, loader: 'js' };
    });
  },
};

module.exports = [sdkSchemaKeys];
module.exports.literalSchemaKeys = literalSchemaKeys;
module.exports.SCHEMA_FILE = SCHEMA_FILE;
