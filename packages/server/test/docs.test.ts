import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { KEYS } from '../src/config/keys.js';

const readme = readFileSync(path.resolve(import.meta.dirname, '../../../README.md'), 'utf8');

test('the README documents every configuration key with its variable and default', () => {
  for (const [section, keys] of Object.entries(KEYS)) {
    for (const [key, spec] of Object.entries(keys)) {
      const env = `VIGIL_${section}_${key}`.toUpperCase();
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${section}.${key}\``));
      assert.ok(row, `${section}.${key} has a row`);
      assert.ok(row.includes(`\`${env}\``), `${section}.${key} names ${env}`);
      const dflt = spec.default === '' ? '—' : `\`${String(spec.default)}\``;
      assert.ok(row.includes(dflt), `${section}.${key} shows its default ${dflt}`);
    }
  }
});

test('the README quick start has exactly the two documented commands', () => {
  assert.match(readme, /```sh\nnpm install && npm start\n```/);
  assert.match(readme, /```sh\nnpm test\n```/);
});
