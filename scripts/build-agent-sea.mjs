// Builds the agent as a Node single executable (`dist/vigil-agent`): the bundled
// dist/vigil-agent.js (run `npm run build:agent` first) injected into a copy of this machine's
// `node` binary. The result runs on machines like this one without Node installed (it is as large
// as the node binary, about 100 MB). Usage: node scripts/build-agent-sea.mjs
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');
const bundle = path.join(dist, 'vigil-agent.js');
if (!existsSync(bundle)) {
  console.error('dist/vigil-agent.js is missing: run `npm run build:agent` first');
  process.exit(1);
}
const config = path.join(dist, 'sea-config.json');
const blob = path.join(dist, 'vigil-agent.blob');
const out = path.join(dist, 'vigil-agent');
writeFileSync(
  config,
  JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true }),
);
execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'inherit' });
rmSync(out, { force: true });
copyFileSync(process.execPath, out);
chmodSync(out, 0o755);
execFileSync(
  process.execPath,
  [
    path.join(root, 'node_modules', 'postject', 'dist', 'cli.js'),
    out,
    'NODE_SEA_BLOB',
    blob,
    '--sentinel-fuse',
    'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
  ],
  { stdio: 'inherit' },
);
rmSync(blob);
rmSync(config);
console.log(`built ${path.relative(root, out)}`);
