import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { LOG_MESSAGE_MAX } from '@vigil/protocol/log-levels';
import { expandGlobs, matchSegment } from '../src/logs/glob.js';
import { parseJournalLine, journalValue } from '../src/logs/journald.js';
import { findLevelWord, levelOfLine } from '../src/logs/levels.js';
import { LineJoiner } from '../src/logs/multiline.js';
import { leadingTimestamp } from '../src/logs/timestamps.js';
import { FIXTURES } from './support.js';

for (const [line, level, word] of [
  ['2026-12-04 02:10:00,123 ERROR [main] c.e.App - boom', 'error', 'ERROR'],
  ['2026/12/04 02:10:00 [warn] 12#12: *1 upstream timed out', 'warning', 'warn'],
  ['time="2026-12-04T02:10:00Z" level=error msg="disk full"', 'error', 'error'],
  ['{"level":"warn","msg":"slow query"}', 'warning', 'warn'],
  ['ts=1 lvl=debug msg=x', 'debug', 'debug'],
  ['<3>kernel: disk failure', 'error', '<3>'],
  ['<14>Dec  4 02:10:00 host app: hello', 'info', '<14>'],
  ['<130>panic', 'critical', '<130>'],
  ['[2026-12-04 02:10:00] production.CRITICAL: oops', 'critical', 'CRITICAL'],
  ['WARNING: low memory', 'warning', 'WARNING'],
  ['12:00:01 ERR connection reset by peer', 'error', 'ERR'],
  ['GET /api 500 DBG', 'debug', 'DBG'],
  ['error: could not open file', 'error', 'error'],
  ['Exception in thread "main" java.lang.NullPointerException FATAL', 'critical', 'FATAL'],
  ['I1204 02:10:00.000 server.go:1] serving', 'info', undefined],
  ['GET /index.html 200 0.001', 'info', undefined],
  ['no error was found in the result', 'info', undefined],
  ['THE QUICK FOX', 'info', undefined],
  ['<999>not a priority', 'info', undefined],
  ['', 'info', undefined],
] as const)
  test(`levelOfLine: ${JSON.stringify(line)} is ${level}`, () => {
    assert.equal(findLevelWord(line), word);
    assert.equal(levelOfLine(line), level);
  });

test('levelOfLine: a level word past the first 256 characters is not looked for', () => {
  assert.equal(levelOfLine(`${'x'.repeat(300)} ERROR`), 'info');
});

test('leadingTimestamp: ISO 8601 with and without zone, RFC 3164, and lines without one', () => {
  const now = Date.UTC(2026, 11, 4, 3, 0, 0);
  assert.equal(
    leadingTimestamp('2026-12-04T02:10:00.123Z x', now),
    Date.UTC(2026, 11, 4, 2, 10, 0, 123),
  );
  assert.equal(
    leadingTimestamp('2026-12-04T02:10:00.123456789+01:00 x', now),
    Date.UTC(2026, 11, 4, 1, 10, 0, 123),
  );
  assert.equal(
    leadingTimestamp('[2026-12-04 02:10:00,5 -0230] x', now),
    Date.UTC(2026, 11, 4, 4, 40, 0, 500),
  );
  assert.equal(
    leadingTimestamp('2026-12-04 02:10:00 x', now),
    new Date(2026, 11, 4, 2, 10, 0).getTime(),
  );
  assert.equal(
    leadingTimestamp('Dec  4 02:10:00 host sshd[1]: x', now),
    new Date(2026, 11, 4, 2, 10, 0).getTime(),
  );
  // A December line read in early January belongs to the year before.
  const january = new Date(2027, 0, 1, 0, 5).getTime();
  assert.equal(
    leadingTimestamp('Dec 31 23:59:00 host x', january),
    new Date(2026, 11, 31, 23, 59).getTime(),
  );
  for (const bad of [
    '2026-13-04T02:10:00Z',
    '2026-12-04T25:10:00Z',
    'Foo  4 02:10:00',
    'hello',
    '12345',
    '',
  ])
    assert.equal(leadingTimestamp(bad, now), undefined, bad);
});

for (const [glob, name, ok] of [
  ['*.log', 'app.log', true],
  ['*.log', 'app.log.1', false],
  ['*.log', '.hidden.log', false],
  ['.*.log', '.hidden.log', true],
  ['app-?.log', 'app-1.log', true],
  ['app-?.log', 'app-12.log', false],
  ['app-[0-9].log', 'app-7.log', true],
  ['app-[!0-9].log', 'app-7.log', false],
  ['app-[!0-9].log', 'app-x.log', true],
  ['a+b(c).log', 'a+b(c).log', true],
  ['a.log', 'axlog', false],
] as const)
  test(`matchSegment: ${glob} ${ok ? 'matches' : 'does not match'} ${name}`, () =>
    assert.equal(matchSegment(glob, name), ok));

test('expandGlobs: wildcards in file and folder names, duplicates once, folders and bad sets skipped', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-glob-'));
  for (const d of ['a', 'b', 'c.d']) mkdirSync(path.join(dir, d));
  for (const f of ['a/x.log', 'a/y.log', 'a/y.txt', 'b/z.log', 'top.log'])
    writeFileSync(path.join(dir, f), '');
  mkdirSync(path.join(dir, 'a', 'dir.log'));
  const files = await expandGlobs([
    `${dir}/*/*.log`,
    `${dir}/a/x.log`,
    `${dir}/[.log`,
    `${dir}/missing/*.log`,
  ]);
  assert.deepEqual(files, [`${dir}/a/x.log`, `${dir}/a/y.log`, `${dir}/b/z.log`]);
});

test('LineJoiner: lines not matching the start pattern join the entry before them', () => {
  const j = new LineJoiner(/^\d{4}-\d\d-\d\d /);
  assert.deepEqual(j.push('  orphan continuation', 10), []);
  assert.deepEqual(j.push('2026-12-04 ERROR boom', 30), [
    { text: '  orphan continuation', end: 10 },
  ]);
  assert.deepEqual(j.push('java.lang.IllegalStateException: x', 60), []);
  assert.deepEqual(j.push('\tat com.example.Main.run(Main.java:10)', 90), []);
  assert.deepEqual(j.push('2026-12-04 INFO next', 110), [
    {
      text: '2026-12-04 ERROR boom\njava.lang.IllegalStateException: x\n\tat com.example.Main.run(Main.java:10)',
      end: 90,
    },
  ]);
  assert.equal(j.pending, true);
  assert.deepEqual(j.flush(), { text: '2026-12-04 INFO next', end: 110 });
  assert.equal(j.flush(), undefined);
  const plain = new LineJoiner();
  assert.deepEqual(plain.push('a', 2), [{ text: 'a', end: 2 }]);
  assert.equal(plain.pending, false);
});

test('LineJoiner: a joined entry is cut at the longest message', () => {
  const j = new LineJoiner(/^START/);
  j.push('START', 6);
  for (let i = 0; i < 100; i++) j.push('x'.repeat(1000), 6 + (i + 1) * 1001);
  const e = j.flush()!;
  assert.equal(e.text.length, LOG_MESSAGE_MAX);
  assert.equal(e.end, 6 + 100 * 1001);
});

test('journalValue: text, bytes, repeated fields and values too long to print', () => {
  assert.equal(journalValue('x'), 'x');
  assert.equal(journalValue([104, 105, 0xc3, 0xa9]), 'hié');
  assert.equal(journalValue([0xff]), '\ufffd');
  assert.equal(journalValue(['first', 'second']), 'first');
  assert.equal(journalValue([[104, 105], 'x']), 'hi');
  assert.equal(journalValue(null), undefined);
  assert.equal(journalValue(7), undefined);
});

test('parseJournalLine: the recorded journalctl -o json entries', () => {
  const lines = readFileSync(path.join(FIXTURES, 'logs', 'journal.jsonl'), 'utf8')
    .trim()
    .split('\n');
  const entries = lines.map((l) => parseJournalLine(l)!);
  assert.equal(entries.length, 16);
  const [started, refused, binary, multi, container, oom] = entries;
  assert.equal(started!.line.message, 'Started nginx.service - A high performance web server.');
  assert.equal(started!.line.level, 'info');
  assert.equal(started!.line.source, 'journal');
  assert.equal(started!.line.source_name, 'systemd');
  const raw = JSON.parse(lines[0]!) as Record<string, string>;
  assert.equal(started!.cursor, raw.__CURSOR);
  assert.equal(started!.line.timestamp, Math.floor(Number(raw.__REALTIME_TIMESTAMP) / 1000));
  assert.deepEqual(started!.line.fields, {
    _PID: raw._PID,
    _COMM: raw._COMM,
    _HOSTNAME: raw._HOSTNAME,
    SYSLOG_IDENTIFIER: 'systemd',
  });
  assert.equal(refused!.line.level, 'error');
  assert.equal(binary!.line.message, 'binary \u0001 payload café');
  assert.equal(binary!.line.level, 'warning');
  assert.equal(multi!.line.message, 'line one\nline two');
  assert.equal(multi!.line.level, 'notice');
  assert.equal(container!.line.level, 'debug');
  assert.equal(container!.line.fields.CONTAINER_NAME, 'web-1');
  assert.equal(oom!.line.level, 'critical');
});

test('parseJournalLine: a unit names the source; malformed lines are refused', () => {
  const e = parseJournalLine(
    JSON.stringify({
      __CURSOR: 'c1',
      MESSAGE: 'x'.repeat(LOG_MESSAGE_MAX + 10),
      _SYSTEMD_UNIT: 'nginx.service',
      SYSLOG_IDENTIFIER: 'nginx',
    }),
    1234,
  )!;
  assert.equal(e.line.source_name, 'nginx.service');
  assert.equal(e.line.message.length, LOG_MESSAGE_MAX);
  assert.equal(e.line.timestamp, 1234);
  assert.equal(e.line.level, 'info');
  assert.equal(
    parseJournalLine(JSON.stringify({ __CURSOR: 'c2', _COMM: 'cron' }))!.line.source_name,
    'cron',
  );
  assert.equal(parseJournalLine(JSON.stringify({ __CURSOR: 'c3' }))!.line.source_name, 'journal');
  for (const bad of ['', 'not json', '[]', '{"MESSAGE":"no cursor"}', 'null'])
    assert.equal(parseJournalLine(bad), undefined, bad);
});
