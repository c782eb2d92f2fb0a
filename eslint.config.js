import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', 'data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node modules, no I/O.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'crypto', 'http', 'net', 'os', 'child_process'], message: 'workflows must stay deterministic: no Node modules' },
            { group: ['**/activities/*', '**/db/*', '**/api/*', '**/ocpp/*', '**/runtime/*'], allowTypeImports: true, message: 'workflows import only types from outside contracts/' },
          ],
        },
      ],
    },
  },
);
