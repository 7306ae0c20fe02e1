// Runs the benchmarks (`npm run bench`): builds the production bundles, then runs each benchmark
// file in order, each in its own Node process. Arguments narrow the list by substring, e.g.
// `npm run bench -- health`. The exit status is the first failing benchmark's, or 0.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

// The benchmarks, in the order they run. Each is a TypeScript file run with tsx.
const BENCHMARKS = [
  'bench/health.ts',
  'bench/agent.ts',
  'bench/ingest.ts',
  'bench/web.ts',
  'bench/config.ts',
  'bench/alerts.ts',
  'bench/logs.ts',
];

const filters = process.argv.slice(2);
const selected = BENCHMARKS.filter(
  (f) => filters.length === 0 || filters.some((x) => f.includes(x)),
);
if (selected.length === 0) {
  console.error(`no benchmark matched ${filters.join(' ')} (available: ${BENCHMARKS.join(', ')})`);
  process.exit(1);
}

const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(build.status ?? 1);

let exitCode = 0;
for (const file of selected) {
  console.error(`\n== ${file}`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, file)], {
    cwd: root,
    stdio: 'inherit',
  });
  // A benchmark killed by a signal has no status; count it as a failure.
  const status = run.status ?? 1;
  if (status !== 0) {
    console.error(`${file} failed (exit status ${run.status ?? run.signal ?? run.error?.message})`);
    if (exitCode === 0) exitCode = status;
  }
}
process.exit(exitCode);
