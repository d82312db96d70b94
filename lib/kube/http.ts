/**
 * One HTTPS request to a cluster's API server (lib/http-exchange.ts): the cluster CA from
 * DescribeCluster as the only trusted root, a bearer token, a timeout, JSON in and out. A non-2xx answer is a
 * KubeApiError built from the Kubernetes `Status` body; a failure to connect is a
 * KubeConnectionError carrying the socket error's code (ENOTFOUND, ECONNREFUSED, a TLS code...).
 */
import type { Agent } from 'node:https';
import { httpExchange, HttpExchangeError, type HttpAnswer } from '../http-exchange';
import { KubeApiError } from '../inventory/kube-types';
import { CodedError } from '../errors';

/** Where and how to reach one cluster's API server. */
export interface KubeEndpoint {
  /** `https://<id>.<suffix>.<region>.eks.amazonaws.com` (DescribeCluster `endpoint`). */
  url: string;
  /** PEM of the cluster CA (DescribeCluster certificateAuthority.data, base64-decoded). */
  ca: string;
  token: () => Promise<string>;
  /** Per request (connection and answer); the reader caps it by its deadline. */
  timeoutMs: number;
  agent?: Agent;
}

export interface KubeRequest {
  method: 'GET' | 'PATCH';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  /** Overrides the endpoint's timeout (the deadline's remaining time). */
  timeoutMs?: number;
}

/** The API server could not be reached or did not answer in time. `code`: the socket error's code, or `TIMEOUT`. */
export class KubeConnectionError extends CodedError {
  override readonly name = 'KubeConnectionError';
}

/** `?a=1&b=2` of the defined entries. */
export function queryString(query: Record<string, string | undefined> = {}): string {
  const parts = Object.entries(query)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

/** A KubeApiError from an answer's status and body (a `Status` object when the server sends one). */
export function kubeApiErrorOf(status: number, text: string, what: string): KubeApiError {
  let body: { kind?: unknown; reason?: unknown; message?: unknown; details?: { causes?: unknown } } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  const isStatus = body?.kind === 'Status';
  const reason = isStatus && typeof body?.reason === 'string' ? body.reason : undefined;
  const message = isStatus && typeof body?.message === 'string' ? body.message : text.slice(0, 200) || `HTTP ${status}`;
  const causes = isStatus && Array.isArray(body?.details?.causes)
    ? (body.details.causes as { field?: unknown; message?: unknown; reason?: unknown }[]).map((c) => ({
        ...(typeof c.field === 'string' ? { field: c.field } : {}),
        ...(typeof c.message === 'string' ? { message: c.message } : {}),
        ...(typeof c.reason === 'string' ? { reason: c.reason } : {}),
      }))
    : [];
  return new KubeApiError(status, reason, `${what}: ${status}${reason ? ` ${reason}` : ''}: ${message}`, causes);
}

/** Sends one request; resolves with the parsed JSON body of a 2xx answer, rejects otherwise. */
export async function kubeRequest(endpoint: KubeEndpoint, req: KubeRequest): Promise<unknown> {
  const token = await endpoint.token();
  const url = new URL(endpoint.url);
  const path = `${url.pathname.replace(/\/$/, '')}${req.path}${queryString(req.query)}`;
  const what = `${req.method} ${req.path}`;
  const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body), 'utf8');
  const timeoutMs = Math.max(1, req.timeoutMs ?? endpoint.timeoutMs);
  let answer: HttpAnswer;
  try {
    answer = await httpExchange(
      {
        protocol: 'https:',
        hostname: url.hostname,
        port: url.port || 443,
        method: req.method,
        path,
        ca: endpoint.ca,
        agent: endpoint.agent,
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: 'application/json',
          ...(payload ? { 'Content-Type': req.contentType ?? 'application/json', 'Content-Length': payload.length } : {}),
        },
      },
      payload,
      { timeoutMs, what },
    );
  } catch (err) {
    throw err instanceof HttpExchangeError ? new KubeConnectionError(err.code, err.message, { cause: err.cause ?? err }) : err;
  }
  if (answer.status < 200 || answer.status > 299) throw kubeApiErrorOf(answer.status, answer.body, what);
  try {
    return answer.body === '' ? {} : JSON.parse(answer.body);
  } catch (err) {
    throw new KubeApiError(answer.status, 'MalformedAnswer', `${what}: the answer is not JSON`, [], { cause: err });
  }
}
