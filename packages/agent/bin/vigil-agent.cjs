#!/usr/bin/env node
// Runs the bundled agent; `npm install` (prepare) or `npm run build:agent` produces it.
'use strict';
const { existsSync } = require('node:fs');
const path = require('node:path');
const entry = path.join(__dirname, '..', '..', '..', 'dist', 'vigil-agent.js');
if (!existsSync(entry)) {
  process.stderr.write(
    'vigil-agent: not built yet; run `npm run build:agent` in the repository root\n',
  );
  process.exit(1);
}
require(entry);
