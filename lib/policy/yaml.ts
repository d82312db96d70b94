/**
 * Reading policy.yml (YAML, or JSON, which is YAML too) for the CLI and the stack, with the line
 * of each problem. The deployed functions parse their bundled JSON with lib/policy/load.ts and
 * carry no YAML parser for it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { checkPolicy, policyError, POLICY_FILE_MAX_BYTES, POLICY_MAX_BYTES, type Locate } from './load';
import { PolicyError, type Policy } from './types';

/** YAML syntax errors named at most; a file that is not YAML at all would otherwise give one a line. */
const MAX_SYNTAX_PROBLEMS = 10;

function locator(doc: Document, lineCounter: LineCounter, text: string): Locate {
  // One-line sources (a policy as compact JSON) gain nothing from "(line 1)".
  if (!text.trimEnd().includes('\n')) return () => undefined;
  return (path) => {
    let node: unknown = doc.contents;
    let offset: number | undefined;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment));
        if (!pair) break;
        offset = isScalar(pair.key) ? pair.key.range?.[0] : offset;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item: unknown = node.items[segment];
        if (!item) break;
        offset = isScalar(item) || isMap(item) || isSeq(item) ? item.range?.[0] : offset;
        node = item;
      } else {
        break;
      }
    }
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
}

/**
 * Parses and validates a policy file: YAML, or JSON (JSON is YAML). Checks the
 * default, every cluster's overrides, and the relations (min ≤ max, critical vs. warning) of
 * the merged policy of every cluster, and names every problem, not the first.
 * @param file named in the error: the path of the file.
 * @throws PolicyError whose message names `file` and each problem as `<path>: <problem>`
 *   (`clusters.prod.actions.warmTargets.warmIpTarget: min 20 is above max 16 (line 42)`),
 *   YAML syntax errors as `line L, column C: <message>`.
 */
export function parsePolicy(text: string, file: string): Policy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntax = [...doc.errors, ...doc.warnings].map((e) => {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    return `line ${line}, column ${col}: ${e.message.split('\n')[0] ?? e.message}`;
  });
  if (syntax.length > MAX_SYNTAX_PROBLEMS) {
    const total = syntax.length;
    const more = total - MAX_SYNTAX_PROBLEMS;
    syntax.splice(MAX_SYNTAX_PROBLEMS, more, `... and ${more} more YAML error${more === 1 ? '' : 's'}: is this a YAML or JSON policy?`);
    throw policyError(file, syntax, total);
  }
  if (syntax.length > 0) throw policyError(file, syntax);

  const locate = locator(doc, lineCounter, text);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // An alias bomb or an unresolvable alias: a YAML problem, not a crash.
    throw policyError(file, [`(top level): ${err instanceof Error ? err.message : String(err)}`]);
  }
  return checkPolicy(raw, file, locate);
}

/** A problem of the file as a whole (unreadable, too large, not text): one line, `<file>: (top level): <problem>`. */
function fileError(path: string, problem: string, cause?: unknown): PolicyError {
  const text = `(top level): ${problem}`;
  const error = new PolicyError(`${path}: ${text}`, [text]);
  if (cause !== undefined) error.cause = cause;
  return error;
}

/**
 * The text of a policy file, read up to {@link POLICY_FILE_MAX_BYTES} (never more, whatever the
 * file is: a device or a pipe has no size to check first), as UTF-8 text.
 * @throws PolicyError, one line, when the file cannot be read, is too large, or is not UTF-8 text.
 */
function readPolicyText(path: string): string {
  const buffer = Buffer.alloc(POLICY_FILE_MAX_BYTES + 1);
  let length = 0;
  let size: number | undefined;
  try {
    const fd = openSync(path, 'r');
    try {
      const stat = fstatSync(fd);
      if (stat.isFile()) size = stat.size;
      while (length < buffer.length) {
        const read = readSync(fd, buffer, length, buffer.length - length, null);
        if (read === 0) break;
        length += read;
      }
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a file' : err instanceof Error ? err.message : String(err);
    throw fileError(path, `cannot read the policy: ${reason}`, err);
  }
  if (length > POLICY_FILE_MAX_BYTES) {
    throw fileError(
      path,
      `the file is ${size !== undefined && size > POLICY_FILE_MAX_BYTES ? `${size} bytes` : `more than ${POLICY_FILE_MAX_BYTES} bytes`}, ` +
        `above the ${POLICY_FILE_MAX_BYTES} a policy file may be (the policy it holds may take at most ${POLICY_MAX_BYTES} bytes as compact JSON): ` +
        'check that this is the policy file; remove cluster entries that repeat the default',
    );
  }
  const bytes = buffer.subarray(0, length);
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    throw fileError(path, `not a text file (a NUL byte at offset ${nul}): a policy is YAML or JSON text in UTF-8; check the path`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw fileError(path, 'not UTF-8 text: a policy is YAML or JSON text in UTF-8; check the path, or save the file as UTF-8', err);
  }
}

/**
 * Reads and validates a policy file. The file is read up to {@link POLICY_FILE_MAX_BYTES} and
 * must be UTF-8 text, before anything is parsed.
 * @throws PolicyError when the file cannot be read, is too large or not text (one line), or is invalid.
 */
export function readPolicyFile(path: string): Policy {
  return parsePolicy(readPolicyText(path), path);
}
