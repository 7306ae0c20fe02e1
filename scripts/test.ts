// Runs every test file with Node's test runner, against one throwaway PostgreSQL cluster shared
// by the whole run (unless VIGIL_TEST_DATABASE_URL names a server), and SQLite files.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { startPostgres, type PgCluster } from '../test/support/postgres.js';

const root = path.resolve(import.meta.dirname, '..');

function find(dir: string, out: string[] = []): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e === 'node_modules' || e === 'fixtures') continue;
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) find(p, out);
    else if (e.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

// Node 20's --test does not expand globs: pass an explicit list. Arguments narrow it by substring.
const filters = process.argv.slice(2);
const files = [
  ...readdirSync(path.join(root, 'packages')).flatMap((p) =>
    find(path.join(root, 'packages', p, 'test')),
  ),
  ...find(path.join(root, 'test', 'e2e')),
]
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], {
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);

let cluster: PgCluster | undefined;
const env = { ...process.env };
if (!env.VIGIL_TEST_DATABASE_URL) {
  try {
    cluster = await startPostgres();
    env.VIGIL_TEST_DATABASE_URL = cluster.url;
    console.log(`# PostgreSQL test cluster ${cluster.url} (pid ${cluster.pid})`);
  } catch (err) {
    if (process.env.CI === 'true') {
      console.error(`PostgreSQL is required under CI=true: ${(err as Error).message}`);
      process.exit(1);
    }
    console.warn(
      `# PostgreSQL unavailable; its test variants are skipped: ${(err as Error).message}`,
    );
  }
}
const stop = () => cluster?.stop();
process.on('exit', stop);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    stop();
    process.exit(130);
  });

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--import',
    path.join(root, 'test', 'support', 'exit-when-done.ts'),
    '--test',
    '--test-concurrency=2',
    // A hang guard, not a speed target: a file of two database variants runs well over a minute
    // on a busy two-core machine.
    '--test-timeout=300000',
    ...files,
  ],
  { stdio: 'inherit', env, cwd: root },
);
child.on('exit', (code, signal) => {
  stop();
  process.exit(code ?? (signal ? 1 : 0));
});
