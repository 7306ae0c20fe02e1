import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createVigil, type Vigil } from '../src/app.js';
import { systemContext } from '../src/audit/service.js';
import { loadConfig } from '../src/config/config.js';
import { openDb } from '../src/db/connection.js';
import { createEventBus } from '../src/events/bus.js';
import { INGEST_TOPIC, type IngestEvent } from '../src/events/types.js';
import { createStreamHub } from '../src/faces/tyto/stream.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { ADMIN_PASSWORD, startHarness, type Harness } from '../../../test/support/harness.js';
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

describe('live stream across a server restart', () => {
  test('ids go on increasing, and a resume gets exactly what the new process sent', async () => {
    const created = await sqlite!.create();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-restart-'));
    const config = loadConfig({
      file: path.join(dir, 'absent.toml'),
      fileRequired: false,
      env: { VIGIL_STORAGE_DATA_DIR: dir, VIGIL_SERVER_TLS: 'off' },
    });
    let stamp = Date.parse('2026-11-27T00:00:00Z');
    /** Starts a server on the database file and listens; returns it, its port and a token. */
    const start = async (db = created.db) => {
      const vigil = await createVigil({ config, logger: pino({ level: 'silent' }), db });
      await vigil.identity.ensureFirstAdmin(ADMIN_PASSWORD, systemContext('test'));
      await vigil.http.listen({ host: '127.0.0.1', port: 0 });
      const login = await vigil.http.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'admin', password: ADMIN_PASSWORD },
      });
      const port = (vigil.http.server.address() as AddressInfo).port;
      return { vigil, port, token: login.json().access_token as string };
    };
    const push = (vigil: Vigil) =>
      vigil.telemetry.ingest({ agentId: 'solo', hostId: 'host-solo' }, (stamp += 1000), fixture);
    let second: Vigil | undefined;
    try {
      const first = await start();
      await first.vigil.db.kysely
        .insertInto('hosts')
        .values({ id: 'host-solo', name: 'solo', address: null, created_at: 0, updated_at: 0 })
        .execute();
      await first.vigil.db.kysely
        .insertInto('agents')
        .values({
          id: 'solo',
          name: 'solo',
          host_id: 'host-solo',
          kind: 'native',
          approval: 'approved',
          interval_seconds: 10,
          registered_at: 0,
          updated_at: 0,
        })
        .execute();
      const before = await openStream(first.port, first.token);
      for (let i = 0; i < 3; i++) await push(first.vigil);
      await until('three events', () => before.events.length === 3);
      const last = before.events[2]!.id!;
      before.close();
      await first.vigil.close();

      const restarted = await start(openDb({ sqliteFile: created.sqliteFile! }));
      second = restarted.vigil;
      // Two events before the client is back, one after.
      const sent: string[] = [];
      for (let i = 0; i < 2; i++) {
        await push(second);
        sent.push(new Date(stamp).toISOString());
      }
      const again = await openStream(restarted.port, restarted.token, '', {
        'last-event-id': last,
      });
      await push(second);
      sent.push(new Date(stamp).toISOString());
      await until('the three new events', () => again.events.length === 3);
      const ids = again.events.map((e) => Number(e.id));
      assert.ok(ids[0]! > Number(last), `${ids[0]} follows ${last}`);
      assert.deepEqual(ids, [ids[0]!, ids[0]! + 1, ids[0]! + 2]);
      assert.deepEqual(
        again.events.map((e) => JSON.parse(e.data!).timestamp),
        sent,
        'exactly what the new process sent, none of the old one',
      );
      again.close();
    } finally {
      await second?.close().catch(() => undefined);
      await created.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('events buffered for a subscriber that may come back go once none can', () => {
  let clock = Date.parse('2026-11-28T00:00:00Z');
  const bus = createEventBus();
  const hub = createStreamHub({
    bus,
    policy: { bufferFrames: 1000, heartbeatMs: 60_000, maxConnectionsPerIdentity: 1 },
    now: () => clock,
  });
  try {
    const event = (): IngestEvent => ({
      agentId: 'a',
      hostId: 'h',
      collectedAt: clock,
      doc: {},
      clockSkewSeconds: null,
      samples: { keys: [], values: new Float64Array(0) },
      checks: [],
    });
    // A fresh process keeps events for the subscribers of the one before it, for a minute.
    for (let i = 0; i < 3; i++) bus.publish(INGEST_TOPIC, event());
    assert.equal(hub.statistics().buffered, 3);
    clock += 61_000;
    bus.publish(INGEST_TOPIC, event());
    assert.equal(hub.statistics().buffered, 0, 'nobody can resume any more: nothing is kept');
  } finally {
    hub.close();
  }
});
