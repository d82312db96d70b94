// serverless.yml reads the remediation policy from here, so that the functions run the very
// policy policy.yml holds, validated by the same code as `npm test`:
//   custom.esbuild.define.EKS_IP_RESPONDER_POLICY: ${file(./stack/policy.stack.js):define}
//   provider.environment.POLICY_VERSION: ${file(./stack/policy.stack.js):version}
// osls calls the exported function at packaging time (tsx, a dependency of osls, compiles the
// TypeScript). An invalid policy throws: `serverless package` / `deploy` fails with every
// problem named.
//
// It answers { json, version, define, remediationPolicy }: the compact JSON, its version
// (lib/policy/load.ts policyVersion), the JSON as a JavaScript string literal, which is what
// esbuild's `define` takes (lib/policy/bundled.ts reads it in the bundle), and RespondRole's
// inline policy `remediate` (lib/policy/iam.ts): the EKS and EC2 writes on the resources of the
// clusters in apply mode only, or a single Deny when there is none:
//   resources/roles.yml, RespondRole Policies: - PolicyName: remediate
//                                               PolicyDocument: ${file(./stack/policy.stack.js):remediationPolicy}
// A policy with `default.mode: apply` is invalid (parsePolicy), and one whose IAM policy would not
// fit the role throws too: packaging fails with the message. Every check is made by
// lib/policy/deployable.ts deployablePolicy, which `eks-ip-responder policy check` calls as well.
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
  let deployable;
  try {
    deployable = require('../lib/policy/deployable.ts');
  } finally {
    unregister();
  }
  const file =
    (context && context.policyFile) || process.env.POLICY_FILE || path.resolve(__dirname, '..', 'policy.yml');
  // Named as the operator knows it (`policy.yml: ...`), relative to where serverless runs.
  const relative = path.relative(process.cwd(), path.resolve(file));
  const shown = relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
  const { json, version, remediationPolicy } = deployable.deployablePolicy(shown);
  return { json, version, define: JSON.stringify(json), remediationPolicy };
};
