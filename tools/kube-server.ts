/**
 * A Kubernetes API server for the tests, over HTTPS with the certificates of tools/fixtures/kube,
 * answering in the API's real shapes: lists paged with `limit`/`continue`, field selectors,
 * `Status` bodies for 401/403/404/409/410, and server-side apply with field ownership per manager.
 * Every request is recorded (method, path, query, headers, body) for assertions.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { applyOwned, cloneOwned, conflictStatus, managedFields, owned, type Obj, type Owned } from './field-ownership';

const FIXTURES = join(__dirname, 'fixtures', 'kube');
/** The CA that signed the server's certificate (PEM): what DescribeCluster's certificateAuthority.data holds. */
export const KUBE_TEST_CA = readFileSync(join(FIXTURES, 'ca.pem'), 'utf8');
/** An unrelated CA: a client that trusts only it fails TLS verification. */
export const KUBE_OTHER_CA = readFileSync(join(FIXTURES, 'other-ca.pem'), 'utf8');

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}

/** The real message of an expired continue token (k8s.io/apiserver storage/etcd3, ErrResourceExpired's text). */
const EXPIRED_MESSAGE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

export interface KubeServerOptions {
  /** Which bearer tokens are accepted; default: any `k8s-aws-v1.` token. */
  authorize?: (token: string | undefined) => boolean;
}

export class KubeTestServer {
  readonly requests: RecordedRequest[] = [];
  /** Paths (list or object, matched by prefix) that answer 403 Forbidden. */
  readonly forbidden = new Set<string>();
  /** Resource paths not served (a CRD not installed): `404 page not found`. */
  readonly absent = new Set<string>();
  /** Paths that never answer (a timeout). */
  readonly hanging = new Set<string>();
  /** How many requests with a `continue` token answer 410 Gone (reason Expired). */
  expireContinue = 0;
  /** A request answers `500` when this says so. */
  failWith?: (req: RecordedRequest) => number | undefined;
  private readonly objects = new Map<string, Owned>();
  /** The objects of each list path (`/api/v1/pods`), in the order they were first stored. */
  private readonly collections = new Map<string, Map<string, Owned>>();
  /** The last list's matching objects, reused by its next pages while nothing changed. */
  private listed?: { key: string; items: Owned[] };
  /** Answers sent and their body bytes (the bench reads these). */
  sent = { responses: 0, bytes: 0 };
  private resourceVersion = 1000;
  private readonly server = createServer({
    key: readFileSync(join(FIXTURES, 'server-key.pem')),
    cert: readFileSync(join(FIXTURES, 'server.pem')),
  });
  endpoint = '';

  constructor(private readonly options: KubeServerOptions = {}) {
    this.server.on('request', (req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.endpoint = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Stores an object at its path (`/api/v1/namespaces/default/pods/web-1`, `/api/v1/nodes/n1`).
   * With `manager`, every field of it is owned by that manager (as when Helm or kubectl made it), by
   * `operation` (Update, as Helm and kubectl edit write; Apply, as a server-side apply does).
   */
  put(path: string, object: Obj, manager?: string, operation: 'Apply' | 'Update' = 'Update'): void {
    const stored = owned(object, manager, operation);
    this.stamp(stored);
    this.store(path, stored);
  }

  private store(path: string, s: Owned): void {
    this.objects.set(path, s);
    const list = collectionOf(path);
    let c = this.collections.get(list);
    if (!c) this.collections.set(list, (c = new Map()));
    c.set(path, s);
  }

  /** The stored object with its managedFields, as a GET answers it. */
  get(path: string): Obj | undefined {
    const s = this.objects.get(path);
    return s ? this.render(s) : undefined;
  }

  /** Requests to a path (a list or object path, query left out). */
  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  private stamp(s: Owned): void {
    const meta = ((s.object['metadata'] as Obj | undefined) ??= {});
    meta['resourceVersion'] = String(++this.resourceVersion);
    meta['creationTimestamp'] ??= '2026-12-01T08:00:00Z';
    meta['uid'] ??= `uid-${this.resourceVersion}`;
  }

  private render(s: Owned): Obj {
    const out = structuredClone(s.object);
    (out['metadata'] as Obj)['managedFields'] = managedFields(s, s.object['apiVersion'], '2026-12-01T08:00:00Z');
    return out;
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json' });
    this.sent.responses += 1;
    this.sent.bytes += Buffer.byteLength(text);
    res.end(text);
  }

  private status(res: ServerResponse, code: number, reason: string, message: string, details?: Obj): void {
    this.send(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams.entries()),
      headers: req.headers,
      ...(text ? { body: parseYaml(text) as unknown } : {}),
    };
    this.requests.push(recorded);
    if ([...this.hanging].some((p) => url.pathname.startsWith(p))) return;
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    const authorized = this.options.authorize ? this.options.authorize(token) : Boolean(token?.startsWith('k8s-aws-v1.'));
    // The API server's answer to a refused token (k8s.io/apiserver authentication filter).
    if (!authorized) return this.status(res, 401, 'Unauthorized', 'Unauthorized');
    const failure = this.failWith?.(recorded);
    if (failure) return this.status(res, failure, 'InternalError', 'Internal error occurred: etcdserver: request timed out');
    if ([...this.absent].some((p) => url.pathname.startsWith(p))) return this.send(res, 404, '404 page not found\n');
    const resource = resourceOf(url.pathname);
    if ([...this.forbidden].some((p) => url.pathname.startsWith(p))) {
      const verb = req.method === 'PATCH' ? 'patch' : resource.name ? 'get' : 'list';
      return this.status(
        res,
        403,
        'Forbidden',
        `${resource.plural} is forbidden: User "arn:aws:sts::111122223333:assumed-role/eks-ip-responder-sampler/fn" cannot ${verb} resource "${resource.plural}" in API group "${resource.group}" at the cluster scope`,
        { kind: resource.plural },
      );
    }
    if (req.method === 'GET' && !resource.name) return this.list(url, res);
    if (req.method === 'GET') {
      const s = this.objects.get(url.pathname);
      if (!s) return this.status(res, 404, 'NotFound', `${resource.plural}${resource.group ? `.${resource.group}` : ''} "${resource.name}" not found`, { name: resource.name, kind: resource.plural });
      return this.send(res, 200, this.render(s));
    }
    if (req.method === 'PATCH') return this.apply(url, req.headers['content-type'], recorded.body, res);
    return this.status(res, 405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  }

  private list(url: URL, res: ServerResponse): void {
    const listPath = url.pathname;
    const selector = url.searchParams.get('fieldSelector') ?? '';
    // Pages of one list share the matching set (resourceVersion moves on every write): a large
    // list is filtered once, and only the page's objects are rendered.
    const key = `${listPath}?${selector}@${this.resourceVersion}`;
    if (this.listed?.key !== key) {
      const matches = fieldSelectorMatcher(selector);
      this.listed = { key, items: [...(this.collections.get(listPath)?.values() ?? [])].filter((s) => matches(s.object)) };
    }
    const all = this.listed.items;
    const limit = Number(url.searchParams.get('limit') ?? '0');
    const cont = url.searchParams.get('continue');
    if (cont && this.expireContinue > 0) {
      this.expireContinue -= 1;
      return this.status(res, 410, 'Expired', EXPIRED_MESSAGE);
    }
    const offset = cont ? (JSON.parse(Buffer.from(cont, 'base64').toString('utf8')) as { start: number }).start : 0;
    const end = limit > 0 ? offset + limit : all.length;
    const next = end < all.length ? Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: this.resourceVersion, start: end })).toString('base64') : undefined;
    const first = all[0]?.object;
    const kind = `${typeof first?.['kind'] === 'string' ? first['kind'] : 'Unknown'}List`;
    this.send(res, 200, {
      kind,
      apiVersion: typeof first?.['apiVersion'] === 'string' ? first['apiVersion'] : 'v1',
      metadata: { resourceVersion: String(this.resourceVersion), ...(next ? { continue: next, remainingItemCount: all.length - end } : {}) },
      items: all.slice(offset, end).map((s) => this.render(s)),
    });
  }

  /** Server-side apply (https://kubernetes.io/docs/reference/using-api/server-side-apply/). */
  private apply(url: URL, contentType: string | undefined, body: unknown, res: ServerResponse): void {
    if (contentType !== 'application/apply-patch+yaml') return this.status(res, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
    const manager = url.searchParams.get('fieldManager');
    if (!manager) return this.status(res, 422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    const force = url.searchParams.get('force') === 'true';
    const dryRun = url.searchParams.get('dryRun') === 'All';
    const applied = body as Obj;
    const existing = this.objects.get(url.pathname);
    const s: Owned = existing ? cloneOwned(existing) : owned({ apiVersion: applied['apiVersion'], kind: applied['kind'], metadata: { ...(applied['metadata'] as Obj) } });
    const apiVersion = String(s.object['apiVersion'] ?? applied['apiVersion']);
    const conflicts = applyOwned(s, manager, applied, force);
    if (conflicts.length > 0 && !force) {
      const { message, causes } = conflictStatus(conflicts, apiVersion);
      return this.status(res, 409, 'Conflict', message, { causes });
    }
    if (dryRun) return this.send(res, existing ? 200 : 201, this.render(s));
    this.stamp(s);
    this.store(url.pathname, s);
    this.send(res, existing ? 200 : 201, this.render(s));
  }
}

/** `{group, plural, name}` of an API path. */
function resourceOf(path: string): { group: string; plural: string; name?: string } {
  const parts = path.split('/').filter(Boolean);
  const core = parts[0] === 'api';
  const rest = parts.slice(core ? 2 : 3);
  const group = core ? '' : (parts[1] ?? '');
  const r = rest[0] === 'namespaces' && rest.length > 2 ? rest.slice(2) : rest;
  return { group, plural: r[0] ?? '', ...(r[1] ? { name: r[1] } : {}) };
}

/** The cluster-wide list path of an object path (`/api/v1/namespaces/x/pods/p` → `/api/v1/pods`). */
function collectionOf(objectPath: string): string {
  return objectPath.replace(/\/namespaces\/[^/]+(?=\/[^/]+\/[^/]+$)/, '').replace(/\/[^/]+$/, '');
}

/** `a.b=x,c!=y` (the field selector syntax; https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/). */
function fieldSelectorMatcher(selector: string): (o: Obj) => boolean {
  const terms = selector
    .split(',')
    .filter(Boolean)
    .map((t) => {
      const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(t);
      if (!m) throw new Error(`bad field selector ${t}`);
      return { path: (m[1] ?? '').split('.'), negate: m[2] === '!=', value: m[3] ?? '' };
    });
  return (o) =>
    terms.every((t) => {
      const v = t.path.reduce<unknown>((cur, k) => (cur as Obj | undefined)?.[k], o);
      const eq = String(v ?? '') === t.value;
      return t.negate ? !eq : eq;
    });
}

export async function startKubeServer(options?: KubeServerOptions): Promise<KubeTestServer> {
  return new KubeTestServer(options).start();
}
