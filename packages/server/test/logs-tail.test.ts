import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../../../test/support/databases.js';
import { createEventBus } from '../src/events/bus.js';
import { LOGS_TOPIC, type LogsEvent } from '../src/events/types.js';
import type { LogEntryItem } from '../src/logs/model.js';
import { createLogTail } from '../src/logs/tail.js';
import { batchId, line, startLogServer, type LogServer } from './logs-support.js';

// The live tail (`GET /api/v1/logs/stream`) over HTTPS, and the total's cap.

interface Sse {
  events: { id: string; data: LogEntryItem }[];
  comments: string[];
  close(): void;
  /** Resolves once `n` events have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
}

function openTail(s: LogServer, query: string, headers: Record<string, string> = {}): Promise<Sse> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      `${s.base}/api/v1/logs/stream${query}`,
      { ca: s.ca, agent: false, headers: { authorization: `Bearer ${s.token}`, ...headers } },
      (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => reject(new Error(`HTTP ${res.statusCode} ${body}`)));
          return;
        }
        const waiters: { n: number; done(): void }[] = [];
        const sse: Sse = {
          events: [],
          comments: [],
          close: () => req.destroy(),
          waitFor(n, timeoutMs = 5000) {
            if (sse.events.length >= n) return Promise.resolve();
            return new Promise((ok, fail) => {
              const timer = setTimeout(
                () => fail(new Error(`got ${sse.events.length} of ${n} events`)),
                timeoutMs,
              );
              waiters.push({
                n,
                done: () => {
                  clearTimeout(timer);
                  ok();
                },
              });
            });
          },
        };
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buf += c;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let id = '';
            let data = '';
            for (const l of block.split('\n')) {
              if (l.startsWith(':')) sse.comments.push(l.slice(1).trim());
              else if (l.startsWith('id: ')) id = l.slice(4);
              else if (l.startsWith('data: ')) data = l.slice(6);
            }
            if (data) sse.events.push({ id, data: JSON.parse(data) as LogEntryItem });
          }
          for (const w of [...waiters])
            if (sse.events.length >= w.n) {
              waiters.splice(waiters.indexOf(w), 1);
              w.done();
            }
        });
        resolve(sse);
      },
    );
    req.on('error', reject);
  });
}

for (const kind of await databaseKinds()) {
  describe(`logs: live tail and counts on ${kind.name}`, () => {
    let s: LogServer;
    before(async () => {
      s = await startLogServer(kind);
    });
    after(async () => {
      await s?.close();
    });

    test('the tail sends new lines matching its filters, with their ids', async () => {
      const tail = await openTail(s, '?level=error,critical&q=%22disk%20full%22');
      const all = await openTail(s, '');
      await s.push({
        batch_id: batchId(),
        entries: [
          line('the disk full again on /var', { level: 'error' }),
          line('the disk full again on /tmp', { level: 'info' }),
          line('disk is not full', { level: 'error' }),
          line('DISK FULL: stop', { level: 'critical', source: 'file', source_name: '/x' }),
        ],
      });
      await tail.waitFor(2);
      await all.waitFor(4);
      assert.deepEqual(
        tail.events.map((e) => e.data.message),
        ['the disk full again on /var', 'DISK FULL: stop'],
      );
      assert.equal(tail.events[0]!.id, tail.events[0]!.data.id);
      assert.equal(tail.events[1]!.data.source, 'file');
      assert.deepEqual(
        all.events.map((e) => Number(e.id)),
        [...all.events.map((e) => Number(e.id))].sort((a, b) => a - b),
      );
      tail.close();
      all.close();
    });

    test('Last-Event-ID resumes: stored lines after it, then live ones, once each', async () => {
      const first = await openTail(s, '?source_name=resume.service');
      await s.push({
        batch_id: batchId(),
        entries: [1, 2, 3].map((i) => line(`resume ${i}`, { source_name: 'resume.service' })),
      });
      await first.waitFor(3);
      const lastSeen = first.events[0]!.id;
      first.close();
      // Lines stored while the client was away, one of another source.
      await s.push({
        batch_id: batchId(),
        entries: [
          line('resume 4', { source_name: 'resume.service' }),
          line('elsewhere', { source_name: 'other.service' }),
          line('resume 5', { source_name: 'resume.service' }),
        ],
      });
      const resumed = await openTail(s, '?source_name=resume.service', {
        'last-event-id': lastSeen,
      });
      await resumed.waitFor(4);
      await s.push({
        batch_id: batchId(),
        entries: [line('resume 6', { source_name: 'resume.service' })],
      });
      await resumed.waitFor(5);
      assert.deepEqual(
        resumed.events.map((e) => e.data.message),
        ['resume 2', 'resume 3', 'resume 4', 'resume 5', 'resume 6'],
      );
      // The query parameter works as the header does.
      const byParam = await openTail(s, `?source_name=resume.service&last_event_id=${lastSeen}`);
      await byParam.waitFor(5);
      assert.equal(byParam.events.length, 5);
      resumed.close();
      byParam.close();
      const bad = await openTail(s, '', { 'last-event-id': 'abc' }).catch((e: Error) => e);
      assert.match(String(bad), /HTTP 400/);
    });

    test('total is exact up to 10,000, then capped', async () => {
      for (let b = 0; b < 3; b += 1) {
        const res = await s.push({
          batch_id: batchId(),
          entries: Array.from({ length: 4000 }, (_, i) => line(`bulk line ${b} ${i}`)),
        });
        assert.equal(res.status, 200, res.text);
      }
      const all = await s.search({ q: 'bulk' });
      assert.equal(all.body.total, 10_000);
      assert.equal(all.body.total_capped, true);
      assert.equal(all.body.entries.length, 100);
      const some = await s.search({ q: '"bulk line 1"' });
      assert.equal(some.body.total, 4000);
      assert.equal(some.body.total_capped, false);
      assert.equal(
        await s.vigil.logs.service.count({ terms: [{ kind: 'word', word: 'bulk' }] }),
        12_000,
      );
    });
  });
}

describe('logs: a slow tail reader is disconnected, never buffered without bound', () => {
  test('a reader that stops reading is dropped once its buffer passes the bound', async () => {
    const bus = createEventBus();
    const tail = createLogTail({
      bus,
      replay: async () => [],
      policy: {
        heartbeatMs: 60_000,
        maxConnectionsPerIdentity: 2,
        maxBufferedBytes: 64 * 1024,
        replayMax: 10,
      },
    });
    const server = http.createServer((req, res) => {
      void tail.attach(res, { identity: 'u', filter: {}, headers: {} });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const { port } = server.address() as AddressInfo;
    const closed = new Promise<void>((ok) => {
      http.get({ host: '127.0.0.1', port, path: '/' }, (res) => {
        res.pause();
        res.socket.on('close', () => ok());
      });
    });
    while (tail.statistics().clients === 0) await new Promise((r) => setTimeout(r, 10));
    const entry = (id: number): LogEntryItem => ({
      id: String(id),
      timestamp: new Date().toISOString(),
      agent_id: null,
      host_id: null,
      source: 'syslog',
      source_name: 'x',
      level: 'info',
      message: 'y'.repeat(8192),
      fields: {},
    });
    for (let i = 1; i <= 5000 && tail.statistics().clients > 0; i += 1) {
      bus.publish<LogsEvent>(LOGS_TOPIC, { entries: [entry(i)] });
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await closed;
    assert.equal(tail.statistics().clients, 0);
    assert.equal(tail.statistics().disconnected, 1);
    assert.equal(bus.hasSubscribers(LOGS_TOPIC), false);
    tail.close();
    await new Promise((ok) => server.close(ok));
  });
});
