/**
 * The AWS SDK's Node.js version warning, said in one line.
 *
 * Design: docs/cli.md#libclinode-versionts-the-sdks-nodejs-version-warning
 */

/**
 * The name the SDK starts its warning's message with: `emitWarningIfUnsupportedVersion` of
 * @aws-sdk/core/client (node_modules/@aws-sdk/core/dist-cjs/submodules/client/index.js, called
 * from each client's `getRuntimeConfig`).
 */
export const SDK_NODE_VERSION_WARNING = 'NodeVersionSupportWarning';

/** The Node.js major the SDK asks for (`vv` in emitWarningIfUnsupportedVersion). */
export const SDK_NODE_MAJOR = 22;

/** Whether a `process.emitWarning` call is the SDK's Node.js version warning (by message, or by type or name should it pass one). */
export function isSdkNodeVersionWarning(warning: string | Error, typeOrOptions?: unknown): boolean {
  const message = typeof warning === 'string' ? warning : warning.message;
  const type =
    typeof typeOrOptions === 'string'
      ? typeOrOptions
      : typeof (typeOrOptions as { type?: unknown } | undefined)?.type === 'string'
        ? (typeOrOptions as { type: string }).type
        : undefined;
  const name = typeof warning === 'string' ? undefined : warning.name;
  return message.startsWith(`${SDK_NODE_VERSION_WARNING}:`) || type === SDK_NODE_VERSION_WARNING || name === SDK_NODE_VERSION_WARNING;
}

/**
 * The one-line note that replaces the SDK's warning on `version` (`process.version`, e.g.
 * 'v20.19.0'), or undefined on a version the SDK supports. The SDK's own words: versions published
 * after the first week of January 2027 require Node.js >= 22.
 */
export function nodeVersionNote(version: string): string | undefined {
  const major = Number.parseInt(version.replace(/^v/, ''), 10);
  if (!Number.isInteger(major) || major >= SDK_NODE_MAJOR) return undefined;
  return `note: Node.js ${major} — the AWS SDK recommends Node.js ${SDK_NODE_MAJOR}+ (support ends January 2027)\n`;
}

/** The part of `process` the filter replaces. */
export interface WarningEmitter {
  emitWarning: NodeJS.Process['emitWarning'];
}

/**
 * Replaces `target.emitWarning` with one that drops the SDK's Node.js version warning and passes
 * every other warning on unchanged. `onFirst` runs instead, on the first one dropped (the CLI
 * prints its one-line note there). Answers the function that puts the original back.
 */
export function quietSdkNodeVersionWarning(target: WarningEmitter, onFirst?: () => void): () => void {
  const original = target.emitWarning;
  let dropped = false;
  const filtered = function emitWarning(this: unknown, warning: string | Error, ...rest: unknown[]): void {
    if (isSdkNodeVersionWarning(warning, rest[0])) {
      if (!dropped) onFirst?.();
      dropped = true;
      return;
    }
    (original as (...args: unknown[]) => void).call(this, warning, ...rest);
  };
  target.emitWarning = filtered as NodeJS.Process['emitWarning'];
  return () => {
    if (target.emitWarning === filtered) target.emitWarning = original;
  };
}
