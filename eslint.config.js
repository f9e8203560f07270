// Lint: typescript-eslint's recommended rules over the whole tree.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'dist/', 'public/build/', 'bench/results/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The transports read through queries scoped to the actor (server/seats/reads.ts), so no route
    // can forget the tenant check: the store is out of their reach.
    files: ['server/http/**', 'server/realtime/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/seats/seat-store', '**/store/*'], message: 'transports read through server/seats/reads.ts, not the store' }] },
      ],
    },
  },
);
