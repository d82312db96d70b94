/**
 * Every SDK client the functions and the CLI build has a connection and a request timeout: a
 * call to an endpoint that accepts the connection and never answers fails with a TimeoutError
 * instead of hanging. The timeouts come from the environment, with a schema (lib/config.ts).
 * Jest's test timeout is the guard; nothing here measures elapsed time.
 */
import { ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DescribeRegionsCommand } from '@aws-sdk/client-ec2';
import { ListClustersCommand } from '@aws-sdk/client-eks';
import { ListTopicsCommand } from '@aws-sdk/client-sns';
import { createAwsClients, createDynamoDbClient } from '../../lib/aws/clients';
import { DEFAULT_HTTP_TIMEOUTS, parseHttpTimeouts, parseRuntimeConfig } from '../../lib/config';
import { ConfigError } from '../../lib/errors';
import { startHangingServer, withEndpoint, type HangingServer } from '../support/hanging-server';

describe('parseHttpTimeouts', () => {
  it('has a default for every timeout', () => {
    expect(parseHttpTimeouts({})).toEqual({ connectionMs: 5_000, requestMs: 10_000, ec2RequestMs: 30_000 });
    expect(parseHttpTimeouts({})).toEqual(DEFAULT_HTTP_TIMEOUTS);
  });

  it('takes each from the environment, an empty value being unset', () => {
    expect(parseHttpTimeouts({ HTTP_CONNECTION_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '', EC2_REQUEST_TIMEOUT_MS: '60000' })).toEqual({
      connectionMs: 2_000,
      requestMs: 10_000,
      ec2RequestMs: 60_000,
    });
  });

  it('names every bad value at once', () => {
    let err: unknown;
    try {
      parseHttpTimeouts({ HTTP_CONNECTION_TIMEOUT_MS: '5', HTTP_REQUEST_TIMEOUT_MS: 'ten', EC2_REQUEST_TIMEOUT_MS: '1.5' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems).toContainEqual(expect.stringMatching(/^HTTP_CONNECTION_TIMEOUT_MS: must be at least 100 \(milliseconds\)/));
    expect(problems).toContainEqual(expect.stringMatching(/^HTTP_REQUEST_TIMEOUT_MS: /));
    expect(problems).toContainEqual(expect.stringMatching(/^EC2_REQUEST_TIMEOUT_MS: must be a whole number of milliseconds/));
  });

  it("is part of the functions' configuration, and a bad value stops them", () => {
    const base = { ALERT_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:t', LEDGER_TABLE: 'ledger', POLICY_JSON: process.env.POLICY_JSON };
    expect(parseRuntimeConfig({ ...base, EC2_REQUEST_TIMEOUT_MS: '45000' }).httpTimeouts).toEqual({ ...DEFAULT_HTTP_TIMEOUTS, ec2RequestMs: 45_000 });
    expect(() => parseRuntimeConfig({ ...base, HTTP_REQUEST_TIMEOUT_MS: '0' })).toThrow(/HTTP_REQUEST_TIMEOUT_MS: must be at least 100/);
  });
});

/** The configuration the client's HTTP handler runs with (NodeHttpHandler, set on its first call). */
const handlerConfig = (client: { config: { requestHandler: unknown } }): Record<string, unknown> =>
  (client.config.requestHandler as { httpHandlerConfigs(): Record<string, unknown> }).httpHandlerConfigs();

describe('SDK clients against an endpoint that never answers', () => {
  let server: HangingServer;
  beforeEach(async () => {
    server = await startHangingServer();
  });
  afterEach(async () => {
    // Closing the server's connections also ends a call a test left waiting.
    await server.stop();
  });

  const timeouts = { connectionMs: 1_000, requestMs: 300, ec2RequestMs: 400 };

  it('every client fails the call with a TimeoutError instead of waiting', async () => {
    await withEndpoint(server.endpoint, async () => {
      const clients = createAwsClients('eu-west-1', timeouts);
      const dynamo = createDynamoDbClient(timeouts);
      const calls: [string, Promise<unknown>][] = [
        ['ec2', clients.ec2.send(new DescribeRegionsCommand({}))],
        ['eks', clients.eks.send(new ListClustersCommand({}))],
        ['cloudwatch', clients.cloudwatch.send(new ListMetricsCommand({}))],
        ['sns', clients.sns.send(new ListTopicsCommand({}))],
        ['dynamodb', dynamo.send(new ListTablesCommand({}))],
      ];
      const outcomes = await Promise.all(
        calls.map(async ([name, call]) => {
          try {
            await call;
            return { name, error: 'answered' };
          } catch (err) {
            return { name, error: (err as Error).name, message: (err as Error).message };
          }
        }),
      );
      for (const o of outcomes) {
        expect(o).toEqual({ name: o.name, error: 'TimeoutError', message: expect.stringMatching(/requestTimeout|timed out/) });
      }
      expect(server.requests).toBe(5);
      // The handler runs with the configured values: the request timeout throws rather than warns.
      const ec2 = handlerConfig(clients.ec2);
      expect(ec2).toMatchObject({ connectionTimeout: 1_000, requestTimeout: 400, throwOnRequestTimeout: true, socketTimeout: 400 });
      expect(handlerConfig(clients.eks)).toMatchObject({ connectionTimeout: 1_000, requestTimeout: 300, throwOnRequestTimeout: true });
      expect(handlerConfig(dynamo)).toMatchObject({ connectionTimeout: 1_000, requestTimeout: 300, throwOnRequestTimeout: true });
      for (const c of [clients.ec2, clients.eks, clients.cloudwatch, clients.sns, dynamo]) c.destroy();
    });
  });

  it('the default clients have the default timeouts', async () => {
    await withEndpoint(server.endpoint, async () => {
      const clients = createAwsClients('eu-west-1');
      // The handler reads its configuration on the first call; this one is left to time out on its own.
      void clients.sns.send(new ListTopicsCommand({})).catch(() => undefined);
      void clients.ec2.send(new DescribeRegionsCommand({})).catch(() => undefined);
      // Until both requests arrive, however busy the machine: jest's test timeout is the guard.
      while (server.requests < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(server.requests).toBe(2);
      expect(handlerConfig(clients.sns)).toMatchObject({
        connectionTimeout: DEFAULT_HTTP_TIMEOUTS.connectionMs,
        requestTimeout: DEFAULT_HTTP_TIMEOUTS.requestMs,
        throwOnRequestTimeout: true,
      });
      expect(handlerConfig(clients.ec2)).toMatchObject({ requestTimeout: DEFAULT_HTTP_TIMEOUTS.ec2RequestMs });
      clients.sns.destroy();
      clients.ec2.destroy();
    });
  });
});
