// Lint rules that hold the module boundaries of STYLE.md:
// - workflows/ imports only @temporalio/workflow (and @temporalio/common), its own files, the pure
//   modules listed below, and types (`import type`) from anywhere: never I/O, never Node built-ins;
// - src/ never imports workflows/ or activities/, except the composition roots (src/worker, src/agent, src/cli);
// - no floating promises anywhere.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

const PURE_FOR_WORKFLOWS = ['../src/judge', '../src/search-attributes', '../src/faults/describe', '../src/task-queues', '../src/notify/delivery', '../src/run-start'];

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'reports/**', '.gameday/**', 'eslint.config.js', 'bin/**', 'scripts/**'] },
  {
    // The demo target system: plain CommonJS for Node 20, run in its own containers.
    files: ['examples/**/*.js'],
    ...js.configs.recommended,
    languageOptions: {
      sourceType: 'commonjs',
      globals: Object.fromEntries(['require', 'module', 'process', 'console', 'Buffer', 'URL', 'fetch', 'AbortSignal', 'setTimeout', 'setInterval'].map((g) => [g, 'readonly'])),
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: __dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      // node:test's test() and describe() return promises the runner awaits itself.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', name: ['test', 'describe', 'it', 'suite'], package: 'node:test' }] }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(?!@temporalio/(workflow|common)$|\\./|${PURE_FOR_WORKFLOWS.map((p) => p.replace(/[./]/g, '\\$&') + '$').join('|')}).*`,
              allowTypeImports: true,
              message: 'workflows/ imports only @temporalio/workflow, pure modules and types: do I/O in an activity',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/worker/**', 'src/agent/**', 'src/cli/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/workflows', '**/workflows/**', '**/activities', '**/activities/**'], message: 'src/ is the library: it never imports workflows/ or activities/' }] },
      ],
    },
  },
  {
    files: ['src/judge.ts', 'src/search-attributes.ts', 'src/memo-keys.ts', 'src/mask.ts', 'src/notify/delivery.ts', 'src/run-start.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [{ regex: '^(?!@temporalio/common$|(\\.\\./|\\./)mask$|\\./memo-keys$).*', allowTypeImports: true, message: 'this module is imported by workflows: keep it pure' }],
        },
      ],
    },
  },
  // The fault kinds' words are planned by the workflow: describe.ts, the kinds (their fields are
  // built from the loader's zod kit, src/spec/fault-fields.ts, so zod stays out of the workflow
  // bundle) and what they share stay pure.
  ...[
    { files: ['src/faults/describe.ts'], allow: ['\\.\\./mask', '\\./kinds', '\\./refs'] },
    { files: ['src/faults/refs.ts'], allow: [] },
    { files: ['src/faults/kinds/**/*.ts'], allow: ['\\./[a-z-]+', '\\.\\./refs', '\\.\\./\\.\\./commands/command'] },
    { files: ['src/commands/command.ts'], allow: [] },
  ].map(({ files, allow }) => ({
    files,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ regex: `^(?!(${allow.join('|') || '$^'})$).*`, allowTypeImports: true, message: 'this module is imported by workflows: keep it pure' }] },
      ],
    },
  })),
);
