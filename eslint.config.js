// One lint configuration for the whole repository. Formatting is Prettier's (`npm run lint` checks
// both); this file holds correctness rules and the dependency direction between layers.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** One restricted-imports rule (type-aware where a pattern says `allowTypeImports`). */
const restrict = (patterns) => ['error', { patterns }];

const SERVER = 'packages/server/src';
/** The composition root and the CLI: they wire every layer. */
const ROOT = [`${SERVER}/app.ts`, `${SERVER}/app-*.ts`, `${SERVER}/cli.ts`, `${SERVER}/serve.ts`];
/** Stores: the only files with queries. */
const STORES = [`${SERVER}/**/store.ts`, `${SERVER}/**/*-store.ts`, `${SERVER}/**/store/*.ts`];
/** The HTTP edge: routes, faces and the HTTP assembly. */
const EDGE = [
  `${SERVER}/**/routes.ts`,
  `${SERVER}/**/*-routes.ts`,
  `${SERVER}/faces/**`,
  `${SERVER}/http/**`,
];
const NO_HTTP = {
  group: ['fastify', '@fastify/*', '**/http/*', '**/routes.js', '**/*-routes.js'],
  message: 'only routes, faces and http/ use the HTTP layer',
};
const NO_SQL = {
  group: [
    'kysely',
    'pg',
    'better-sqlite3',
    '**/db/connection.js',
    '**/db/sqlite-fifo.js',
    '**/db/migrations/*',
  ],
  message: 'queries live in stores (row types come from db/schema.js)',
};
const NO_STORE = {
  group: ['**/store.js', '**/*-store.js'],
  allowTypeImports: true,
  message: 'a service declares the store interface it needs; app.ts hands it the store',
};
const NO_FACE = {
  group: ['**/faces/**'],
  message: 'the core never imports a face (app.ts wires them)',
};

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
  // The server's layers, each a disjoint set of files (a file in two blocks would get only the
  // last block's list). Blocks are keyed on folders and name suffixes, so a new file lands in a
  // layer by where it is, not by being listed.
  {
    // Domain logic (services, registries, ingest, queries...): no HTTP framework, no SQL, no
    // store module (a service declares the store interface it needs), no face.
    files: [`${SERVER}/**/*.ts`],
    ignores: [...ROOT, ...STORES, ...EDGE, `${SERVER}/db/**`],
    rules: {
      '@typescript-eslint/no-restricted-imports': restrict([NO_HTTP, NO_SQL, NO_STORE, NO_FACE]),
    },
  },
  {
    // Stores hold the queries: no HTTP, no routes, no face.
    files: STORES,
    rules: { '@typescript-eslint/no-restricted-imports': restrict([NO_HTTP, NO_FACE]) },
  },
  {
    // Routes and faces call services: no SQL, no store.
    files: [`${SERVER}/**/routes.ts`, `${SERVER}/**/*-routes.ts`, `${SERVER}/faces/**/*.ts`],
    ignores: STORES,
    rules: { '@typescript-eslint/no-restricted-imports': restrict([NO_SQL, NO_STORE]) },
  },
  {
    // Routes outside faces/ are the native API's: they import no face either.
    files: [`${SERVER}/**/routes.ts`, `${SERVER}/**/*-routes.ts`, `${SERVER}/http/**/*.ts`],
    ignores: [...STORES, `${SERVER}/faces/**`],
    rules: { '@typescript-eslint/no-restricted-imports': restrict([NO_SQL, NO_STORE, NO_FACE]) },
  },
  {
    // The database layer: connection, schema, migrations. A migration is frozen history: it
    // imports nothing of the live domains (only db/ itself).
    files: [`${SERVER}/db/**/*.ts`],
    rules: {
      '@typescript-eslint/no-restricted-imports': restrict([
        NO_HTTP,
        NO_FACE,
        { group: ['../../*', '!../../db', '!../../db/**'], message: 'migrations import only db/' },
      ]),
    },
  },
  {
    // The agent never imports the server.
    files: ['packages/agent/src/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict([
        {
          group: ['@vigil/server', '@vigil/server/*', '**/server/src/**'],
          message: 'the agent never imports the server',
        },
      ]),
    },
  },
  {
    // The web console speaks to the server only through the public API (its typed client): it
    // imports nothing of the other packages.
    files: ['packages/web/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': restrict([
        {
          group: ['@vigil/*', '**/server/**', '**/agent/**', '**/protocol/**', 'node:*'],
          message: 'the console uses only the public /api/v1 API, through src/api/client.ts',
        },
      ]),
    },
  },
  {
    // Promises are awaited or explicitly let go (`void`): a forgotten one loses its error.
    files: ['packages/*/src/**/*.{ts,tsx}'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
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
                'the agent imports values from the schema-free subpaths of @vigil/protocol (/perfdata, /tls, /guards, /log-levels), not the index (it loads every schema)',
            },
          ],
        },
      ],
    },
  },
);
