/**
 * Three projects, all run by `npx jest` (and `npm test`):
 *
 * - unit: the pure core, no dynalite, no emulated account, no server, no package
 *   (`npm run test:unit`, well under a minute);
 * - integration: adapters, handlers, act loop, CLI, faults, wire: dynalite, the emulated account
 *   (tools/mock-aws.ts) and local servers;
 * - stack: the packaged template and bundles (.serverless/). Its globalSetup packages first when
 *   .serverless/ is missing or older than its sources (test/stack/global-setup.ts).
 *
 * A test that needs dynalite, the emulator or a server goes in a folder of the integration
 * project, not in one of UNIT_FOLDERS.
 */
const { availableParallelism } = require('node:os');

const UNIT_FOLDERS = ['measure', 'ipamd', 'capacity', 'diagnose', 'forecast', 'plan', 'policy', 'events', 'output'];
const UNIT = [...UNIT_FOLDERS.map((f) => `test/${f}/**/*.test.ts`), 'test/config.test.ts'];

/** @type {import('jest').Config} */
const common = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/tools'],
  // Type checking is `npm run typecheck`; ts-jest only transpiles (tsconfig has isolatedModules).
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  setupFiles: ['<rootDir>/test/setup-env.ts', '<rootDir>/test/setup-warnings.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  // Says the AWS SDK's Node.js version warning once (the setup files drop its per-file copies).
  globalSetup: '<rootDir>/test/global-setup.ts',
  testTimeout: 30000,
  // Jest's default, cores - 1, is one worker on 2 cores: every file in band on one core. The
  // files wait on dynalite, local servers and `serverless package` children often enough that two
  // workers take 30 s where one takes 48 (unit and integration, 2 cores).
  maxWorkers: Math.max(2, availableParallelism() - 1),
  projects: [
    { ...common, displayName: 'unit', testMatch: UNIT.map((glob) => `<rootDir>/${glob}`) },
    {
      ...common,
      displayName: 'integration',
      // (jest expands <rootDir> only at the start of a glob: the negations match from any root.)
      testMatch: ['<rootDir>/test/**/*.test.ts', ...UNIT.map((glob) => `!**/${glob}`), '!**/test/stack/**'],
    },
    {
      ...common,
      displayName: 'stack',
      testMatch: ['<rootDir>/test/stack/**/*.test.ts'],
      globalSetup: '<rootDir>/test/stack/global-setup.ts',
      setupFiles: [...common.setupFiles, '<rootDir>/test/stack/setup-package.ts'],
    },
  ],
};
