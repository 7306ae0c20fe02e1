import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { packIdsOf } from '../src/compliance/assignment.js';
import {
  checksumOf,
  defaultPacksDir,
  loadPacks,
  PackError,
  parsePack,
} from '../src/compliance/packs.js';
import { testPack, writePacks } from './compliance-support.js';

// Compliance packs are checked when the server starts: JSON, the pack schema (the first error's
// path named), unique rule ids within a pack and unique pack ids across the directories.

const root = mkdtempSync(path.join(os.tmpdir(), 'vigil-packs-'));
after(() => rmSync(root, { recursive: true, force: true }));

const good = testPack('good', [
  ['one', 'high'],
  ['two', 'low'],
]);

test('a good pack loads, with its rules by id', () => {
  const dir = writePacks(root, 'good', [good, testPack('also', [['x', 'critical']])]);
  const catalog = loadPacks([{ dir, required: true }]);
  assert.deepEqual(
    catalog.packs.map((p) => p.id),
    ['also', 'good'],
  );
  assert.equal(catalog.rule('good', 'two')?.severity, 'low');
  assert.equal(catalog.rule('good', 'three'), undefined);
  assert.equal(catalog.rule('nope', 'one'), undefined);
});

for (const [name, text, message] of [
  ['not JSON', '{"id": "x",', /bad\.json: not JSON/],
  [
    'a bad version',
    JSON.stringify({ ...good, version: 'one' }),
    /bad\.json: \/version: Expected string to match/,
  ],
  [
    'an unknown probe kind',
    JSON.stringify({
      ...good,
      rules: [{ ...good.rules[0], probe: { kind: 'registry', key: 'x' } }],
    }),
    /bad\.json: \/rules\/0\/probe/,
  ],
  [
    'a rule without references',
    JSON.stringify({ ...good, rules: [{ ...good.rules[0], references: [] }] }),
    /bad\.json: \/rules\/0\/references/,
  ],
  [
    'a bad severity',
    JSON.stringify({ ...good, rules: [{ ...good.rules[1], severity: 'severe' }] }),
    /bad\.json: \/rules\/0\/severity/,
  ],
  [
    'an unknown field',
    JSON.stringify({ ...good, author: 'me' }),
    /bad\.json: .*(author|additional)/i,
  ],
  [
    'a rule id given twice',
    JSON.stringify({ ...good, rules: [good.rules[0], good.rules[0]] }),
    /bad\.json: rule id one is given twice/,
  ],
] as const)
  test(`a pack file with ${name} is refused, naming the file and the path`, () => {
    assert.throws(
      () => parsePack(text, 'bad.json'),
      (err: unknown) => err instanceof PackError && message.test(err.message),
    );
  });

test('a pack id given twice across directories is refused, naming both files', () => {
  const a = writePacks(root, 'dup-a', [good]);
  const b = writePacks(root, 'dup-b', [{ ...good, title: 'Another' }]);
  assert.throws(
    () =>
      loadPacks([
        { dir: a, required: false },
        { dir: b, required: true },
      ]),
    /pack id good is given twice \(also in .*dup-a\/good\.json\)/,
  );
});

test('a bad file in a directory stops the load; non-JSON files are skipped', () => {
  const dir = writePacks(root, 'mixed', [good]);
  writeFileSync(path.join(dir, 'README.md'), '# not a pack');
  assert.equal(loadPacks([{ dir, required: true }]).packs.length, 1);
  writeFileSync(path.join(dir, 'broken.json'), '[]');
  assert.throws(() => loadPacks([{ dir, required: true }]), /broken\.json/);
});

test("a missing built-in directory gives no packs; a missing operator's directory is an error", () => {
  const missing = path.join(root, 'absent');
  assert.equal(loadPacks([{ dir: missing, required: false }]).packs.length, 0);
  assert.throws(() => loadPacks([{ dir: missing, required: true }]), /does not exist/);
});

test('the checksum is stable, follows content, ignores order, and is empty for none', () => {
  const other = testPack('other', [['z', 'medium']]);
  const sum = checksumOf([good, other]);
  assert.match(sum, /^[0-9a-f]{64}$/);
  assert.equal(checksumOf([other, good]), sum);
  assert.equal(checksumOf([JSON.parse(JSON.stringify(good)), other]), sum);
  assert.notEqual(checksumOf([{ ...good, version: '1.0.1' }, other]), sum);
  assert.equal(checksumOf([]), '');
});

test('the compliance_packs var: an array of ids, or one id as a string', () => {
  assert.deepEqual(packIdsOf(['a', 'b', 'a', 3, ' ']), ['a', 'b']);
  assert.deepEqual(packIdsOf('linux-baseline'), ['linux-baseline']);
  assert.deepEqual(packIdsOf(''), []);
  assert.deepEqual(packIdsOf(undefined), []);
  assert.deepEqual(packIdsOf({ id: 'x' }), []);
});

test('the built-in packs are found in packages/server/compliance', () => {
  assert.match(defaultPacksDir(), /packages[/\\]server[/\\]compliance$/);
});
