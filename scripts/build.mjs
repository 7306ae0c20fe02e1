// Builds the production bundles: one ES module per command, workspace packages inlined, npm
// dependencies left external (they include native addons).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
