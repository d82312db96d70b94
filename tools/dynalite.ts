/**
 * A real DynamoDB for the tests and the benchmark (scripts/bench): dynalite (in process, in
 * memory), started on a free port of 127.0.0.1, plus the ledger table created from
 * LEDGER_TABLE_DEFINITION so tests and stack agree.
 *
 *   const db = await startDynalite();               // beforeAll
 *   const client = dynaliteClient(db.endpoint);
 *   await createLedgerTable(client, 'ledger');
 *   ...
 *   client.destroy(); await db.stop();              // afterAll
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LEDGER_TABLE_DEFINITION } from '../lib/aws/ledger';
import { listenLocal, type LocalServer } from './local-server';

/** dynalite ships no types: the one call used here. */
type DynaliteFactory = (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number }) => Server;

export type RunningDynalite = LocalServer;

/** Starts an empty dynalite whose tables are ACTIVE as soon as created. */
export async function startDynalite(): Promise<RunningDynalite> {
  const dynalite = createRequire(__filename)('dynalite') as DynaliteFactory;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  return listenLocal(server);
}

/**
 * A DynamoDB client for dynalite. The endpoint is explicit because test/setup-env.ts points
 * AWS_ENDPOINT_URL at a closed port; credentials and region come from that setup.
 */
export function dynaliteClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, maxAttempts: 1 });
}

/** Creates the ledger table and waits (briefly: dynalite is told createTableMs 0) until it is ACTIVE. */
export async function createLedgerTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(new CreateTableCommand({ TableName: name, ...LEDGER_TABLE_DEFINITION }));
  for (let i = 0; i < 100; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`dynalite table ${name} did not become ACTIVE within 1 s`);
}
