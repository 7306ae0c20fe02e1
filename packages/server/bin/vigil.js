#!/usr/bin/env node
// Runs the compiled server; `npm install` (prepare) or `npm run build` produces it.
import { existsSync } from 'node:fs';
const entry = new URL('../dist/vigil.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('vigil: not built yet; run `npm run build` in the repository root\n');
  process.exit(1);
}
await import(entry.href);
