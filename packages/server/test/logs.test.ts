import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../../../test/support/databases.js';
import { batchId, line, startLogServer, type LogServer } from './logs-support.js';

// Log ingest over the agent's mutual TLS and the search API, on both databases.

for (const kind of await databaseKinds()) {
  describe(`logs: ingest and search on ${kind.name}`, () => {
    let s: LogServer;
    let hostId: string;
    const t0 = Date.parse('2026-12-01T10:00:00Z');

    before(async () => {
      s = await startLogServer(kind, { VIGIL_LOGS_MAX_PUSH_BYTES: '200000' });
      hostId = (await s.vigil.agents.row(s.agentId))!.host_id!;
    });
    after(async () => {
      await s?.close();
    });

    test('a push is stored, durable once answered, and searchable with its fields', async () => {
      const id = batchId();
      const res = await s.push({
        batch_id: id,
        entries: [
          line('nginx started on port 443', { timestamp: t0, fields: { _PID: '42' } }),
          line('connection refused by upstream backend', {
            timestamp: t0 + 1000,
            level: 'error',
          }),
        ],
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { accepted: 2, duplicate: false });
      // Committed: another read of the database sees the lines.
      const rows = await s.vigil.db.kysely
        .selectFrom('log_entries')
        .select(['message', 'agent_id', 'host_id'])
        .orderBy('id')
        .execute();
      assert.equal(rows.length, 2);
      assert.equal(rows[0]!.agent_id, s.agentId);
      assert.equal(rows[0]!.host_id, hostId);

      const found = await s.search({});
      assert.equal(found.status, 200);
      assert.equal(found.body.total, 2);
      assert.equal(found.body.total_capped, false);
      const [newest, oldest] = found.body.entries;
      assert.equal(newest.message, 'connection refused by upstream backend');
      assert.equal(newest.level, 'error');
      assert.deepEqual(oldest, {
        id: oldest.id,
        timestamp: new Date(t0).toISOString(),
        agent_id: s.agentId,
        host_id: hostId,
        host_name: s.agentId,
        source: 'journal',
        source_name: 'nginx.service',
        level: 'info',
        message: 'nginx started on port 443',
        fields: { _PID: '42' },
      });
      assert.ok(Number(newest.id) > Number(oldest.id));
    });

    test('NUL characters, which PostgreSQL text cannot hold, are taken out', async () => {
      const res = await s.push({
        batch_id: batchId(),
        entries: [
          line('binary\u0000garbage in a nulline', {
            source_name: 'odd\u0000unit',
            fields: { raw: 'a\u0000b' },
          }),
        ],
      });
      assert.equal(res.status, 200, res.text);
      const found = await s.search({ q: 'nulline' });
      assert.equal(found.body.total, 1);
      const [entry] = found.body.entries;
      assert.equal(entry.message, 'binarygarbage in a nulline');
      assert.equal(entry.source_name, 'oddunit');
      assert.deepEqual(entry.fields, { raw: 'ab' });
    });

    test('a resent batch stores nothing again', async () => {
      const id = batchId();
      const body = { batch_id: id, entries: [line('resent batch line one')] };
      const first = await s.push(body);
      assert.deepEqual(first.body, { accepted: 1, duplicate: false });
      const again = await s.push(body);
      assert.equal(again.status, 200, again.text);
      assert.deepEqual(again.body, { accepted: 0, duplicate: true });
      assert.equal((await s.search({ q: 'resent' })).body.total, 1);
      // Two pushes of one batch at once: one stores it.
      const twin = { batch_id: batchId(), entries: [line('twin batch line')] };
      const both = await Promise.all([s.push(twin), s.push(twin)]);
      assert.deepEqual(both.map((r) => r.body.duplicate).sort(), [false, true]);
      assert.equal((await s.search({ q: 'twin' })).body.total, 1);
    });

    test('gzip bodies are taken; bad gzip 400, other encodings 415, too large 413', async () => {
      const gz = await s.push(
        { batch_id: batchId(), entries: [line('gzipped line arrives')] },
        { encoding: 'gzip' },
      );
      assert.equal(gz.status, 200, gz.text);
      assert.equal(gz.body.accepted, 1);
      assert.equal((await s.search({ q: 'gzipped' })).body.total, 1);

      const bad = await s.push(undefined, { encoding: 'gzip', raw: Buffer.from('not gzip') });
      assert.equal(bad.status, 400, bad.text);
      assert.equal(bad.body.error.code, 'request.bad_gzip');
      const br = await s.push(
        { batch_id: batchId(), entries: [line('brotli')] },
        { encoding: 'br' },
      );
      assert.equal(br.status, 415, br.text);
      // 100 lines of 4 KB: over the 200,000-byte limit once decompressed, small gzipped.
      const big = {
        batch_id: batchId(),
        entries: Array.from({ length: 100 }, () => line('x'.repeat(4000))),
      };
      const over = await s.push(big, { encoding: 'gzip' });
      assert.equal(over.status, 413, over.text);
      const overPlain = await s.push(big);
      assert.equal(overPlain.status, 413, overPlain.text);
      assert.equal((await s.search({ q: 'brotli' })).body.total, 0);
      const bodyBad = await s.push({ batch_id: batchId(), entries: [{ message: 'no fields' }] });
      assert.equal(bodyBad.status, 400, bodyBad.text);
    });

    test('an agent pushing as another is refused', async () => {
      const res = await s.push(
        { batch_id: batchId(), entries: [line('impostor')] },
        { agentId: 'log-02' },
      );
      assert.ok(res.status === 403 || res.status === 401, res.text);
      assert.equal((await s.search({ q: 'impostor' })).body.total, 0);
    });

    test('dropped counts are recorded once per batch', async () => {
      const body = {
        batch_id: batchId(),
        entries: [],
        dropped: [
          { source: 'file', source_name: '/var/log/x.log', reason: 'rate_limited', count: 7 },
        ],
      };
      assert.equal((await s.push(body)).status, 200);
      assert.equal((await s.push(body)).body.duplicate, true);
      await s.push({ ...body, batch_id: batchId() });
      const res = await s.vigil.http.inject({
        method: 'GET',
        url: '/api/v1/logs/dropped',
        headers: { authorization: `Bearer ${s.token}` },
      });
      assert.equal(res.statusCode, 200, res.body);
      const [item] = res.json().items;
      assert.equal(item.agent_id, s.agentId);
      assert.equal(item.reason, 'rate_limited');
      assert.equal(item.count, 14);
    });

    test('every filter selects its lines', async () => {
      const base = Date.parse('2026-11-01T00:00:00Z');
      const res = await s.push({
        batch_id: batchId(),
        entries: [
          line('filter alpha', { timestamp: base, source: 'file', source_name: '/var/log/a.log' }),
          line('filter beta', {
            timestamp: base + 60_000,
            source: 'docker',
            source_name: 'web-1',
            level: 'warning',
          }),
          line('filter gamma', { timestamp: base + 120_000, level: 'critical' }),
        ],
      });
      assert.equal(res.status, 200, res.text);
      const messages = async (p: Record<string, string>) => {
        const r = await s.search({ q: 'filter', ...p });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return r.body.entries.map((e: { message: string }) => e.message);
      };
      assert.deepEqual(await messages({}), ['filter gamma', 'filter beta', 'filter alpha']);
      assert.deepEqual(await messages({ source: 'file' }), ['filter alpha']);
      assert.deepEqual(await messages({ source_name: 'web-1' }), ['filter beta']);
      assert.deepEqual(await messages({ level: 'warning,critical' }), [
        'filter gamma',
        'filter beta',
      ]);
      assert.deepEqual(await messages({ level: 'Critical' }), ['filter gamma']);
      assert.deepEqual(await messages({ agent_id: s.agentId }), [
        'filter gamma',
        'filter beta',
        'filter alpha',
      ]);
      assert.deepEqual(await messages({ agent_id: 'someone-else' }), []);
      assert.deepEqual(await messages({ host_id: hostId }), [
        'filter gamma',
        'filter beta',
        'filter alpha',
      ]);
      assert.deepEqual(await messages({ host_id: 'no-such-host' }), []);
      assert.deepEqual(
        await messages({
          from: new Date(base + 60_000).toISOString(),
          to: new Date(base + 120_000).toISOString(),
        }),
        ['filter gamma', 'filter beta'],
      );
      assert.deepEqual(await messages({ to: '2026-11-01T00:00:30+00:00' }), ['filter alpha']);
      assert.deepEqual(await messages({ syslog: 'x', source: 'syslog' }), []);
      // A level alone, and with other filters, without words.
      const critical = await s.search({ level: 'critical' });
      assert.equal(critical.status, 200);
      assert.ok(critical.body.entries.length >= 1);
      assert.ok(critical.body.entries.every((e: { level: string }) => e.level === 'critical'));
      assert.equal(critical.body.total, critical.body.entries.length);
      const beta = await s.search({ level: 'warning', source_name: 'web-1', agent_id: s.agentId });
      assert.deepEqual(
        beta.body.entries.map((e: { message: string }) => e.message),
        ['filter beta'],
      );
      assert.equal(beta.body.total, 1);
    });

    test('q: words, phrases, prefixes, highlights', async () => {
      await s.push({
        batch_id: batchId(),
        entries: [
          line('Disk quota exceeded for user postgres'),
          line('user quota restored'),
          line('exceeded disk limit on /srv/data'),
          line('systemd[1]: Started nginx.service - A high performance web server'),
        ],
      });
      const messages = async (q: string) => {
        const r = await s.search({ q });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return r.body.entries.map((e: { message: string }) => e.message).sort();
      };
      assert.deepEqual(await messages('quota'), [
        'Disk quota exceeded for user postgres',
        'user quota restored',
      ]);
      assert.deepEqual(await messages('QUOTA exceeded'), ['Disk quota exceeded for user postgres']);
      assert.deepEqual(await messages('"disk quota"'), ['Disk quota exceeded for user postgres']);
      assert.deepEqual(await messages('"quota disk"'), []);
      assert.deepEqual(await messages('exce*'), [
        'Disk quota exceeded for user postgres',
        'exceeded disk limit on /srv/data',
      ]);
      assert.deepEqual(await messages('"disk quo"*'), ['Disk quota exceeded for user postgres']);
      assert.deepEqual(await messages('nginx.service'), [
        'systemd[1]: Started nginx.service - A high performance web server',
      ]);
      assert.deepEqual(await messages('/srv/data'), ['exceeded disk limit on /srv/data']);
      assert.deepEqual(await messages('systemd[1]:'), [
        'systemd[1]: Started nginx.service - A high performance web server',
      ]);
      const r = await s.search({ q: 'Quota "disk limit" exce*' });
      assert.deepEqual(r.body.highlights, ['quota', 'disk', 'limit', 'exce*']);
    });

    test('characters special to FTS5 or tsquery are text: never an error', async () => {
      const specials = [
        '"',
        '"unbalanced',
        'a"b',
        '*',
        '**',
        'a**',
        '*a',
        '-',
        '-quota',
        'quota -disk',
        ':',
        'a:b',
        'col:quota',
        '(',
        ')',
        '(quota OR disk)',
        'NEAR',
        'NEAR(quota disk)',
        'AND',
        'OR',
        'NOT',
        'quota AND disk',
        'quota OR',
        '^',
        '^quota',
        '\\',
        '\\"',
        "'",
        "quota'",
        "''",
        '&',
        '|',
        '!',
        '!quota',
        '<->',
        'quota <-> disk',
        'quota:*',
        'quota:A',
        '{}',
        '[]',
        '+',
        '%',
        '_',
        ';',
        ';drop table log_entries;--',
        "' or 1=1 --",
        '\u0000',
        'ü',
        'Ärger',
        '日本語',
        '🚀',
        'é*',
        '"""',
        '"a" "b',
        'x'.repeat(1000),
      ];
      for (const q of specials) {
        const r = await s.search({ q });
        assert.equal(r.status, 200, `${JSON.stringify(q)}: ${JSON.stringify(r.body)}`);
        assert.ok(Array.isArray(r.body.entries));
      }
      assert.equal((await s.search({ q: 'x'.repeat(1001) })).status, 400);
      // Operators are words, not syntax: `quota OR` needs both.
      assert.equal((await s.search({ q: 'quota OR' })).body.total, 0);
      assert.equal((await s.search({ q: '-quota' })).body.total, 2);
    });

    test('cursor paging walks every line once, newest first', async () => {
      await s.push({
        batch_id: batchId(),
        entries: Array.from({ length: 25 }, (_, i) => line(`pager line ${i}`)),
      });
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10; pages += 1) {
        const r = await s.search({ q: 'pager', limit: '7', ...(cursor ? { cursor } : {}) });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.total, 25);
        seen.push(...r.body.entries.map((e: { message: string }) => e.message));
        cursor = r.body.next_cursor ?? undefined;
        if (!cursor) break;
      }
      assert.deepEqual(
        seen,
        Array.from({ length: 25 }, (_, i) => `pager line ${24 - i}`),
      );
      const offset = await s.search({ q: 'pager', limit: '5', offset: '20' });
      assert.deepEqual(
        offset.body.entries.map((e: { message: string }) => e.message),
        ['pager line 4', 'pager line 3', 'pager line 2', 'pager line 1', 'pager line 0'],
      );
    });

    test('bad parameters are 400 in the native envelope', async () => {
      for (const p of <Record<string, string>[]>[
        { level: 'loud' },
        { level: 'info,,nope' },
        { source: 'kernel' },
        { from: 'yesterday' },
        { to: '2026-13-45T99:00:00Z' },
        { from: '2026-12-02T00:00:00Z', to: '2026-12-01T00:00:00Z' },
        { limit: '0' },
        { limit: '1001' },
        { limit: '-1' },
        { limit: 'ten' },
        { offset: '-5' },
        { offset: '100001' },
        { cursor: 'garbage' },
        { cursor: 'eyJsb2dzX2JlZm9yZSI6MX0.AAAAAAAAAAAAAAAAAAAAAA' },
      ]) {
        const r = await s.search(p);
        assert.equal(r.status, 400, `${JSON.stringify(p)}: ${JSON.stringify(r.body)}`);
        assert.equal(typeof r.body.error.code, 'string');
      }
      const stream = await s.vigil.http.inject({
        method: 'GET',
        url: '/api/v1/logs/stream?level=loud',
        headers: { authorization: `Bearer ${s.token}` },
      });
      assert.equal(stream.statusCode, 400, stream.body);
      const unauthenticated = await s.vigil.http.inject({ method: 'GET', url: '/api/v1/logs' });
      assert.equal(unauthenticated.statusCode, 401);
    });
  });
}
