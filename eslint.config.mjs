// Static guard rails, not style: promises nobody awaits (a lost error, a race with shutdown) and
// workflow code that reaches for Node or for activities (non-deterministic on replay). Run by
// `npm test` (scripts/test.sh) and `npm run lint`.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.flywheel/**', '.venv/**', 'gpu-worker/**', '**/*.mjs', '**/*.cjs', 'bench/hpo/*.py'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
    },
  },
  {
    // Workflow code is replayed: no Node built-ins, no I/O clients, no activity implementations.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'workflows are replayed deterministically: no Node built-ins (use activities)' },
            { group: ['fs', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net', 'worker_threads'], message: 'workflows are replayed deterministically: no Node built-ins (use activities)' },
            { group: ['**/activities/*', '!**/activities/types', '**/clients/*', 'pg', 'onnxruntime-node', 'fastify'], allowTypeImports: true, message: 'workflows call activities through proxyActivities; import their types only' },
          ],
        },
      ],
    },
  },
);
