/**
 * The central policy's read over the wire: a local server answering as SSM and S3 do, checking
 * every request's SigV4 signature (test/support/central-policy-server.ts), the endpoint taken from
 * AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL_S3 as the SDK takes it; and the provider's cache.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { EKSClient } from '@aws-sdk/client-eks';
import { CentralPolicyProvider, CentralPolicyReadError, readCentralPolicy, type CentralPolicyReadOptions } from '../../lib/aws/central-policy';
import { parseCentralPolicyLocation, type CentralPolicyLocation, type PolicyInForce } from '../../lib/policy/central';
import type { Policy } from '../../lib/policy/types';
import { effectivePolicy, policyJson, policyVersion } from '../../lib/policy/load';
import { readPolicyFile } from '../../lib/policy/yaml';

const packagedInForce = (policy: Policy, source: PolicyInForce['source']): PolicyInForce => ({ policy, source, problems: [] });
import { startCentralPolicyServer, type CentralPolicyServer } from '../support/central-policy-server';

const ARN = 'arn:aws:ssm:eu-west-1:999988887777:parameter/eks-ip-responder/policy';
const SSM = parseCentralPolicyLocation(ARN) as CentralPolicyLocation;
const S3 = parseCentralPolicyLocation('s3://org-policies/eks ip/policy.json') as CentralPolicyLocation;
const POLICY = readPolicyFile(path.join(__dirname, '..', '..', 'policy.yml'));
const TEXT = policyJson(POLICY, 'policy.yml');
const AT = new Date('2026-12-03T10:20:30Z');

let server: CentralPolicyServer;
const eks = new EKSClient({ region: 'eu-west-1' });
const options = (env: Record<string, string>, timeoutMs = 2_000): CentralPolicyReadOptions => ({ signing: eks.config, timeoutMs, env, now: () => AT });

beforeEach(async () => {
  server = await startCentralPolicyServer();
});
afterEach(async () => {
  await server.close();
});

describe('readCentralPolicy: SSM GetParameter', () => {
  it('reads the parameter by its full ARN with a signed awsJson1_1 POST, and answers its value and Version', async () => {
    server.answer({ kind: 'parameter', value: TEXT, version: 4 });
    const read = await readCentralPolicy(SSM, options({ AWS_ENDPOINT_URL_SSM: server.url, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }));
    expect(read).toEqual({ text: TEXT, revision: '4' });
    const [req] = server.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/', scope: '20261203/eu-west-1/ssm/aws4_request', signatureValid: true });
    expect(JSON.parse(req?.body ?? '')).toEqual({ Name: ARN });
    expect(req?.headers['x-amz-target']).toBe('AmazonSSM.GetParameter');
    expect(req?.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(req?.headers['x-amz-security-token']).toBe(process.env.AWS_SESSION_TOKEN);
    expect(req?.signedHeaders).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'x-amz-target', 'content-type', 'x-amz-security-token']));
  });

  it('takes AWS_ENDPOINT_URL when no SSM-specific endpoint is set', async () => {
    server.answer({ kind: 'parameter', value: TEXT });
    await expect(readCentralPolicy(SSM, options({ AWS_ENDPOINT_URL: server.url }))).resolves.toMatchObject({ text: TEXT });
  });

  it.each([
    ['ParameterNotFound', 400],
    ['AccessDeniedException', 400],
    ['ThrottlingException', 400],
    ['InternalServerError', 500],
  ])('fails with the service error %s named', async (code, status) => {
    server.answer({ kind: 'error', status, code, message: 'as AWS words it' });
    const err = await readCentralPolicy(SSM, options({ AWS_ENDPOINT_URL_SSM: server.url })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CentralPolicyReadError);
    expect(err).toMatchObject({ code, message: `ssm:GetParameter ${ARN}: ${code}: as AWS words it` });
  });

  it('refuses a SecureString parameter (the policy is no secret; no kms:Decrypt is granted)', async () => {
    server.answer({ kind: 'parameter', value: 'AQICAHh...', type: 'SecureString' });
    await expect(readCentralPolicy(SSM, options({ AWS_ENDPOINT_URL_SSM: server.url }))).rejects.toMatchObject({ code: 'UnsupportedType' });
  });

  it('is refused by a server whose secret differs: the signature is really checked', async () => {
    await server.close();
    server = await startCentralPolicyServer('another-secret');
    server.answer({ kind: 'parameter', value: TEXT });
    await expect(readCentralPolicy(SSM, options({ AWS_ENDPOINT_URL_SSM: server.url }))).rejects.toMatchObject({ code: 'InvalidSignatureException' });
    expect(server.requests[0]?.signatureValid).toBe(false);
  });

  it('gives up after the request timeout when the endpoint never answers', async () => {
    server.answer({ kind: 'hang' });
    await expect(readCentralPolicy(SSM, options({ AWS_ENDPOINT_URL_SSM: server.url }, 150))).rejects.toMatchObject({ code: 'TIMEOUT' });
  });
});

describe('readCentralPolicy: S3 GetObject', () => {
  it('GETs the object with an unsigned payload, signed for s3, and answers its body and ETag', async () => {
    server.answer({ kind: 'object', body: TEXT, etag: '9b2cf535f27731c974343645a3985328' });
    const read = await readCentralPolicy(S3, options({ AWS_ENDPOINT_URL_S3: server.url }));
    expect(read).toEqual({ text: TEXT, revision: '9b2cf535f27731c974343645a3985328' });
    const [req] = server.requests;
    expect(req).toMatchObject({ method: 'GET', path: '/org-policies/eks%20ip/policy.json', scope: '20261203/eu-west-1/s3/aws4_request', signatureValid: true });
    expect(req?.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(req?.signedHeaders).toEqual(expect.arrayContaining(['host', 'x-amz-content-sha256', 'x-amz-date']));
  });

  /** A server answering every request with `answer`, counting them. */
  async function rawServer(answer: (res: ServerResponse) => void): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
    let count = 0;
    const raw = createServer((req, res) => {
      count++;
      req.resume();
      answer(res);
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const { port } = raw.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, count: () => count, close: () => new Promise((resolve) => raw.close(() => resolve())) };
  }

  it('refuses an x-amz-bucket-region that is not a region (it would become the next request\'s host), sending nothing more', async () => {
    const raw = await rawServer((res) => res.writeHead(301, { 'x-amz-bucket-region': 'attacker.example/#' }).end('<Error><Code>PermanentRedirect</Code></Error>'));
    try {
      await expect(readCentralPolicy(S3, options({ AWS_ENDPOINT_URL_S3: raw.url }))).rejects.toMatchObject({ code: 'MalformedAnswer', message: expect.stringContaining('is not a region') });
      expect(raw.count()).toBe(1);
    } finally {
      await raw.close();
    }
  });

  it('follows no redirect to another host (a Location is not read): the 3xx is the error', async () => {
    const raw = await rawServer((res) => res.writeHead(307, { location: 'http://127.0.0.1:9/elsewhere' }).end());
    try {
      await expect(readCentralPolicy(S3, options({ AWS_ENDPOINT_URL_S3: raw.url }))).rejects.toMatchObject({ code: 'HTTP307' });
      expect(raw.count()).toBe(1);
    } finally {
      await raw.close();
    }
  });

  it('stops reading an answer above its bound (a huge object does not fill the memory)', async () => {
    const raw = await rawServer((res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      // Far more than the bound (8 × 64 KB), written until the client hangs up.
      let sent = 0;
      const more = (): void => {
        while (sent < 64 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('error', () => undefined);
      more();
    });
    try {
      await expect(readCentralPolicy(S3, options({ AWS_ENDPOINT_URL_S3: raw.url }))).rejects.toMatchObject({ code: 'TooLarge' });
    } finally {
      await raw.close();
    }
  });

  it.each(['NoSuchKey', 'AccessDenied'])('fails with the S3 error %s named', async (code) => {
    server.answer({ kind: 'error', status: code === 'NoSuchKey' ? 404 : 403, code, message: 'as S3 words it' });
    await expect(readCentralPolicy(S3, options({ AWS_ENDPOINT_URL_S3: server.url }))).rejects.toMatchObject({ code, message: expect.stringContaining(`s3:GetObject s3://org-policies/eks ip/policy.json: ${code}`) });
  });
});

describe('CentralPolicyProvider', () => {
  const packaged = packagedInForce(POLICY, { from: 'bundle', version: policyVersion(TEXT) });

  function provider(clock: { t: number }) {
    return new CentralPolicyProvider(SSM, packaged, () => readCentralPolicy(SSM, options({ AWS_ENDPOINT_URL_SSM: server.url })), () => clock.t, 300_000);
  }

  it('reads once per cache period, and again after it (counted at the server)', async () => {
    server.answer({ kind: 'parameter', value: TEXT, version: 2 });
    const clock = { t: 0 };
    const p = provider(clock);
    const first = await p.get();
    clock.t = 299_999;
    const [a, b] = await Promise.all([p.get(), p.get()]);
    expect([a, b]).toEqual([first, first]);
    expect(server.requests).toHaveLength(1);
    clock.t = 300_000;
    await p.get();
    expect(server.requests).toHaveLength(2);
    expect(first.source).toEqual({ from: 'central', version: policyVersion(TEXT), location: ARN, revision: '2' });
  });

  it('shares one read between concurrent callers', async () => {
    server.answer({ kind: 'parameter', value: TEXT });
    const p = provider({ t: 0 });
    await Promise.all([p.get(), p.get(), p.get()]);
    expect(server.requests).toHaveLength(1);
  });

  it('on a failed read acts on nothing, names the error, retries a minute later and recovers', async () => {
    const clock = { t: 0 };
    const p = provider(clock);
    server.answer({ kind: 'error', status: 400, code: 'AccessDeniedException', message: 'not authorized to perform: ssm:GetParameter' });
    const failed = await p.get();
    expect(failed.unavailable).toBe(true);
    expect(failed.problems[0]).toContain(`central policy ${ARN} unavailable: ssm:GetParameter ${ARN}: AccessDeniedException: not authorized`);
    clock.t = 59_999;
    await p.get();
    expect(server.requests).toHaveLength(1);
    server.answer({ kind: 'parameter', value: TEXT });
    clock.t = 60_000;
    const back = await p.get();
    expect(server.requests).toHaveLength(2);
    expect(back.unavailable).toBeUndefined();
  });

  it('names every problem of an invalid document, and never runs a cluster in apply with it', async () => {
    const applying = JSON.parse(TEXT) as { clusters: Record<string, { mode?: string }> };
    applying.clusters['payments-prod'] = { ...applying.clusters['payments-prod'], mode: 'apply' };
    const lastGood = JSON.stringify(applying);
    const clock = { t: 0 };
    const p = new CentralPolicyProvider(
      SSM,
      packagedInForce(JSON.parse(lastGood) as typeof POLICY, { from: 'bundle', version: 'x' }),
      () => readCentralPolicy(SSM, options({ AWS_ENDPOINT_URL_SSM: server.url })),
      () => clock.t,
    );
    server.answer({ kind: 'parameter', value: lastGood });
    expect(effectivePolicy((await p.get()).policy, 'payments-prod').mode).toBe('apply');
    server.answer({ kind: 'parameter', value: '{"version": 1, "default": {"mode": "apply"}}' });
    clock.t = 300_000;
    const bad = await p.get();
    expect(bad.unavailable).toBe(true);
    expect(bad.problems[0]).toMatch(/unavailable: invalid: .*default\.mode: apply is not allowed for the default/);
    // The last good policy (apply on payments-prod) plans, in dry-run.
    expect(effectivePolicy(bad.policy, 'payments-prod').mode).toBe('dry-run');
  });
});
