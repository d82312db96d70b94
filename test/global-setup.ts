import { nodeVersionNote } from '../lib/cli/node-version';

/**
 * Once per jest run, before any test file: the AWS SDK's Node.js version warning, in one line
 * (test/setup-warnings.ts drops the SDK's own copies of it, one per test file).
 */
export default function globalSetup(): void {
  const note = nodeVersionNote(process.version);
  if (note && process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] !== 'true') process.stderr.write(note);
}
