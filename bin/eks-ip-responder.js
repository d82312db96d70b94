#!/usr/bin/env node
// The CLI, bundled by `npm run build:cli` into dist/cli.js: `npm ci` and `npm install` build it
// (the `prepare` script), and `npm start` builds it again first. After editing lib/, rebuild.
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write('eks-ip-responder: dist/cli.js is missing; run `npm ci` (it builds it) or `npm run build:cli`\n');
  process.exit(1);
}
const { main, nodeVersionNote, quietSdkNodeVersionWarning } = require(bundle);
// On Node.js < 22 the AWS SDK warns in 8 lines when the first client is built: one line instead,
// once per run (lib/cli/node-version.ts). Every other warning is printed as Node prints it.
quietSdkNodeVersionWarning(process, () => process.stderr.write(nodeVersionNote(process.version) ?? ''));
main(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  now: () => new Date(),
  isTTY: process.stdout.isTTY === true,
}).then((code) => {
  process.exitCode = code;
});
