/**
 * The policy as the stack packages it: every check `serverless package` makes of policy.yml, in
 * one function that packaging (stack/policy.stack.js) and `eks-ip-responder policy check`
 * both call, so that a policy the check passes is one packaging takes, with the same messages.
 * Design (the checks, in order): docs/policy.md#libpolicydeployablets-the-packaging-checks
 */
import { deployableRemediationPolicy, type IamPolicyDocument } from './iam';
import { policyError, policyJson, policyVersion } from './load';
import { readPolicyFile } from './yaml';
import { PolicyError, type Policy } from './types';

/** What packaging takes from a policy file. */
export interface DeployablePolicy {
  policy: Policy;
  /** The compact JSON compiled into the functions. */
  json: string;
  /** Its version (POLICY_VERSION). */
  version: string;
  /** RespondRole's inline policy `remediate`. */
  remediationPolicy: IamPolicyDocument;
}

/**
 * Reads a policy file and makes every check packaging makes.
 * @param file the path, named in every problem as given.
 * @throws PolicyError naming every problem; a problem of the file itself (unreadable, too large,
 *   not text) in one line.
 */
export function deployablePolicy(file: string): DeployablePolicy {
  const policy = readPolicyFile(file);
  const failures: PolicyError[] = [];
  const attempt = <T>(check: () => T): T | undefined => {
    try {
      return check();
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      failures.push(err);
      return undefined;
    }
  };
  const json = attempt(() => policyJson(policy, file));
  const remediationPolicy = attempt(() => deployableRemediationPolicy(policy, file));
  if (json === undefined || remediationPolicy === undefined) {
    // One failure as its check words it (what packaging always said); several as one list.
    const [only] = failures;
    throw failures.length === 1 && only ? only : policyError(file, failures.flatMap((f) => f.problems));
  }
  return { policy, json, version: policyVersion(json), remediationPolicy };
}
