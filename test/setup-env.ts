import path from 'node:path';
import { policyJson } from '../lib/policy/load';
import { readPolicyFile } from '../lib/policy/yaml';

// Tests must never reach AWS: a dummy region and static credentials stop the SDK's
// credential chain from looking for real ones, and the endpoint points at a closed port
// so that a client that escaped its mock fails fast instead of calling AWS.
process.env.AWS_REGION = 'eu-west-1';
process.env.AWS_ACCESS_KEY_ID = 'AKIDTESTTESTTESTTEST';
process.env.AWS_SECRET_ACCESS_KEY = 'test-secret';
process.env.AWS_SESSION_TOKEN = 'test-session';
process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
process.env.AWS_MAX_ATTEMPTS = '1';
delete process.env.AWS_PROFILE;
// The handlers parse their configuration at import (cold start); these are what the stack sets.
process.env.ALERT_TOPIC_ARN = 'arn:aws:sns:eu-west-1:111122223333:eks-ip-responder-test-alerts';
process.env.LEDGER_TABLE = 'eks-ip-responder-test-ledger';
// The repository's policy. The deployed functions carry it compiled in (lib/policy/bundled.ts);
// unbundled code has none, and POLICY_JSON gives it, as JSON (the functions parse no YAML policy).
const policyFile = path.join(__dirname, '..', 'policy.yml');
process.env.POLICY_JSON = policyJson(readPolicyFile(policyFile), policyFile);
