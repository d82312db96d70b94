/**
 * A Runtime for the bench, built like test/support/runtime.ts (which needs jest): the emulated
 * AWS account (EC2, EKS, CloudWatch, SNS, with the emulator's filters, page sizes and call
 * counts) and a real DynamoDB ledger in dynalite, here reached over HTTP in another process so
 * that the DynamoDB server's work is not counted in the cycle's CPU time (its client's is).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseRuntimeConfig } from '../../lib/config';
import { policyJson } from '../../lib/policy/load';
import { parsePolicy } from '../../lib/policy/yaml';
import { assembleRuntime, type Runtime } from '../../lib/runtime';
import { createLedgerTable } from '../../tools/dynalite';
import { emulateAccount, type EmulatedAccount } from '../../tools/mock-aws';
import type { SyntheticAccount } from '../../tools/synthetic-account';

export interface BenchRuntime {
  rt: Runtime;
  aws: EmulatedAccount;
  /** DynamoDB calls by operation (the ledger's), counted by a middleware on the client. */
  dynamoCalls: Record<string, number>;
  /** Ends the emulation and the DynamoDB client. */
  close(): void;
}

/**
 * The environment the stack gives the functions (serverless.yml), for the bench's stage.
 * `policy` is policy.yml's text (YAML, or JSON): the functions take it as compact JSON.
 */
export function benchEnv(table: string, policy: string): Record<string, string> {
  return {
    METRIC_NAMESPACE: 'Bench/IP',
    ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:eks-ip-responder-bench-alerts',
    LEDGER_TABLE: table,
    DASHBOARD_NAME: 'eks-ip-responder-bench',
    STAGE: 'bench',
    ALARM_NAME_PREFIX: 'eks-ip-responder-bench-',
    POLICY_JSON: policyJson(parsePolicy(policy, 'policy.yml'), 'policy.yml'),
  };
}

/** Builds a runtime on `account` with a fresh ledger table `table` in the dynalite at `endpoint`. */
export async function benchRuntime(
  account: SyntheticAccount,
  endpoint: string,
  table: string,
  policy: string,
  now: Date,
  /** Answer with copies, as the SDK builds new objects: for weighing the cycle's live data only (cloning costs CPU). */
  copyAnswers = false,
): Promise<BenchRuntime> {
  const raw = new DynamoDBClient({ endpoint, maxAttempts: 1, region: account.region });
  const dynamoCalls: Record<string, number> = {};
  raw.middlewareStack.add(
    (next, context) => async (args) => {
      const op = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      dynamoCalls[op] = (dynamoCalls[op] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchCountCalls' },
  );
  await createLedgerTable(raw, table);
  // The table's creation is set-up, not the cycle's.
  for (const k of Object.keys(dynamoCalls)) delete dynamoCalls[k];
  const aws = emulateAccount(account, { copyAnswers });
  // The function logs as deployed (INFO, JSON to stdout); the parent discards the child's stdout.
  const logger = new Logger({ serviceName: 'eks-ip-responder', logLevel: 'INFO' });
  const rt: Runtime = assembleRuntime({
    config: parseRuntimeConfig(benchEnv(table, policy)),
    clients: aws,
    region: account.region,
    dynamo: raw,
    logger,
    now: () => now,
    sleep: async () => {},
  });
  return {
    rt,
    aws,
    dynamoCalls,
    close: () => {
      aws.restore();
      raw.destroy();
    },
  };
}
