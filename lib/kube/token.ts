/**
 * The bearer token of an EKS cluster, made as `aws eks get-token` and aws-iam-authenticator make
 * it: an STS GetCallerIdentity GET URL presigned with SigV4 (the SDK's own signer), the cluster
 * name signed in as the `x-k8s-aws-id` header, `k8s-aws-v1.` + base64url(url) without padding.
 * Source: kubernetes-sigs/aws-iam-authenticator@81b1dab pkg/token/token.go (v1Prefix,
 * clusterIDHeader, requestPresignParam = 60, presignedURLExpiration = 15 min, RawURLEncoding).
 */
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider, ChecksumConstructor, HashConstructor } from '@smithy/types';

/** token.go `v1Prefix`. */
export const TOKEN_PREFIX = 'k8s-aws-v1.';
/** token.go `clusterIDHeader`: the header that binds the token to one cluster. */
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** token.go `requestPresignParam`: X-Amz-Expires; STS accepts the URL for 15 min whatever it says. */
export const PRESIGN_EXPIRES_SECONDS = 60;
/** token.go `presignedURLExpiration` (15 min) less a margin: a cached token is reused for at most 13 min. */
export const TOKEN_REUSE_MS = 13 * 60_000;

/** What signs: the SDK client's own resolved config (credentials from the default provider chain). */
export interface TokenSigning {
  credentials: AwsCredentialIdentityProvider;
  region: string | (() => Promise<string>);
  sha256: ChecksumConstructor | HashConstructor;
}

/** The signing parts of an SDK client (`eksClient.config`): its credential chain, region and hash. */
export function tokenSigningOf(config: { credentials: AwsCredentialIdentityProvider; region: () => Promise<string>; sha256: ChecksumConstructor | HashConstructor }): TokenSigning {
  return { credentials: config.credentials, region: config.region, sha256: config.sha256 };
}

/** The regional STS endpoint's host (aws-iam-authenticator uses the regional endpoint). */
export function stsHost(region: string): string {
  return `sts.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** RFC 3986 escaping, as SigV4 canonical query strings use it. */
const escape = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Makes a token for one cluster, signed at `now`. */
export async function makeEksToken(clusterName: string, signing: TokenSigning, now: Date = new Date()): Promise<string> {
  const region = typeof signing.region === 'string' ? signing.region : await signing.region();
  const hostname = stsHost(region);
  const signer = new SignatureV4({ credentials: signing.credentials, region, service: 'sts', sha256: signing.sha256 });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, [CLUSTER_ID_HEADER]: clusterName },
    },
    { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate: now },
  );
  const query = Object.entries(presigned.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string').map((x) => `${escape(k)}=${escape(x)}`))
    .join('&');
  const url = `https://${hostname}/?${query}`;
  return TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url');
}

/** Tokens per cluster, each reused for at most {@link TOKEN_REUSE_MS} (tokens are valid 15 min). */
export class EksTokenCache {
  private readonly tokens = new Map<string, { token: string; madeAt: number }>();

  constructor(
    private readonly signing: TokenSigning,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async token(clusterName: string): Promise<string> {
    const at = this.now();
    const cached = this.tokens.get(clusterName);
    if (cached && at.getTime() - cached.madeAt < TOKEN_REUSE_MS) return cached.token;
    const token = await makeEksToken(clusterName, this.signing, at);
    this.tokens.set(clusterName, { token, madeAt: at.getTime() });
    return token;
  }
}
