/**
 * A local HTTP server answering as SSM (awsJson1_1 GetParameter) and S3 (GetObject) answer, for
 * the central policy's reads: real wire shapes (SSM's `{"Parameter": {...}}` and its error JSON
 * `{"__type": ..., "message": ...}`; S3's object body with an ETag and its XML `<Error>`), and a
 * SigV4 signature recomputed here with node:crypto from the AWS documentation
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), independently
 * of the signer: a request whose signature does not match is answered 403 SignatureDoesNotMatch.
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** The credential scope the Authorization header names: `<date>/<region>/<service>/aws4_request`. */
  scope: string;
  signedHeaders: string[];
  signatureValid: boolean;
}

/** What the server answers next: a parameter, an object, or an error. */
export type CentralAnswer =
  | { kind: 'parameter'; value: string; version?: number; type?: string }
  | { kind: 'object'; body: string; etag?: string }
  | { kind: 'error'; status: number; code: string; message?: string }
  | { kind: 'hang' };

export interface CentralPolicyServer {
  url: string;
  requests: SeenRequest[];
  /** Sets what every following request is answered. */
  answer(a: CentralAnswer): void;
  close(): Promise<void>;
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

function verify(req: IncomingMessage, body: string, secret: string): { scope: string; signedHeaders: string[]; valid: boolean } {
  const auth = String(req.headers.authorization ?? '');
  const m = /^AWS4-HMAC-SHA256 Credential=[^/]+\/([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { scope: '', signedHeaders: [], valid: false };
  const [, scope = '', signed = '', signature = ''] = m;
  const signedHeaders = signed.split(';');
  const url = new URL(req.url ?? '/', 'http://local');
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payload = String(req.headers['x-amz-content-sha256'] ?? sha256(body));
  const canonicalRequest = [req.method, url.pathname, url.search.slice(1), canonicalHeaders, signed, payload].join('\n');
  const date = String(req.headers['x-amz-date'] ?? '');
  const [day = '', region = '', service = ''] = scope.split('/');
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  return { scope, signedHeaders, valid: expected === signature };
}

/** Starts the server on a free port of 127.0.0.1; `secret` is the secret access key the signatures are checked with. */
export async function startCentralPolicyServer(secret = process.env.AWS_SECRET_ACCESS_KEY ?? ''): Promise<CentralPolicyServer> {
  const requests: SeenRequest[] = [];
  let next: CentralAnswer = { kind: 'error', status: 400, code: 'ParameterNotFound' };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const { scope, signedHeaders, valid } = verify(req, body, secret);
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, scope, signedHeaders, signatureValid: valid });
      const isS3 = scope.endsWith('/s3/aws4_request');
      if (!valid) {
        if (isS3) {
          res.writeHead(403, { 'content-type': 'application/xml' });
          res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error>');
        } else {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: 'InvalidSignatureException', message: 'The request signature we calculated does not match the signature you provided.' }));
        }
        return;
      }
      const a = next;
      if (a.kind === 'hang') return;
      if (a.kind === 'error') {
        if (isS3) {
          res.writeHead(a.status, { 'content-type': 'application/xml' });
          res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${a.code}</Code><Message>${a.message ?? ''}</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>`);
        } else {
          res.writeHead(a.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'b3d5ba4e-0000-4000-8000-000000000000' });
          res.end(JSON.stringify({ __type: a.code, ...(a.message ? { message: a.message } : {}) }));
        }
        return;
      }
      if (a.kind === 'object') {
        res.writeHead(200, { 'content-type': 'application/json', etag: `"${a.etag ?? 'd41d8cd98f00b204e9800998ecf8427e'}"`, 'content-length': Buffer.byteLength(a.body) });
        res.end(a.body);
        return;
      }
      // GetParameter's answer (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html).
      const name = (JSON.parse(body || '{}') as { Name?: string }).Name ?? '';
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({
          Parameter: { ARN: name, DataType: 'text', LastModifiedDate: 1.7648e9, Name: name, Type: a.type ?? 'String', Value: a.value, Version: a.version ?? 1 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer: (a) => (next = a),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
