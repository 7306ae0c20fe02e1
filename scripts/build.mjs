// Builds the production bundles. The server: one ES module, workspace packages inlined, npm
// dependencies left external (they include native addons). The agent: one self-contained CommonJS
// file, `dist/vigil-agent.js`, that runs with plain `node` and no node_modules (CommonJS so that a
// Node single-executable build can wrap it). The web console: the server's OpenAPI document and
// the API client's types generated from it, then Vite's build into `packages/web/dist`, which the
// server serves at `/`. `--agent` builds only the agent.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .toString()
    .trim();
} catch {
  // Not a git checkout (e.g. an unpacked release): the commit stays unknown.
}

const externalDeps = {
  name: 'external-deps',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@vigil/') ? undefined : { path: args.path, external: true },
    );
  },
};

const agentOnly = process.argv.includes('--agent');

await build({
  entryPoints: { 'vigil-agent': `${root}packages/agent/src/main.ts` },
  outdir: `${root}dist`,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  banner: { js: '#!/usr/bin/env node' },
  define: { __VIGIL_AGENT_VERSION__: JSON.stringify(pkg.version) },
});
// The repository's package.json says "type": "module"; this one makes dist/*.js CommonJS.
writeFileSync(`${root}dist/package.json`, '{ "type": "commonjs" }\n');
chmodSync(`${root}dist/vigil-agent.js`, 0o755);

if (!agentOnly)
  await build({
    entryPoints: { vigil: `${root}packages/server/src/cli.ts` },
    outdir: `${root}packages/server/dist`,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    plugins: [externalDeps],
    define: {
      __VIGIL_BUILD__: JSON.stringify({
        version: pkg.version,
        commit,
        build_time: new Date().toISOString(),
      }),
    },
  });

if (!agentOnly) {
  // The console's typed API client is checked against the document the server really serves: a
  // renamed field fails the console's type check, not a screen at run time.
  execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      `${root}packages/web/scripts/openapi.ts`,
      `${root}packages/web/openapi.json`,
      `${root}packages/web/src/api/schema.d.ts`,
    ],
    { stdio: 'inherit', cwd: root },
  );
  const { build: viteBuild } = await import('vite');
  await viteBuild({ root: `${root}packages/web`, logLevel: 'warn' });
}
