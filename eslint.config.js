import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O libraries, no model SDKs.
// `core/` is imported by workflows, so it obeys the same rule. Only config/ reads the environment.
const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);
const sandboxBans = {
  paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code must be deterministic: no Node built-ins.' })),
  patterns: [
    {
      group: ['pg', 'pg-*', 'express', 'express-*', '@electric-sql/*', 'openai', '@anthropic-ai/*', 'zod', 'eventsource-parser'],
      message: 'Not in workflow code: do I/O in an activity.',
    },
    {
      group: ['**/activities/*', '**/activities/**', '**/api/**', '**/db/*'],
      allowTypeImports: true,
      message: 'Workflows may import only types from activities, api and db.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', '.tools/', 'dist/', 'eslint.config.js'] },
  ...tseslint.configs.recommended,
  {
    // Type-aware rules, as Temporal's samples use them: an unawaited promise in a workflow or an activity is a bug.
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through config/ (loadConfig).' },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts', 'core/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', sandboxBans] },
  },
  { files: ['config/**/*.ts'], rules: { 'no-restricted-properties': 'off' } },
);
