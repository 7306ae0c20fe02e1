import assert from 'node:assert/strict';
import {
  appendFileSync,
  closeSync,
  copyFileSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { LOG_MESSAGE_MAX } from '@vigil/protocol/log-levels';
import { createFileSource, type FileSourceOptions } from '../src/logs/files.js';
import { collectingSink, sleep, tempDir, waitFor } from './log-support.js';

/** Short periods, so that a test takes a fraction of a second per step. */
const FAST = {
  pollMs: 15,
  rescanMs: 40,
  multilineFlushMs: 80,
  partialFlushMs: 60_000,
  drainMs: 120,
};

function setup(over: Partial<FileSourceOptions> = {}) {
  const dir = tempDir('files');
  const stateDir = path.join(dir, 'state');
  const opts = { globs: [path.join(dir, '*.log')], stateDir, ...FAST, ...over };
  return { dir, stateDir, opts, file: path.join(dir, 'app.log') };
}

const messages = (c: ReturnType<typeof collectingSink>) => c.lines.map((l) => l.message);
const savedPositions = (stateDir: string) =>
  (
    JSON.parse(readFileSync(path.join(stateDir, 'files.json'), 'utf8')) as {
      files: Record<string, { ino: string; offset: number }[]>;
    }
  ).files;

test('files: existing files start at their end, new data and new files are read in full', async () => {
  const { dir, stateDir, opts, file } = setup();
  writeFileSync(file, 'old history 1\nold history 2\n');
  const c = collectingSink();
  const src = createFileSource(opts);
  src.start(c.sink);
  await sleep(100);
  appendFileSync(file, '2026-12-04T02:10:00.250Z ERROR disk full\nplain line\n');
  await waitFor(() => c.lines.length === 2, 'two appended lines');
  const later = path.join(dir, 'later.log');
  writeFileSync(later, 'first of later\n');
  await waitFor(() => c.lines.length === 3, 'the new file');
  await src.stop();
  assert.deepEqual(messages(c), [
    '2026-12-04T02:10:00.250Z ERROR disk full',
    'plain line',
    'first of later',
  ]);
  const [err, plain, fresh] = c.lines;
  assert.deepEqual(
    { ...err, fields: err!.fields },
    {
      timestamp: Date.UTC(2026, 11, 4, 2, 10, 0, 250),
      source: 'file',
      source_name: file,
      level: 'error',
      message: '2026-12-04T02:10:00.250Z ERROR disk full',
      fields: {},
    },
  );
  assert.equal(plain!.level, 'info');
  assert.ok(
    Math.abs(plain!.timestamp - Date.now()) < 5_000,
    'a line without a time is dated when read',
  );
  assert.equal(fresh!.source_name, later);
  const saved = savedPositions(stateDir);
  assert.deepEqual(saved[file], [
    { ino: statSync(file, { bigint: true }).ino.toString(), offset: statSync(file).size },
  ]);
  assert.deepEqual(saved[later]?.[0]?.offset, 15);
});

test('files: an incomplete last line is held until its newline, or sent after a long quiet time', async () => {
  const { opts, file } = setup({ partialFlushMs: 400 });
  writeFileSync(file, '');
  const c = collectingSink();
  const src = createFileSource(opts);
  src.start(c.sink);
  await sleep(80);
  appendFileSync(file, 'hello wo');
  await sleep(150);
  assert.deepEqual(messages(c), [], 'the partial line is held');
  appendFileSync(file, 'rld\r\nno newline at the end');
  await waitFor(() => c.lines.length === 1, 'the completed line');
  assert.deepEqual(messages(c), ['hello world']);
  await waitFor(() => c.lines.length === 2, 'the unterminated line after the quiet time');
  assert.deepEqual(messages(c), ['hello world', 'no newline at the end']);
  appendFileSync(file, 'next\n');
  await waitFor(() => c.lines.length === 3, 'the line after it');
  await src.stop();
  assert.equal(c.lines[2]!.message, 'next');
});

test('files: logrotate rename + create: the old file is read to its end, then the new from 0', async () => {
  const { dir, opts, file } = setup();
  writeFileSync(file, '');
  const c = collectingSink();
  const src = createFileSource(opts);
  src.start(c.sink);
  await sleep(80);
  // The writer keeps its descriptor: lines written after the rename still land in the old file.
  const writer = openSync(file, 'a');
  writeSync(writer, 'a\nb\n');
  await waitFor(() => c.lines.length === 2, 'a, b');
  renameSync(file, path.join(dir, 'app.log.1'));
  writeSync(writer, 'c\n');
  writeSync(writer, 'd-without-newline');
  closeSync(writer);
  writeFileSync(file, 'e\nf\n');
  await waitFor(() => c.lines.length === 6, 'c, d and the new file', 8_000);
  await src.stop();
  // The old file's complete lines come first; its unterminated last line when it is closed.
  assert.deepEqual(
    messages(c).filter((m) => m !== 'd-without-newline'),
    ['a', 'b', 'c', 'e', 'f'],
  );
  assert.equal(messages(c).filter((m) => m === 'd-without-newline').length, 1);
  assert.ok(c.lines.every((l) => l.source_name === file));
});

test('files: a rotated name the globs also match is not read twice', async () => {
  const { dir, opts, file } = setup();
  opts.globs = [path.join(dir, 'app.log*')];
  writeFileSync(file, '');
  const c = collectingSink();
  const src = createFileSource(opts);
  src.start(c.sink);
  await sleep(80);
  appendFileSync(file, 'one\ntwo\n');
  await waitFor(() => c.lines.length === 2, 'one, two');
  renameSync(file, `${file}.1`);
  appendFileSync(`${file}.1`, 'three\n');
  writeFileSync(file, 'four\n');
  await waitFor(() => c.lines.length === 4, 'three, four');
  await sleep(300);
  appendFileSync(`${file}.1`, 'five\n');
  await waitFor(() => c.lines.length === 5, 'five');
  await sleep(200);
  await src.stop();
  assert.deepEqual(messages(c), ['one', 'two', 'three', 'four', 'five']);
  assert.equal(c.lines[4]!.source_name, `${file}.1`);
});

test('files: copytruncate: a file shorter than the read offset is read again from 0', async () => {
  const { dir, opts, file } = setup();
  writeFileSync(file, '');
  const c = collectingSink();
  const src = createFileSource(opts);
  src.start(c.sink);
  await sleep(80);
  appendFileSync(file, 'a fairly long first line\nanother fairly long line\n');
  await waitFor(() => c.lines.length === 2, 'two lines');
  copyFileSync(file, path.join(dir, 'app.log.1'));
  truncateSync(file, 0);
  await sleep(60);
  appendFileSync(file, 'x\ny\n');
  await waitFor(() => c.lines.length === 4, 'the lines after the truncation');
  await src.stop();
  assert.deepEqual(messages(c).slice(2), ['x', 'y']);
});

test('files: multi-line entries joined by the start pattern, the last one after a quiet time', async () => {
  const { opts, file } = setup({ multilineStart: /^\d{4}-\d\d-\d\d / });
  writeFileSync(file, '');
  const c = collectingSink();
  const src = createFileSource(opts);
  src.start(c.sink);
  await sleep(80);
  appendFileSync(
    file,
    [
      '2026-12-04 02:10:00 ERROR request failed',
      'java.lang.IllegalStateException: no session',
      '\tat com.example.Handler.run(Handler.java:42)',
      '\tat java.base/java.lang.Thread.run(Thread.java:1583)',
      '2026-12-04 02:10:01 INFO recovered',
      '',
    ].join('\n'),
  );
  await waitFor(() => c.lines.length === 2, 'both entries');
  await src.stop();
  assert.equal(
    c.lines[0]!.message,
    '2026-12-04 02:10:00 ERROR request failed\njava.lang.IllegalStateException: no session\n\tat com.example.Handler.run(Handler.java:42)\n\tat java.base/java.lang.Thread.run(Thread.java:1583)',
  );
  assert.equal(c.lines[0]!.level, 'error');
  assert.equal(c.lines[1]!.message, '2026-12-04 02:10:01 INFO recovered');
});

test('files: a line longer than the longest message is cut; the next line is intact', async () => {
  const { opts, file } = setup();
  writeFileSync(file, '');
  const c = collectingSink();
  const src = createFileSource(opts);
  src.start(c.sink);
  await sleep(80);
  // Longer than the bytes a line may keep, in several writes: the rest is skipped to its newline.
  const fd = openSync(file, 'a');
  writeSync(fd, 'é'.repeat(LOG_MESSAGE_MAX));
  await sleep(50);
  writeSync(fd, 'y'.repeat(LOG_MESSAGE_MAX * 3));
  await sleep(50);
  writeSync(fd, 'z'.repeat(1000) + '\nshort\n');
  closeSync(fd);
  await waitFor(() => c.lines.length === 2, 'the long and the short line');
  await src.stop();
  assert.equal(c.lines[0]!.message, 'é'.repeat(LOG_MESSAGE_MAX));
  assert.equal(c.lines[1]!.message, 'short');
});

test('files: a rejected sink call moves no position; the same lines are sent again', async () => {
  const { stateDir, opts, file } = setup();
  writeFileSync(file, '');
  const c = collectingSink();
  const src = createFileSource(opts);
  src.start(c.sink);
  await sleep(80);
  const start = savedOffset();
  function savedOffset() {
    try {
      return savedPositions(stateDir)[file]?.[0]?.offset;
    } catch {
      return undefined;
    }
  }
  c.reject = true;
  appendFileSync(file, 'l1\nl2\n');
  await waitFor(() => c.calls >= 1, 'a refused call');
  await sleep(100);
  assert.equal(c.lines.length, 0);
  assert.equal(savedOffset() ?? 0, start ?? 0, 'no position past refused lines');
  c.reject = false;
  await waitFor(() => c.lines.length === 2, 'the retried lines', 8_000);
  await src.stop();
  assert.deepEqual(messages(c), ['l1', 'l2']);
  assert.equal(savedOffset(), 6);
});

test('files: a restart resumes exactly, across a rotation while stopped', async () => {
  const { dir, opts, file } = setup();
  writeFileSync(file, '');
  const seen: string[] = [];
  let n = 0;
  const write = (count: number, to = file) => {
    for (let i = 0; i < count; i++) appendFileSync(to, `line ${++n}\n`);
  };
  // First run: a slow sink, stopped while lines are still arriving.
  const c1 = collectingSink();
  c1.delayMs = 30;
  const s1 = createFileSource({ ...opts, batchMax: 7 });
  s1.start(c1.sink);
  await sleep(80);
  write(40);
  await waitFor(() => c1.lines.length >= 10, 'some lines taken');
  write(20);
  await s1.stop();
  seen.push(...messages(c1));
  assert.ok(seen.length < 60, 'stopped mid-stream');
  // While stopped: more lines, a rotation, lines in the new file.
  write(5);
  renameSync(file, path.join(dir, 'app.log.1'));
  write(5);
  // Second run on the same state: the rest of the old file, then the new one.
  const c2 = collectingSink();
  const s2 = createFileSource(opts);
  s2.start(c2.sink);
  await waitFor(() => seen.length + c2.lines.length >= n, 'every line', 8_000);
  await sleep(150);
  await s2.stop();
  seen.push(...messages(c2));
  assert.deepEqual(
    seen,
    Array.from({ length: n }, (_, i) => `line ${i + 1}`),
  );
});

test('files: a restart after copytruncate while stopped reads the new content from 0', async () => {
  const { opts, file } = setup();
  writeFileSync(file, '');
  const c1 = collectingSink();
  const s1 = createFileSource(opts);
  s1.start(c1.sink);
  await sleep(80);
  appendFileSync(file, 'before the truncation, quite a long line\n');
  await waitFor(() => c1.lines.length === 1, 'the first line');
  await s1.stop();
  truncateSync(file, 0);
  appendFileSync(file, 'after\n');
  const c2 = collectingSink();
  const s2 = createFileSource(opts);
  s2.start(c2.sink);
  await waitFor(() => c2.lines.length === 1, 'the line after the truncation');
  await s2.stop();
  assert.deepEqual(messages(c2), ['after']);
});

test('files: a restart before any line was read keeps the first start positions', async () => {
  const { opts, file } = setup();
  writeFileSync(file, 'history\n');
  const s1 = createFileSource(opts);
  s1.start(collectingSink().sink);
  await sleep(100);
  await s1.stop();
  appendFileSync(file, 'written while stopped\n');
  const c = collectingSink();
  const s2 = createFileSource(opts);
  s2.start(c.sink);
  await waitFor(() => c.lines.length === 1, 'the line written while stopped');
  await sleep(100);
  await s2.stop();
  assert.deepEqual(messages(c), ['written while stopped']);
});
