import { quietSdkNodeVersionWarning } from '../lib/cli/node-version';

// On Node.js < 22 the AWS SDK's clients warn that the SDK will need Node.js 22 (8 lines, once per
// test file: each file loads its own SDK). The run says it once (test/global-setup.ts); this
// drops the SDK's copies and lets every other warning through. Jest gives each test file its own
// `process` object, so the filter ends with the file.
quietSdkNodeVersionWarning(process);
