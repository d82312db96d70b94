/**
 * Reads the central remediation policy (lib/policy/central.ts) with one SigV4-signed HTTPS call
 * over node:https, not an SDK client (client-ssm would add ~81 KB to each bundle, client-s3
 * ~143 KB; the bundles have ~13 KB of room): SSM GetParameter by the parameter's full ARN, or
 * S3 GetObject. Signed with the functions' credentials (the SDK clients' default provider chain).
 * `CentralPolicyProvider` caches what it read per container and decides nothing itself: the
 * validation, the ceiling and the fallback are lib/policy/central.ts.
 * Design: docs/policy.md#central-policy
 */
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider, ChecksumConstructor, HashConstructor } from '@smithy/types';
import { CodedError, messageOf } from '../errors';
import { httpExchange, HttpExchangeError, type HttpAnswer } from '../http-exchange';
import { centralPolicyInForce, unavailableInForce, type CentralPolicyLocation, type PolicyInForce } from '../policy/central';
import { POLICY_MAX_BYTES } from '../policy/load';

/** What signs: an SDK client's resolved config (`eksClient.config`). */
export interface CentralPolicySigning {
  credentials: AwsCredentialIdentityProvider;
  region: string | (() => Promise<string>);
  sha256: ChecksumConstructor | HashConstructor;
}

/** The read failed: `code` is the service's error code (ParameterNotFound, AccessDenied...), a socket code, or TIMEOUT. */
export class CentralPolicyReadError extends CodedError {
  override readonly name = 'CentralPolicyReadError';
}

/** The document as read, and its revision (the SSM parameter's Version, the S3 object's ETag). */
export interface CentralPolicyText {
  text: string;
  revision?: string;
}

export interface CentralPolicyReadOptions {
  signing: CentralPolicySigning;
  /** The whole exchange (connection and answer), ms: the functions' HTTP_REQUEST_TIMEOUT_MS. */
  timeoutMs: number;
  /** The standard SDK environment: AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL. */
  env?: Record<string, string | undefined>;
  now?: () => Date;
}

/** An answer larger than this is not a policy (the JSON envelope escapes at most ~6 bytes per character of a 64 KB policy). */
const MAX_ANSWER_BYTES = 8 * POLICY_MAX_BYTES;

type Answer = HttpAnswer;

/** One request; the body read whole up to {@link MAX_ANSWER_BYTES}. */
async function send(url: URL, method: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number, what: string): Promise<Answer> {
  try {
    return await httpExchange(
      { protocol: url.protocol, hostname: url.hostname, port: url.port || undefined, method, path: `${url.pathname}${url.search}`, headers },
      body,
      { timeoutMs, what, maxBytes: MAX_ANSWER_BYTES },
    );
  } catch (err) {
    throw err instanceof HttpExchangeError ? new CentralPolicyReadError(err.code, err.message, { cause: err.cause ?? err }) : err;
  }
}

/** The regional endpoint, or the environment's override (as the SDK takes it: service-specific first). */
function endpointOf(service: 'ssm' | 's3', region: string, env: Record<string, string | undefined>): { url: URL; custom: boolean } {
  const custom = env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] || env['AWS_ENDPOINT_URL'];
  if (custom) return { url: new URL(custom), custom: true };
  return { url: new URL(`https://${service}.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`), custom: false };
}

async function signed(
  opts: CentralPolicyReadOptions,
  service: 'ssm' | 's3',
  region: string,
  url: URL,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Record<string, string>> {
  // S3 signs the path as sent (no second escaping); every other service escapes it again.
  const signer = new SignatureV4({ credentials: opts.signing.credentials, region, service, sha256: opts.signing.sha256, uriEscapePath: service !== 's3' });
  const req = await signer.sign(
    { method, protocol: url.protocol, hostname: url.hostname, ...(url.port ? { port: Number(url.port) } : {}), path: url.pathname, query: {}, headers: { host: url.host, ...headers }, ...(body !== undefined ? { body } : {}) },
    opts.now ? { signingDate: opts.now() } : {},
  );
  return req.headers;
}

/**
 * The service's error code and message: SSM answers awsJson1_1 (`{"__type": "[namespace#]Code", "message": …}`),
 * S3 XML (`<Error><Code>NoSuchKey</Code><Message>…</Message>`).
 */
function errorOf(answer: Answer, what: string): CentralPolicyReadError {
  let body: { __type?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    body = JSON.parse(answer.body) as typeof body;
  } catch {
    body = {};
  }
  const xml = (tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(answer.body)?.[1];
  const code = (typeof body.__type === 'string' ? body.__type.split('#').pop() : xml('Code')) || `HTTP${answer.status}`;
  const message = String(body.message ?? body.Message ?? xml('Message') ?? '');
  return new CentralPolicyReadError(code, `${what}: ${code}${message ? `: ${message}` : ''}`);
}

/**
 * SSM GetParameter of a shared parameter by its full ARN (a parameter shared with the account is
 * read by ARN only: GetParameter `Name`, "For parameters shared with you from another account,
 * you must use the full ARN", https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html),
 * in the parameter's own region (RAM shares are regional). A String parameter: the policy is no
 * secret, and a SecureString shared across accounts needs a customer managed key shared too.
 */
async function readSsm(location: Extract<CentralPolicyLocation, { kind: 'ssm' }>, opts: CentralPolicyReadOptions): Promise<CentralPolicyText> {
  const { url } = endpointOf('ssm', location.region, opts.env ?? process.env);
  const body = JSON.stringify({ Name: location.arn });
  const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' };
  const what = `ssm:GetParameter ${location.arn}`;
  const sent = await signed(opts, 'ssm', location.region, url, 'POST', headers, body);
  const answer = await send(url, 'POST', { ...sent, 'content-length': String(Buffer.byteLength(body)) }, body, opts.timeoutMs, what);
  if (answer.status < 200 || answer.status > 299) throw errorOf(answer, what);
  let p: { Value?: unknown; Type?: unknown; Version?: unknown } | undefined;
  try {
    p = (JSON.parse(answer.body) as { Parameter?: typeof p }).Parameter;
  } catch {
    p = undefined;
  }
  if (typeof p?.Value !== 'string') throw new CentralPolicyReadError('MalformedAnswer', `${what}: no Parameter.Value in the answer`);
  if (p.Type !== 'String') throw new CentralPolicyReadError('UnsupportedType', `${what}: a ${String(p.Type)} parameter; it must be a String`);
  return { text: p.Value, ...(typeof p.Version === 'number' ? { revision: String(p.Version) } : {}) };
}

/** A region name (us-east-1, us-gov-west-1, cn-north-1): lib/policy/central.ts takes an SSM ARN's region so. */
const REGION_NAME = /^[a-z]{2}(?:-[a-z]+)+-\d$/;

/** The bucket's region, as S3 named it in a redirect (x-amz-bucket-region), per bucket for the container's life. */
const bucketRegions = new Map<string, string>();

/**
 * S3 GetObject (unsigned payload, as the SDK sends a GET). The bucket's region is not in
 * `s3://bucket/key`: the first request goes to the function's region, and S3's answer for a
 * bucket elsewhere (301 PermanentRedirect or 400 AuthorizationHeaderMalformed) carries the
 * bucket's region in `x-amz-bucket-region`: one more request, signed for it.
 */
async function readS3(location: Extract<CentralPolicyLocation, { kind: 's3' }>, opts: CentralPolicyReadOptions): Promise<CentralPolicyText> {
  const home = typeof opts.signing.region === 'string' ? opts.signing.region : await opts.signing.region();
  const what = `s3:GetObject ${location.url}`;
  const key = location.key.split('/').map(encodeURIComponent).join('/');
  const attempt = async (region: string): Promise<Answer> => {
    const { url: base, custom } = endpointOf('s3', region, opts.env ?? process.env);
    // Path style on a custom endpoint and for a bucket with dots (its name breaks the TLS wildcard); virtual-hosted otherwise.
    const url =
      custom || location.bucket.includes('.')
        ? new URL(`${base.origin}/${location.bucket}/${key}`)
        : new URL(`${base.protocol}//${location.bucket}.${base.host}/${key}`);
    const sent = await signed(opts, 's3', region, url, 'GET', { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    return send(url, 'GET', sent, undefined, opts.timeoutMs, what);
  };
  const first = bucketRegions.get(location.bucket) ?? home;
  let answer = await attempt(first);
  const elsewhere = answer.headers['x-amz-bucket-region'];
  if ((answer.status === 301 || answer.status === 400) && typeof elsewhere === 'string' && elsewhere !== first) {
    // The region becomes part of the next request's host name: only a region as AWS spells one,
    // never a value that would point the signed request at another host.
    if (!REGION_NAME.test(elsewhere)) throw new CentralPolicyReadError('MalformedAnswer', `${what}: x-amz-bucket-region ${JSON.stringify(elsewhere.slice(0, 40))} is not a region`);
    bucketRegions.set(location.bucket, elsewhere);
    answer = await attempt(elsewhere);
  }
  if (answer.status < 200 || answer.status > 299) throw errorOf(answer, what);
  const etag = answer.headers['etag'];
  return { text: answer.body, ...(typeof etag === 'string' ? { revision: etag.replace(/"/g, '') } : {}) };
}

/** Reads the central policy's document once. */
export function readCentralPolicy(location: CentralPolicyLocation, opts: CentralPolicyReadOptions): Promise<CentralPolicyText> {
  return location.kind === 'ssm' ? readSsm(location, opts) : readS3(location, opts);
}

/** How long a read central policy is used before it is read again (CENTRAL_POLICY_CACHE_SECONDS' default). */
export const CENTRAL_POLICY_TTL_MS = 300_000;
/** How long a failed read is not retried: a storm of events makes at most one read a minute. */
export const CENTRAL_POLICY_RETRY_MS = 60_000;

/**
 * The policy in force for the container's cycles: the central policy, read at most once per
 * `ttlMs` (a failure at most once per {@link CENTRAL_POLICY_RETRY_MS}), validated and narrowed
 * to the packaged policy; when it cannot be used, every cluster in dry-run
 * (lib/policy/central.ts unavailableInForce). Concurrent callers share one read.
 */
export class CentralPolicyProvider {
  private cached?: { inForce: PolicyInForce; at: number; good: boolean };
  private lastGood?: { inForce: PolicyInForce; at: number };
  private pending?: Promise<PolicyInForce>;

  constructor(
    readonly location: CentralPolicyLocation,
    private readonly packaged: PolicyInForce,
    private readonly read: () => Promise<CentralPolicyText>,
    private readonly now: () => number,
    private readonly ttlMs: number = CENTRAL_POLICY_TTL_MS,
  ) {}

  /** The policy in force now. Never throws: a failure is the dry-run policy, named. */
  async get(): Promise<PolicyInForce> {
    const at = this.now();
    const c = this.cached;
    if (c && at - c.at < (c.good ? this.ttlMs : Math.min(this.ttlMs, CENTRAL_POLICY_RETRY_MS))) return c.inForce;
    this.pending ??= this.refresh(at).finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async refresh(at: number): Promise<PolicyInForce> {
    let inForce: PolicyInForce;
    let good = false;
    try {
      const { text, revision } = await this.read();
      inForce = centralPolicyInForce(text, this.location, this.packaged.policy, revision);
      good = true;
      this.lastGood = { inForce, at };
    } catch (err) {
      // The read's error, or every problem of the document (PolicyError lists them).
      const problems = (err as { problems?: unknown }).problems;
      const why = Array.isArray(problems) && problems.length > 0 ? `invalid: ${problems.join('; ')}` : messageOf(err);
      inForce = unavailableInForce(why, this.location, this.packaged, this.lastGood, at);
    }
    this.cached = { inForce, at, good };
    return inForce;
  }
}
