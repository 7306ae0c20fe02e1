import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../../../test/support/databases.js';
import { histogramPlan } from '../src/logs/service.js';
import { batchId, line, startLogServer, type LogServer } from './logs-support.js';

// Matches over time (`GET /api/v1/logs/histogram`): counts per interval and level, the list's
// filters, empty intervals, the cap on counted lines and bad parameters, on both databases.

test('histogramPlan picks the smallest nice width, aligned, or whole seconds past a day', () => {
  const t = Date.parse('2026-12-01T10:00:30Z');
  assert.deepEqual(histogramPlan(t, t + 3_600_000 - 1, 60), {
    start: Date.parse('2026-12-01T10:00:00Z'),
    width: 300_000,
    count: 13,
  });
  assert.deepEqual(histogramPlan(t, t + 59_000, 60), { start: t, width: 1000, count: 60 });
  assert.deepEqual(histogramPlan(t, t, 1), { start: t, width: 1000, count: 1 });
  const year = histogramPlan(t, t + 365 * 86_400_000, 10);
  assert.equal(year.start, t);
  assert.equal(year.width % 1000, 0);
  assert.ok(year.count <= 10 && year.count * year.width > 365 * 86_400_000);
});

for (const kind of await databaseKinds()) {
  describe(`logs: histogram on ${kind.name}`, () => {
    let s: LogServer;
    const t0 = Date.parse('2026-12-01T10:00:00Z');
    const at = (m: number, sec: number) => t0 + m * 60_000 + sec * 1000;
    // Five one-minute intervals, 10:00 to 10:04:59.
    const range = { from: '2026-12-01T10:00:00Z', to: '2026-12-01T10:04:59Z', buckets: '5' };

    const histogram = async (params: Record<string, string>) => {
      const res = await s.vigil.http.inject({
        method: 'GET',
        url: `/api/v1/logs/histogram?${new URLSearchParams(params).toString()}`,
        headers: { authorization: `Bearer ${s.token}` },
      });
      return { status: res.statusCode, body: res.json() };
    };
    const counts = (body: { buckets: { count: number }[] }) => body.buckets.map((b) => b.count);

    before(async () => {
      s = await startLogServer(kind);
      // Stored in this order: ids count up with time.
      const res = await s.push({
        batch_id: batchId(),
        entries: [
          line('disk ok one', { timestamp: at(0, 5) }),
          line('disk ok two', { timestamp: at(0, 6) }),
          line('disk full', { timestamp: at(0, 7), level: 'error' }),
          line('disk slow', { timestamp: at(2, 10), level: 'warning' }),
          line('cpu hot', { timestamp: at(2, 11), level: 'critical' }),
          line('disk quota exceeded', {
            timestamp: at(4, 58),
            level: 'error',
            source: 'file',
            source_name: '/var/log/app.log',
          }),
          line('disk ok three', { timestamp: at(4, 59), level: 'notice' }),
          // Outside the range.
          line('disk ok later', { timestamp: at(5, 0) }),
        ],
      });
      assert.equal(res.status, 200, res.text);
    });
    after(async () => {
      await s?.close();
    });

    test('counts every match per interval and level, empty intervals included', async () => {
      const r = await histogram(range);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.from, '2026-12-01T10:00:00.000Z');
      assert.equal(r.body.to, '2026-12-01T10:04:59.000Z');
      assert.equal(r.body.bucket_seconds, 60);
      assert.equal(r.body.total, 7);
      assert.equal(r.body.capped, false);
      assert.deepEqual(
        r.body.buckets.map((b: { start: string }) => b.start),
        [0, 1, 2, 3, 4].map((m) => new Date(at(m, 0)).toISOString()),
      );
      assert.deepEqual(r.body.buckets, [
        { start: '2026-12-01T10:00:00.000Z', count: 3, error: 1, warning: 0, other: 2 },
        { start: '2026-12-01T10:01:00.000Z', count: 0, error: 0, warning: 0, other: 0 },
        { start: '2026-12-01T10:02:00.000Z', count: 2, error: 1, warning: 1, other: 0 },
        { start: '2026-12-01T10:03:00.000Z', count: 0, error: 0, warning: 0, other: 0 },
        { start: '2026-12-01T10:04:00.000Z', count: 2, error: 1, warning: 0, other: 1 },
      ]);
    });

    test('the filters and q of the list apply', async () => {
      const disk = await histogram({ ...range, q: 'disk' });
      assert.equal(disk.status, 200);
      assert.deepEqual(counts(disk.body), [3, 0, 1, 0, 2]);
      assert.equal(disk.body.total, 6);
      const phrase = await histogram({ ...range, q: '"quota exc"*' });
      assert.deepEqual(counts(phrase.body), [0, 0, 0, 0, 1]);
      const severe = await histogram({ ...range, level: 'error,critical' });
      assert.deepEqual(counts(severe.body), [1, 0, 1, 0, 1]);
      assert.deepEqual(
        severe.body.buckets.map((b: { error: number }) => b.error),
        [1, 0, 1, 0, 1],
      );
      const file = await histogram({ ...range, source: 'file', q: 'disk' });
      assert.deepEqual(counts(file.body), [0, 0, 0, 0, 1]);
      const named = await histogram({ ...range, source_name: 'nginx.service', level: 'info' });
      assert.deepEqual(counts(named.body), [2, 0, 0, 0, 0]);
      const agent = await histogram({ ...range, agent_id: 'nobody' });
      assert.equal(agent.body.total, 0);
      assert.deepEqual(counts(agent.body), [0, 0, 0, 0, 0]);
      const odd = await histogram({ ...range, q: 'NEAR(" - :' });
      assert.equal(odd.status, 200);
    });

    test('the list and the histogram agree on what matches', async () => {
      for (const params of [
        { q: 'disk' },
        { level: 'error,critical' },
        { q: 'ok', source: 'journal' },
      ] as Record<string, string>[]) {
        const list = await s.search({ ...params, from: range.from, to: range.to });
        const h = await histogram({ ...range, ...params });
        assert.equal(h.body.total, list.body.total, JSON.stringify(params));
      }
    });

    test('without a range: to is now, from a day before; buckets default to 60', async () => {
      const r = await histogram({});
      assert.equal(r.status, 200);
      const span = Date.parse(r.body.to) - Date.parse(r.body.from);
      assert.equal(span, 86_400_000);
      assert.ok(Math.abs(Date.parse(r.body.to) - Date.now()) < 60_000);
      assert.equal(r.body.bucket_seconds, 1800);
      assert.ok(r.body.buckets.length <= 60 && r.body.buckets.length >= 48);
      // The lines are from 2026-12-01, not necessarily in the last day.
      const hour = await histogram({ from: '2026-12-01T10:00:00Z', to: '2026-12-01T10:59:59Z' });
      assert.equal(hour.body.bucket_seconds, 60);
      assert.equal(hour.body.buckets.length, 60);
      assert.equal(hour.body.total, 8);
      assert.deepEqual(counts(hour.body).slice(0, 6), [3, 0, 2, 0, 2, 1]);
    });

    test('counts at most the newest matches and says it is capped', async () => {
      const filter = { from: at(0, 0), to: at(4, 59) };
      // The newest three: the critical line at 10:02 and the two at 10:04.
      const three = await s.vigil.logs.service.histogram(filter, 5, 3);
      assert.equal(three.capped, true);
      assert.equal(three.total, 3);
      assert.deepEqual(
        three.buckets.map((b) => [b.count, b.error, b.warning, b.other]),
        [
          [0, 0, 0, 0],
          [0, 0, 0, 0],
          [1, 1, 0, 0],
          [0, 0, 0, 0],
          [2, 1, 0, 1],
        ],
      );
      const all = await s.vigil.logs.service.histogram(filter, 5, 7);
      assert.equal(all.capped, false);
      assert.equal(all.total, 7);
      const words = await s.vigil.logs.service.histogram(
        { ...filter, terms: [{ kind: 'word', word: 'disk' }] },
        5,
        2,
      );
      assert.equal(words.capped, true);
      assert.deepEqual(
        words.buckets.map((b) => b.count),
        [0, 0, 0, 0, 2],
      );
      // Over HTTP the cap is 50,000: these few lines are all counted.
      const http = await histogram(range);
      assert.equal(http.body.capped, false);
    });

    test('bad parameters are 400 in the error envelope', async () => {
      for (const params of [
        { buckets: '0' },
        { buckets: '501' },
        { buckets: 'ten' },
        { buckets: '-1' },
        { from: '2026-12-01T11:00:00Z', to: '2026-12-01T10:00:00Z' },
        { from: 'yesterday' },
        { to: '2026-13-45' },
        { level: 'loud' },
        { source: 'pigeon' },
        { q: 'x'.repeat(1001) },
      ] as Record<string, string>[]) {
        const r = await histogram(params);
        assert.equal(r.status, 400, JSON.stringify(params));
        assert.equal(typeof r.body.error?.code, 'string', JSON.stringify(r.body));
        assert.equal(r.body.error.fault, 'client');
      }
      const anonymous = await s.vigil.http.inject({ method: 'GET', url: '/api/v1/logs/histogram' });
      assert.equal(anonymous.statusCode, 401);
    });
  });
}
