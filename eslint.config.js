// One lint configuration for the whole repository. Formatting is Prettier's (`npm run lint` checks
// both); this file holds correctness rules and the dependency direction between layers.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ['error', { patterns }];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'data/**',
      'packages/server/bin/**',
      'packages/agent/bin/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    // The protocol package is pure: no I/O, nothing from the other packages.
    files: ['packages/protocol/src/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        { group: ['node:*', 'fs', 'net', 'http', 'https'], message: 'protocol performs no I/O' },
        {
          group: ['@vigil/server*', '@vigil/agent*', '../../*'],
          message: 'protocol imports no other package',
        },
      ]),
    },
  },
  {
    // Services hold logic: no HTTP framework, no database driver.
    files: ['packages/server/src/**/service.ts'],
    rules: {
      'no-restricted-imports': restrict([
        {
          group: ['fastify', '@fastify/*', '**/http/*'],
          message: 'services never import the HTTP layer',
        },
        {
          group: ['kysely', 'pg', 'better-sqlite3', '**/store.js'],
          message: 'services reach storage through the store interface they declare',
        },
      ]),
    },
  },
  {
    // Stores hold queries: no HTTP.
    files: ['packages/server/src/**/store.ts'],
    rules: {
      'no-restricted-imports': restrict([
        {
          group: ['fastify', '@fastify/*', '**/http/*', '**/routes.js'],
          message: 'stores never import the HTTP layer',
        },
      ]),
    },
  },
  {
    // Routes and faces call services, never stores or the database.
    files: ['packages/server/src/**/routes.ts', 'packages/server/src/faces/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        {
          group: ['**/store.js', 'kysely', 'pg', 'better-sqlite3', '**/db/*'],
          message: 'routes call services only',
        },
      ]),
    },
  },
  {
    // The agent stays lean: the protocol's index builds every TypeBox schema when it is loaded,
    // so the agent takes types from it and values only from its schema-free modules.
    files: ['packages/agent/src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@vigil/protocol',
              allowTypeImports: true,
              message:
                'the agent imports values from @vigil/protocol/perfdata or /tls, not the index (it loads every schema)',
            },
          ],
        },
      ],
    },
  },
);
