import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { CHECKDATA_FIXTURE as FIXTURE } from '../../../test/support/fixtures.js';

const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;

interface Sse {
  events: { id?: string; event?: string; data?: string }[];
  comments: string[];
  req: http.ClientRequest;
  res: http.IncomingMessage;
  close(): void;
}

/** Opens an SSE stream and parses what arrives. With `paused`, nothing is read. */
function openStream(
  port: number,
  token: string,
  query = '',
  headers: Record<string, string> = {},
  paused = false,
): Promise<Sse> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: `/api/v1/stream${query}`,
        headers: { authorization: `Bearer ${token}`, ...headers },
      },
      (res) => {
        const sse: Sse = { events: [], comments: [], req, res, close: () => req.destroy() };
        if (res.statusCode !== 200) {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () =>
            reject(
              Object.assign(new Error(`HTTP ${res.statusCode} ${body}`), {
                status: res.statusCode,
                body,
              }),
            ),
          );
          return;
        }
        if (paused) {
          res.pause();
          return resolve(sse);
        }
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buf += c;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const ev: Sse['events'][number] = {};
            let isEvent = false;
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) sse.comments.push(line.slice(1).trim());
              else {
                const [k, ...v] = line.split(': ');
                if (k === 'id' || k === 'event' || k === 'data') {
                  ev[k] = v.join(': ');
                  isEvent = true;
                }
              }
            }
            if (isEvent && ev.event) sse.events.push(ev);
          }
        });
        resolve(sse);
      },
    );
    req.on('error', reject);
  });
}

const until = async (what: string, fn: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const [sqlite] = await databaseKinds();

describe('live stream (SSE)', () => {
  let h: Harness;
  let port: number;
  let token: string;
  let stamp = Date.parse('2026-11-26T00:00:00Z');
  const push = (agentId: string) =>
    h.vigil.telemetry.ingest({ agentId, hostId: `host-${agentId}` }, (stamp += 1000), fixture);

  before(async () => {
    h = await startHarness(sqlite!, {
      env: {
        VIGIL_TELEMETRY_STREAM_HEARTBEAT_SECONDS: '1',
        VIGIL_TELEMETRY_STREAM_MAX_PER_USER: '3',
      },
    });
    for (const id of ['one', 'two']) {
      await h.vigil.db.kysely
        .insertInto('hosts')
        .values({ id: `host-${id}`, name: id, address: null, created_at: 0, updated_at: 0 })
        .execute();
      await h.vigil.db.kysely
        .insertInto('agents')
        .values({
          id,
          name: id,
          host_id: `host-${id}`,
          kind: 'native',
          approval: 'approved',
          interval_seconds: 10,
          registered_at: 0,
          updated_at: 0,
        })
        .execute();
    }
    await h.vigil.http.listen({ host: '127.0.0.1', port: 0 });
    port = (h.vigil.http.server.address() as AddressInfo).port;
    token = await h.login();
  });
  after(() => h.close());

  test("each new document is one metrics event in Tyto's structure; the filter holds; heartbeats come", async () => {
    const s = await openStream(port, token, '?agent_id=one');
    assert.equal(s.res.headers['content-type'], 'text/event-stream; charset=utf-8');
    await push('one');
    await push('two');
    await push('one');
    await until('two events', () => s.events.length === 2);
    const m = JSON.parse(s.events[0]!.data!);
    assert.equal(m.agent_id, 'one');
    assert.equal(m.cpu.totalUsage, (fixture.cpu as Record<string, number>).cpu_total_percentage);
    assert.equal(m.memory.total, (fixture.memory as Record<string, number>).total);
    assert.equal(m.processes.total, (fixture.processes as unknown[]).length);
    assert.ok(m.processes.topByCpu.length <= 10);
    assert.deepEqual(Object.keys(m.cpu.loadAverage), ['one', 'five', 'fifteen']);
    assert.ok(Number(s.events[1]!.id) > Number(s.events[0]!.id));
    await until('a heartbeat', () => s.comments.includes('heartbeat'), 3000);
    s.close();
  });

  test('resume with Last-Event-ID gets exactly the missed events, in order', async () => {
    const s = await openStream(port, token, '?agent_id=one');
    await push('one');
    await until('one event', () => s.events.length === 1);
    const last = s.events[0]!.id!;
    s.close();
    await push('one');
    await push('one');
    const again = await openStream(port, token, '?agent_id=one', { 'last-event-id': last });
    await until('the two missed events', () => again.events.length === 2);
    assert.deepEqual(
      again.events.map((e) => Number(e.id)),
      [Number(last) + 1, Number(last) + 2],
    );
    again.close();
  });

  test('a consumer that does not read loses events, counted, and its queue stays bounded', async () => {
    const slow = await openStream(port, token, '', {}, true);
    try {
      const before = h.vigil.stream.statistics().dropped;
      // More than the socket buffers of the loopback can hold (each event is a few kilobytes).
      for (let i = 0; i < 2000; i++) await push(i % 2 ? 'one' : 'two');
      const stats = h.vigil.stream.statistics();
      assert.ok(stats.dropped > before, `dropped ${stats.dropped}`);
      assert.ok(stats.queuedBytes < 1024 * 1024, `queued ${stats.queuedBytes} bytes`);
    } finally {
      slow.close();
    }
  });

  test('at most the configured number of streams per user: 429 beyond', async () => {
    await until('old streams closed', () => h.vigil.stream.statistics().clients === 0);
    const open = [
      await openStream(port, token),
      await openStream(port, token),
      await openStream(port, token),
    ];
    await assert.rejects(openStream(port, token), (err: { status?: number }) => err.status === 429);
    for (const s of open) s.close();
  });

  test('without a token: 401', async () => {
    await assert.rejects(
      openStream(port, 'nope'),
      (err: { status?: number }) => err.status === 401,
    );
  });
});
