/**
 * The token's format against aws-iam-authenticator (pkg/token/token.go: prefix, base64url without
 * padding, GetCallerIdentity, x-k8s-aws-id signed, X-Amz-Expires=60), and its SigV4 signature
 * recomputed here with node:crypto from the AWS SigV4 documentation, independently of the signer.
 */
import { createHash, createHmac } from 'node:crypto';
import { EKSClient } from '@aws-sdk/client-eks';
import { EksTokenCache, makeEksToken, TOKEN_PREFIX, tokenSigningOf, type TokenSigning } from '../../lib/kube/token';

const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session/token+1' };
const eks = new EKSClient({ region: 'eu-west-1', credentials: creds });
const signing = (): TokenSigning => tokenSigningOf(eks.config);
const at = new Date('2026-12-03T10:20:30Z');

function decode(token: string): URL {
  expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
  const b64 = token.slice(TOKEN_PREFIX.length);
  // base64url, no padding (token.go base64.RawURLEncoding)
  expect(b64).toMatch(/^[A-Za-z0-9_-]+$/);
  return new URL(Buffer.from(b64, 'base64url').toString('utf8'));
}

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();
const rfc3986 = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** SigV4 for a presigned URL (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html). */
function expectedSignature(url: URL, clusterName: string, secret: string): string {
  const params = [...url.searchParams.entries()].filter(([k]) => k !== 'X-Amz-Signature');
  const canonicalQuery = params
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = ['GET', '/', canonicalQuery, `host:${url.host}\nx-k8s-aws-id:${clusterName}\n`, 'host;x-k8s-aws-id', createHash('sha256').update('').digest('hex')].join('\n');
  const date = url.searchParams.get('X-Amz-Date') ?? '';
  const scope = `${date.slice(0, 8)}/eu-west-1/sts/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date.slice(0, 8)), 'eu-west-1'), 'sts'), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

describe('makeEksToken', () => {
  it('is a presigned STS GetCallerIdentity URL of the regional endpoint, as aws-iam-authenticator makes it', async () => {
    const url = decode(await makeEksToken('prod-a', signing(), at));
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    const q = url.searchParams;
    expect(q.get('Action')).toBe('GetCallerIdentity');
    expect(q.get('Version')).toBe('2011-06-15');
    expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(q.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20261203/eu-west-1/sts/aws4_request');
    expect(q.get('X-Amz-Date')).toBe('20261203T102030Z');
    expect(q.get('X-Amz-Expires')).toBe('60');
    expect(q.get('X-Amz-Security-Token')).toBe(creds.sessionToken);
    expect(q.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(q.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('carries a valid SigV4 signature over the cluster name header (recomputed independently)', async () => {
    const url = decode(await makeEksToken('prod-a', signing(), at));
    expect(url.searchParams.get('X-Amz-Signature')).toBe(expectedSignature(url, 'prod-a', creds.secretAccessKey));
    // The signature binds the cluster: the same URL does not verify for another cluster name.
    expect(url.searchParams.get('X-Amz-Signature')).not.toBe(expectedSignature(url, 'prod-b', creds.secretAccessKey));
  });

  it('uses the .cn endpoint in China regions', async () => {
    const cn = tokenSigningOf(new EKSClient({ region: 'cn-north-1', credentials: creds }).config);
    expect(decode(await makeEksToken('c', cn, at)).host).toBe('sts.cn-north-1.amazonaws.com.cn');
  });
});

describe('EksTokenCache', () => {
  it('reuses a cluster token for less than 14 minutes, then makes a new one', async () => {
    let now = at.getTime();
    let made = 0;
    const base = signing();
    const counting: TokenSigning = { ...base, credentials: async () => { made += 1; return creds; } };
    const cache = new EksTokenCache(counting, () => new Date(now));
    const first = await cache.token('prod-a');
    now += 12 * 60_000;
    expect(await cache.token('prod-a')).toBe(first);
    expect(made).toBe(1);
    await cache.token('prod-b');
    expect(made).toBe(2);
    now += 60_000 + 1; // 13 min after the first
    const renewed = await cache.token('prod-a');
    expect(renewed).not.toBe(first);
    expect(made).toBe(3);
  });
});
