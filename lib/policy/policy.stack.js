// serverless.yml reads the remediation policy from here, so that the functions run the very
// policy policy.yml holds, validated by the same code as `npm test`:
//   POLICY_JSON: ${file(./lib/policy/policy.stack.js)}
// osls calls the exported function at packaging time (tsx, a dependency of osls, compiles the
// TypeScript). An invalid policy, or one too large for Lambda's 4 KB of environment
// variables, throws: `serverless package` / `deploy` fails with every problem named.
//
// The file is policy.yml at the repository root, or POLICY_FILE when set (relative to the
// current directory); a caller may also pass { policyFile }.
const path = require('node:path');

module.exports = async (context) => {
  // tsx's hook for the duration of one require, not tsx's namespaced require (as in
  // patterns.stack.js): a plain require also runs under jest, whose own transform compiles
  // the TypeScript there, so the tests exercise this very file.
  const { register } = require('tsx/cjs/api');
  const unregister = register();
  let load;
  try {
    load = require('./load.ts');
  } finally {
    unregister();
  }
  const { readPolicyFile, policyJson } = load;
  const file =
    (context && context.policyFile) || process.env.POLICY_FILE || path.resolve(__dirname, '..', '..', 'policy.yml');
  // Named as the operator knows it (`policy.yml: ...`), relative to where serverless runs.
  const relative = path.relative(process.cwd(), path.resolve(file));
  const shown = relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
  return policyJson(readPolicyFile(shown), shown);
};
