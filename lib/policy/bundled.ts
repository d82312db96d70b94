/**
 * The remediation policy compiled into the deployed functions.
 *
 * Outside a bundle (tests, the CLI, `tsx`) nothing is defined and this answers undefined.
 */

/**
 * `serverless package` validates policy.yml (stack/policy.stack.js) and esbuild's `define`
 * replaces the identifier below with the policy as a JSON string literal (serverless.yml,
 * custom.esbuild.define). The policy travels in the function package, not in an environment
 * variable: Lambda allows 4 KB for all of a function's environment variables together
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html), which would bound
 * the number of clusters a policy can name.
 */
declare const EKS_IP_RESPONDER_POLICY: string | undefined;

/** The name of the identifier esbuild defines (serverless.yml, custom.esbuild.define). */
export const BUNDLED_POLICY_IDENTIFIER = 'EKS_IP_RESPONDER_POLICY';

/** The policy JSON compiled into this bundle, or undefined when running unbundled. */
export function bundledPolicy(): string | undefined {
  // `typeof` of an undeclared global is 'undefined' rather than a ReferenceError.
  return typeof EKS_IP_RESPONDER_POLICY === 'string' ? EKS_IP_RESPONDER_POLICY : undefined;
}
