import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { LOG_MESSAGE_MAX, LogRecord, type LogDropped } from '@vigil/protocol';
import { LogBuffer, recordOf } from '../src/logs/buffer.js';
import type { LogLine } from '../src/logs/model.js';
import { createRateLimiter } from '../src/logs/rate.js';

// The agent's disk buffer of log lines and the per-source rate limit in front of it.

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'vigil-logbuf-'));
  dirs.push(d);
  return d;
};

const line = (n: number, source_name = '/var/log/app.log'): LogLine => ({
  timestamp: 1_700_000_000_000 + n,
  source: 'file',
  source_name,
  level: 'info',
  message: `line ${n} ${'x'.repeat(40)}`,
  fields: { n: String(n) },
});
const range = (from: number, to: number, name?: string) =>
  Array.from({ length: to - from }, (_, i) => line(from + i, name));
const numbers = (entries: LogRecord[]) => entries.map((e) => Number(e.fields!.n));
const segmentFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.log'));

/** Every line from the sent position on, batch by batch, marking each sent. */
function drain(buf: LogBuffer, maxLines = 1000): { lines: LogRecord[]; dropped: LogDropped[] } {
  const lines: LogRecord[] = [];
  const dropped: LogDropped[] = [];
  for (let b = buf.nextBatch(maxLines, 1 << 20); b; b = buf.nextBatch(maxLines, 1 << 20)) {
    lines.push(...b.entries);
    dropped.push(...b.dropped);
    buf.markSent(b);
  }
  return { lines, dropped };
}

describe('log buffer: durability', () => {
  test('lines appended before a crash are all there after reopening', async () => {
    const dir = tmp();
    const first = new LogBuffer({ dir, maxBytes: 1 << 20 });
    await first.append(range(0, 10));
    await Promise.all([first.append(range(10, 20)), first.append(range(20, 25))]);
    // The crash: the object is dropped without close, and a new one opens the same folder.
    const second = new LogBuffer({ dir, maxBytes: 1 << 20 });
    assert.deepEqual(
      numbers(drain(second).lines),
      Array.from({ length: 25 }, (_, i) => i),
    );
    assert.equal(second.hasUnsent(), false);
    await second.close();
    await first.close();
  });

  test('a line torn by a crash is cut off; later lines follow the last whole one', async () => {
    const dir = tmp();
    const buf = new LogBuffer({ dir, maxBytes: 1 << 20 });
    await buf.append(range(0, 3));
    const [seg] = segmentFiles(dir);
    appendFileSync(path.join(dir, seg!), '{"timestamp":17000000');
    const reopened = new LogBuffer({ dir, maxBytes: 1 << 20 });
    await reopened.append(range(3, 5));
    assert.deepEqual(numbers(drain(reopened).lines), [0, 1, 2, 3, 4]);
    await reopened.close();
    await buf.close();
  });

  test('what the server took is not sent again after a restart', async () => {
    const dir = tmp();
    const buf = new LogBuffer({ dir, maxBytes: 1 << 20 });
    await buf.append(range(0, 10));
    const b = buf.nextBatch(4, 1 << 20)!;
    assert.deepEqual(numbers(b.entries), [0, 1, 2, 3]);
    buf.markSent(b);
    const reopened = new LogBuffer({ dir, maxBytes: 1 << 20 });
    assert.deepEqual(numbers(drain(reopened).lines), [4, 5, 6, 7, 8, 9]);
    await reopened.close();
    await buf.close();
  });

  test('an unanswered batch is resent after a restart with the same id and the same lines', async () => {
    const dir = tmp();
    const buf = new LogBuffer({ dir, maxBytes: 1 << 20 });
    await buf.append(range(0, 3));
    const sent = buf.nextBatch(1000, 1 << 20)!;
    assert.match(sent.id, /^[A-Za-z0-9_.:-]{1,64}$/);
    // More lines come while the batch has no answer; the batch must not grow on a resend.
    await buf.append(range(3, 6));
    assert.equal(buf.nextBatch(1000, 1 << 20)!.id, sent.id);
    const reopened = new LogBuffer({ dir, maxBytes: 1 << 20 });
    const resent = reopened.nextBatch(1000, 1 << 20)!;
    assert.equal(resent.id, sent.id);
    assert.deepEqual(resent.entries, sent.entries);
    reopened.markSent(resent);
    const next = reopened.nextBatch(1000, 1 << 20)!;
    assert.notEqual(next.id, sent.id);
    assert.deepEqual(numbers(next.entries), [3, 4, 5]);
    await reopened.close();
    await buf.close();
  });

  test('fully sent segments are deleted', async () => {
    const dir = tmp();
    const buf = new LogBuffer({ dir, maxBytes: 1 << 20, segmentBytes: 1024 });
    for (let i = 0; i < 10; i++) await buf.append(range(i * 10, i * 10 + 10));
    assert.ok(segmentFiles(dir).length > 3);
    assert.equal(drain(buf).lines.length, 100);
    assert.equal(segmentFiles(dir).length, 1);
    await buf.append(range(100, 101));
    assert.deepEqual(numbers(drain(buf).lines), [100]);
    await buf.close();
  });
});

describe('log buffer: bound', () => {
  test('over the limit the oldest lines go, counted per source as buffer_full', async () => {
    const dir = tmp();
    const maxBytes = 8 * 1024;
    const buf = new LogBuffer({ dir, maxBytes, segmentBytes: 1024 });
    for (let i = 0; i < 40; i++) {
      await buf.append(range(i * 10, i * 10 + 5, '/var/log/a.log'));
      await buf.append(range(i * 10 + 5, i * 10 + 10, '/var/log/b.log'));
      const onDisk = segmentFiles(dir).reduce((a, f) => a + statSync(path.join(dir, f)).size, 0);
      assert.equal(onDisk, buf.bytes);
      assert.ok(buf.bytes <= maxBytes + 1024, `${buf.bytes} bytes buffered`);
    }
    const { lines, dropped } = drain(buf);
    const kept = numbers(lines);
    assert.ok(kept.length > 0 && kept.length < 400);
    // The newest lines are kept, in order and without a gap.
    assert.deepEqual(
      kept,
      Array.from({ length: kept.length }, (_, i) => 400 - kept.length + i),
    );
    assert.ok(dropped.every((d) => d.reason === 'buffer_full' && d.source === 'file'));
    const count = (name: string) =>
      dropped.filter((d) => d.source_name === name).reduce((a, d) => a + d.count, 0);
    const lost = Array.from({ length: 400 - kept.length }, (_, i) => i);
    assert.equal(count('/var/log/a.log'), lost.filter((n) => n % 10 < 5).length);
    assert.equal(count('/var/log/b.log'), lost.filter((n) => n % 10 >= 5).length);
    await buf.close();
  });

  test('drop counts survive a restart and go out once', async () => {
    const dir = tmp();
    const buf = new LogBuffer({ dir, maxBytes: 2048, segmentBytes: 512 });
    for (let i = 0; i < 20; i++) await buf.append(range(i * 5, i * 5 + 5));
    const reopened = new LogBuffer({ dir, maxBytes: 2048, segmentBytes: 512 });
    const { lines, dropped } = drain(reopened);
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0]!.count + lines.length, 100);
    assert.equal(drain(reopened).dropped.length, 0);
    await reopened.close();
    await buf.close();
  });

  test('lines of a batch in flight are not counted as dropped', async () => {
    const dir = tmp();
    const buf = new LogBuffer({ dir, maxBytes: 2048, segmentBytes: 512 });
    await buf.append(range(0, 5));
    const inflight = buf.nextBatch(1000, 1 << 20)!;
    for (let i = 1; i < 20; i++) await buf.append(range(i * 5, i * 5 + 5));
    assert.equal(buf.nextBatch(1000, 1 << 20)!.id, inflight.id);
    buf.markSent(inflight);
    const { lines, dropped } = drain(buf);
    const total = dropped.reduce((a, d) => a + d.count, 0);
    assert.equal(inflight.entries.length + total + lines.length, 100);
    await buf.close();
  });
});

describe('log buffer: records', () => {
  test('lines are cut to the protocol limits', () => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < 100; i++) fields[`f${i}`] = 'v'.repeat(5000);
    const r = recordOf({
      timestamp: 1.5,
      source: 'journal',
      source_name: 'u'.repeat(600),
      level: 'bogus' as never,
      message: 'm'.repeat(LOG_MESSAGE_MAX + 10),
      fields: { ...fields, ['k'.repeat(200)]: 'x' },
    });
    assert.ok(Value.Check(LogRecord, r), JSON.stringify([...Value.Errors(LogRecord, r)][0]));
    assert.equal(r.message.length, LOG_MESSAGE_MAX);
    assert.equal(Object.keys(r.fields!).length, 64);
    assert.equal(r.level, 'info');
    const empty = recordOf({ ...line(1), source_name: '', fields: {} });
    assert.equal(empty.source_name, 'file');
    assert.equal(empty.fields, undefined);
  });
});

describe('log rate limit', () => {
  test('a noisy source is cut to its rate and burst; the others pass', () => {
    let now = 0;
    const drops: LogDropped[] = [];
    const warnings: string[] = [];
    const limiter = createRateLimiter({
      ratePerSecond: 2,
      burst: 5,
      onDropped: (d) => drops.push(d),
      log: (l) => warnings.push(l),
      now: () => now,
    });
    const noisy = range(0, 10, 'noisy.service');
    const quiet = range(100, 103, 'quiet.service');
    const kept = limiter.admit([...noisy.slice(0, 5), ...quiet, ...noisy.slice(5)]);
    assert.deepEqual(
      kept.map((l) => l.fields.n),
      ['0', '1', '2', '3', '4', '100', '101', '102'],
    );
    assert.deepEqual(drops, [
      { source: 'file', source_name: 'noisy.service', reason: 'rate_limited', count: 5 },
    ]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /noisy\.service.*over its rate limit.*dropped 5 lines/);

    // Half a second refills one token; the warning waits a minute.
    now = 500;
    assert.equal(limiter.admit(range(10, 13, 'noisy.service')).length, 1);
    assert.equal(drops.at(-1)!.count, 2);
    assert.equal(warnings.length, 1);

    // After a minute the bucket is full again (the burst), and one warning sums the drops.
    now = 61_000;
    assert.equal(limiter.admit(range(20, 120, 'noisy.service')).length, 5);
    assert.equal(drops.at(-1)!.count, 95);
    assert.equal(warnings.length, 2);
    assert.match(warnings[1]!, /dropped 97 lines since the last warning/);
    assert.equal(limiter.admit(range(200, 203, 'quiet.service')).length, 3);
  });
});
