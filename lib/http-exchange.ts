/**
 * One HTTP(S) exchange over node:http(s), for the two clients the functions make without an SDK
 * (lib/kube/http.ts, lib/aws/central-policy.ts): the whole answer read, at most `maxBytes`, under
 * one timer for connection, TLS, request and answer. A failure is an HttpExchangeError whose code
 * is the socket error's (ENOTFOUND, ECONNREFUSED, a TLS code...), TIMEOUT or TooLarge.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { CodedError } from './errors';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export class HttpExchangeError extends CodedError {
  override readonly name = 'HttpExchangeError';
}

/** Sends `options` (with `payload`), and resolves with the answer whatever its status. `what` opens every message. */
export function httpExchange(
  options: RequestOptions,
  payload: string | Buffer | undefined,
  { timeoutMs, what, maxBytes = Number.POSITIVE_INFINITY }: { timeoutMs: number; what: string; maxBytes?: number },
): Promise<HttpAnswer> {
  const request = options.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const r = request(options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) r.destroy(new HttpExchangeError('TooLarge', `${what}: above ${maxBytes} bytes`));
        else chunks.push(c);
      });
      res.on('error', (err) => r.emit('error', err));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    const timer = setTimeout(() => r.destroy(new HttpExchangeError('TIMEOUT', `${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    r.on('error', (err) => {
      clearTimeout(timer);
      if (err instanceof HttpExchangeError) return reject(err);
      const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
      reject(new HttpExchangeError(code, `${what}: ${code}: ${err.message}`, { cause: err }));
    });
    if (payload !== undefined) r.write(payload);
    r.end();
  });
}
