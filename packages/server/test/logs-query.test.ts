import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  highlightsOf,
  messageMatcher,
  parseLogQuery,
  toFts5,
  toTsquery,
} from '../src/logs/query-language.js';

// The full-text query language: parsed into terms, rendered for FTS5 and tsquery, matched in
// memory; no input is ever syntax.

const cases: [string, string, string, string][] = [
  // q, FTS5 MATCH, tsquery text, highlights
  ['disk', '"disk"', "'disk'", 'disk'],
  ['Disk QUOTA', '"disk" "quota"', "'disk' & 'quota'", 'disk,quota'],
  ['"disk quota"', '"disk quota"', "('disk' <-> 'quota')", 'disk,quota'],
  ['exce*', '"exce" *', "('exce':*)", 'exce*'],
  ['"disk quo"*', '"disk quo" *', "('disk' <-> 'quo':*)", 'disk,quo*'],
  ['nginx.service', '"nginx service"', "('nginx' <-> 'service')", 'nginx,service'],
  ['"unbalanced phrase', '"unbalanced phrase"', "('unbalanced' <-> 'phrase')", 'unbalanced,phrase'],
  ['a"b', '"a" "b"', "'a' & 'b'", 'a,b'],
  ['*', '', '', ''],
  ["- : ( ) ^ \\ ' ; & | ! <->", '', '', ''],
  ['NEAR(a b)', '"near a" "b"', "('near' <-> 'a') & 'b'", 'near,a,b'],
  ['-quota', '"quota"', "'quota'", 'quota'],
  ['quota:*', '"quota"', "'quota'", 'quota'],
  ['col:quota', '"col quota"', "('col' <-> 'quota')", 'col,quota'],
  ['a OR b', '"a" "or" "b"', "'a' & 'or' & 'b'", 'a,or,b'],
  ['Ärger 日本語', '"ärger" "日本語"', "'ärger' & '日本語'", 'ärger,日本語'],
  ['ngi.*', '"ngi"', "'ngi'", 'ngi'],
];

for (const [q, fts, tsq, hl] of cases)
  test(`parseLogQuery ${JSON.stringify(q)}`, () => {
    const terms = parseLogQuery(q);
    assert.equal(toFts5(terms), fts);
    assert.equal(toTsquery(terms), tsq);
    assert.equal(highlightsOf(terms).join(','), hl);
  });

test('a query keeps at most 32 terms', () => {
  assert.equal(parseLogQuery(Array.from({ length: 50 }, (_, i) => `w${i}`).join(' ')).length, 32);
});

for (const [q, message, ok] of [
  ['disk', 'Disk full', true],
  ['disk', 'diskette', false],
  ['disk*', 'diskette', true],
  ['"disk full"', 'the disk, full', true],
  ['"disk full"', 'full disk', false],
  ['"disk fu"*', 'disk fuller', true],
  ['disk full', 'full of disk', true],
  ['nginx.service', 'Started nginx.service', true],
  ['*', 'anything', true],
] as const)
  test(`messageMatcher ${JSON.stringify(q)} on ${JSON.stringify(message)}`, () => {
    assert.equal(messageMatcher(parseLogQuery(q))(message), ok);
  });
