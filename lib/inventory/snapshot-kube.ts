/**
 * The Kubernetes part of a snapshot: `<snapshot>/kubernetes/<cluster>/` holds the raw API answers
 * as `kubectl get -o json` prints them (nodes.json, pods.json, events.json, aws-node.json,
 * eniconfigs.json, nodepools.json, ec2nodeclasses.json), a `Status` object for an error answer, and
 * optionally access.json when the API could not be read at all. A cluster without the directory was
 * not read. Trimmed by kube-trim.ts; layout: docs/snapshots.md.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { KubeAccess, KubeAccessReason, KubeClusterView, KubePart } from './kube-types';
import { kubeViewOfRaw, type KubeRawPart } from './kube-trim';

/** The directory of the Kubernetes parts, under the snapshot. */
export const KUBE_SNAPSHOT_DIR = 'kubernetes';
/** Each part's file name. */
export const KUBE_SNAPSHOT_FILES: Record<KubePart, string> = {
  nodes: 'nodes.json',
  pods: 'pods.json',
  events: 'events.json',
  'aws-node': 'aws-node.json',
  eniconfigs: 'eniconfigs.json',
  nodepools: 'nodepools.json',
  ec2nodeclasses: 'ec2nodeclasses.json',
};
export const KUBE_ACCESS_FILE = 'access.json';

/** `kubernetes/<cluster>/<file>`, relative to the snapshot. */
export const kubeSnapshotPath = (cluster: string, file: string): string => `${KUBE_SNAPSHOT_DIR}/${cluster}/${file}`;

const REASONS = new Set<KubeAccessReason>(['not-enabled', 'authentication-mode', 'no-access-entry', 'forbidden', 'private-endpoint', 'dns', 'unreachable', 'tls', 'error']);

/** The clusters with a `kubernetes/<cluster>/` directory (none when `kubernetes/` is absent). */
export async function kubeSnapshotClusters(dir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(path.join(dir, KUBE_SNAPSHOT_DIR), { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

async function readPart(file: string): Promise<KubeRawPart | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT') return undefined;
    return { problem: `cannot be read: ${(err as Error).message}` };
  }
  try {
    return { json: JSON.parse(text) as unknown };
  } catch (err) {
    return { problem: `malformed JSON: ${(err as Error).message}` };
  }
}

/**
 * The view of one cluster from its `kubernetes/<cluster>/` files.
 * @param onRaw given each part's JSON as read (a capture of a snapshot writes it again).
 */
export async function readKubeSnapshot(dir: string, cluster: string, readAt: string, onRaw?: (part: KubePart, raw: unknown) => void): Promise<KubeClusterView> {
  const base = path.join(dir, KUBE_SNAPSHOT_DIR, cluster);
  const access = await readPart(path.join(base, KUBE_ACCESS_FILE));
  if (access) {
    const a = 'json' in access ? (access.json as Partial<Record<string, unknown>>) : {};
    const valid = a['ok'] === false && REASONS.has(a['reason'] as KubeAccessReason) && typeof a['detail'] === 'string' && typeof a['fix'] === 'string';
    if (valid) return { readAt, access: a as KubeAccess, unread: [] };
    if (!('json' in access) || a['ok'] !== true) {
      const file = kubeSnapshotPath(cluster, KUBE_ACCESS_FILE);
      const why = 'problem' in access ? access.problem : 'not {ok: false, reason, detail, fix} with a known reason';
      return { readAt, access: { ok: false, reason: 'error', detail: `${file}: ${why}`, fix: `correct or delete ${file}` }, unread: [] };
    }
  }
  const parts: Partial<Record<KubePart, KubeRawPart>> = {};
  await Promise.all(
    (Object.entries(KUBE_SNAPSHOT_FILES) as [KubePart, string][]).map(async ([part, file]) => {
      const p = await readPart(path.join(base, file));
      if (p) parts[part] = p;
      if (p && 'json' in p) onRaw?.(part, p.json);
    }),
  );
  return kubeViewOfRaw(parts, readAt, (part) => kubeSnapshotPath(cluster, KUBE_SNAPSHOT_FILES[part]));
}
