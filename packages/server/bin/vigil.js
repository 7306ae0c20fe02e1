#!/usr/bin/env node
// Runs the compiled server; `npm install` (prepare) or `npm run build` produces it.
import { existsSync } from 'node:fs';
import v8 from 'node:v8';
const entry = new URL('../dist/vigil.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('vigil: not built yet; run `npm run build` in the repository root\n');
  process.exit(1);
}
// A server that ingests all the time makes garbage at a steady rate, and V8 lets the heap grow
// to up to four times what is live before a full collection: at 1,000 pushes/s, some 200 MB of
// garbage. Collecting once the heap is twice what is live keeps the process some 150 MB leaner
// for a little more collection work (at one and a half times, marking runs nearly all the time
// and slows requests down). `node --heap-growing-percent=N bin/vigil.js` overrides it.
if (!process.execArgv.some((a) => a.startsWith('--heap-growing-percent')))
  v8.setFlagsFromString('--heap-growing-percent=100');
await import(entry.href);
