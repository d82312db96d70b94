import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Import floors: which folder may import which (docs/architecture.md, "Layers"). Each restriction
// is a `no-restricted-imports` pattern on the import's path as written (relative); a file gets the
// restrictions of every group it belongs to in one rule entry, since a later config object's
// options for a rule replace an earlier one's instead of adding to them. Never silenced with a
// disable comment: move the code instead.
const up = '^(\\.{1,2}/)+'; // one or more `./` or `../`
const NO_TEST = {
  regex: `${up}test(/|$)`,
  message: 'Nothing under lib/, handlers/, scripts/ or tools/ imports test/: code both need lives in tools/.',
};
const NO_HANDLERS = { regex: `${up}handlers(/|$)`, message: 'lib/ never imports a Lambda entry point (handlers/).' };
const NO_ADAPTERS = {
  regex: `${up}(lib/)?(aws|kube)(/|$)`,
  message: 'The pure core imports no adapter (lib/aws, lib/kube): declare a port (an interface) in the core and let the adapter implement it, or move the pure code to the core.',
};
const NO_SDK_VALUES = {
  group: ['@aws-sdk/*'],
  allowTypeImports: true,
  message: 'The pure core imports no AWS SDK value, only its types (`import type`): AWS is called from lib/aws.',
};
const NO_EDGES = {
  regex: `${up}((lib/)?(act|output|events|cli)(/|$)|(lib/)?(cycle|runtime|config)$)`,
  message: 'The pure core does not import the stages after it (act, output), the entry points (events, cli) or the composition (cycle, runtime, config): arrows point down the pipeline.',
};
const NO_PLAN = {
  regex: `${up}(lib/)?plan(/|$)`,
  message: 'Only the plan imports the plan: the stages before it do not (put a name several layers share in lib/names.ts or lib/keys.ts).',
};
const NO_PLANNERS = {
  regex: `${up}(lib/)?plan/(?!types$)`,
  message: 'Adapters import no planner (lib/plan); the plan\'s data types (lib/plan/types) are allowed. Shared names and tags live in lib/names.ts, shared keys in lib/keys.ts.',
};
const NO_COMPOSITION = {
  regex: `${up}((lib/)?(events|cli)(/|$)|(lib/)?(cycle|runtime)$)`,
  message: 'Adapters import no entry point (events, cli) and no composition (cycle, runtime).',
};
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

/** The pure core (docs/architecture.md): no adapter, no SDK value, nothing after it in the pipeline. */
const CORE_BEFORE_PLAN = [
  'lib/names.ts',
  'lib/keys.ts',
  'lib/inventory/**',
  'lib/capacity/**',
  'lib/measure/**',
  'lib/ipamd/**',
  'lib/diagnose/**',
  'lib/forecast/**',
  'lib/policy/types.ts',
  'lib/policy/schema.ts',
  'lib/policy/load.ts',
  'lib/policy/bundled.ts',
];
const CORE_PLAN = ['lib/plan/**'];
const CORE = [...CORE_BEFORE_PLAN, ...CORE_PLAN];
const ADAPTERS = ['lib/aws/**', 'lib/kube/**'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.serverless/', '.serverless-org/', '.esbuild/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Layers. Files are listed so that every file gets exactly one of these entries.
  { files: ['lib/**/*.ts'], ignores: [...CORE, ...ADAPTERS], rules: restrict(NO_TEST, NO_HANDLERS) },
  { files: CORE_BEFORE_PLAN, rules: restrict(NO_TEST, NO_HANDLERS, NO_ADAPTERS, NO_SDK_VALUES, NO_EDGES, NO_PLAN) },
  { files: CORE_PLAN, rules: restrict(NO_TEST, NO_HANDLERS, NO_ADAPTERS, NO_SDK_VALUES, NO_EDGES) },
  { files: ADAPTERS, rules: restrict(NO_TEST, NO_HANDLERS, NO_PLANNERS, NO_COMPOSITION) },
  { files: ['handlers/**/*.ts', 'scripts/**/*.ts', 'tools/**/*.ts'], rules: restrict(NO_TEST) },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', __filename: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
