#!/usr/bin/env node
// The CLI, bundled by `npm run build:cli` into dist/cli.js (npm start builds it first).
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write('eks-ip-responder: dist/cli.js is missing; run `npm run build:cli` first\n');
  process.exit(1);
}
const { main } = require(bundle);
main(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  now: () => new Date(),
}).then((code) => {
  process.exitCode = code;
});
