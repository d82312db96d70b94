/**
 * A Runtime for end-to-end handler tests: the emulated AWS account (EC2, EKS, CloudWatch, SNS)
 * and a real local DynamoDB (dynalite) ledger with a fresh table.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { parseRuntimeConfig } from '../../lib/config';
import { assembleRuntime, type Runtime } from '../../lib/runtime';
import { createLedgerTable, dynaliteClient, type RunningDynalite } from '../../tools/dynalite';
import { emulateAccount, type EmulatedAccount } from '../../tools/mock-aws';
import type { SyntheticAccount } from '../../tools/synthetic-account';

let tables = 0;

export interface TestRuntime {
  rt: Runtime;
  aws: EmulatedAccount;
  /** Log calls by level: [message, attributes]. */
  logs: { error: unknown[][]; warn: unknown[][]; info: unknown[][] };
  setNow(d: Date): void;
}

export async function testRuntime(
  account: SyntheticAccount,
  db: RunningDynalite,
  env: Record<string, string> = {},
  now = new Date('2026-11-26T12:00:00Z'),
): Promise<TestRuntime> {
  const aws = emulateAccount(account);
  const raw = dynaliteClient(db.endpoint);
  const table = `ledger-${process.pid}-${++tables}`;
  await createLedgerTable(raw, table);
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const logs = { error: [] as unknown[][], warn: [] as unknown[][], info: [] as unknown[][] };
  for (const level of ['error', 'warn', 'info'] as const) {
    jest.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
      logs[level].push(args);
    });
  }
  let current = now;
  const rt: Runtime = assembleRuntime({
    config: parseRuntimeConfig({
      METRIC_NAMESPACE: 'Test/IP',
      ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:test-alerts',
      LEDGER_TABLE: table,
      DASHBOARD_NAME: 'eks-ip-responder-test',
      STAGE: 'test',
      ALARM_NAME_PREFIX: 'eks-ip-responder-test-',
      POLICY_JSON: process.env.POLICY_JSON ?? '',
      FOLLOW_FOR_SECONDS: '60',
      ...env,
    }),
    clients: aws,
    region: account.region,
    dynamo: raw,
    logger,
    now: () => current,
    // Polls of an EKS update do not wait (the emulator finishes updates at once).
    sleep: async () => {},
  });
  return { rt, aws, logs, setNow: (d) => (current = d) };
}
