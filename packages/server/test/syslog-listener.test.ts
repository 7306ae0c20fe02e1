// The syslog listener's bounds on real sockets: a full queue pauses TCP senders (nothing lost) and
// drops UDP datagrams (counted); a failing store is retried, then its lines are dropped and counted;
// the connection limit and the idle timeout; an address that cannot be bound; the `[syslog] listen`
// key in TOML and in the environment.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { createSyslogHostMatcher } from '../src/logs/syslog/hosts.js';
import {
  startSyslogListener,
  type SyslogLimits,
  type SyslogRecord,
  type SyslogSink,
} from '../src/logs/syslog/listener.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = { warn: () => undefined };

/**
 * A store that commits only while its gate is open, as a database does that stalls under load:
 * appends wait for the gate, then keep their lines in order.
 */
function gatedStore() {
  const stored: SyslogRecord[] = [];
  let open = false;
  const waiting: (() => void)[] = [];
  const sink: SyslogSink = {
    async append(entries) {
      while (!open) await new Promise<void>((r) => waiting.push(r));
      stored.push(...entries);
    },
  };
  return {
    sink,
    stored,
    open() {
      open = true;
      for (const w of waiting.splice(0)) w();
    },
  };
}

const hosts = () =>
  createSyslogHostMatcher({
    directory: {
      listing: async () => [{ id: 'h-lab', name: 'lab', display_name: null, address: '127.0.0.1' }],
    },
    refreshMs: 60_000,
    now: Date.now,
    log: () => undefined,
  });

const limits = (over: Partial<SyslogLimits> = {}): SyslogLimits => ({
  maxConnections: 16,
  maxMessageBytes: 4096,
  idleTimeoutMs: 10_000,
  queueMaxLines: 100,
  flushMs: 10,
  batchMax: 50,
  ...over,
});

const until = async (what: string, done: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
};

describe('syslog listener bounds', () => {
  test('a full queue pauses a TCP sender; nothing is lost once the store catches up', async () => {
    const store = gatedStore();
    const l = await startSyslogListener({
      addresses: [{ protocol: 'tcp', host: '127.0.0.1', port: 0 }],
      sink: store.sink,
      hosts: hosts(),
      limits: limits(),
      now: Date.now,
      log: quiet,
    });
    try {
      const port = l.addresses()[0]!.port;
      const socket = net.connect({ port, host: '127.0.0.1' });
      const pad = 'x'.repeat(200);
      let payload = '';
      for (let i = 0; i < 3_000; i++) payload += `<14>app: line ${i} ${pad}\n`;
      socket.end(payload);
      await sleep(500);
      // Reading stopped: the queue's 100 lines, a batch in the store, and one chunk's worth.
      const held = l.stats().received;
      assert.ok(held < 3_000, `only part was read while the store stalled (${held})`);
      store.open();
      await until('every line stored', () => store.stored.length === 3_000);
      assert.deepEqual(
        store.stored.map((r) => r.message),
        Array.from({ length: 3_000 }, (_, i) => `line ${i} ${pad}`),
      );
      assert.equal(store.stored[0]!.host_id, 'h-lab');
      assert.equal(l.stats().droppedQueueFull, 0);
    } finally {
      await l.close();
    }
  });

  test('a full queue drops UDP datagrams and counts them', async () => {
    const store = gatedStore();
    const l = await startSyslogListener({
      addresses: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
      sink: store.sink,
      hosts: hosts(),
      limits: limits(),
      now: Date.now,
      log: quiet,
    });
    try {
      const port = l.addresses()[0]!.port;
      const s = dgram.createSocket('udp4');
      for (let i = 0; i < 300; i++)
        await new Promise<void>((resolve, reject) =>
          s.send(`<14>app: d${i}`, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
        );
      s.close();
      await until('every datagram counted', () => {
        const st = l.stats();
        return st.received + st.droppedQueueFull === 300;
      });
      const { received, droppedQueueFull } = l.stats();
      assert.ok(received <= 150, `at most the queue and one batch were taken (${received})`);
      assert.ok(droppedQueueFull >= 150, `the rest were dropped (${droppedQueueFull})`);
      store.open();
      await until('the taken ones stored', () => store.stored.length === received);
    } finally {
      await l.close();
    }
  });

  test('a failing store is tried three times, then the batch is dropped and counted', async () => {
    let calls = 0;
    let failures = 2;
    const stored: SyslogRecord[] = [];
    const l = await startSyslogListener({
      addresses: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
      sink: {
        async append(entries) {
          calls++;
          if (failures-- > 0) throw new Error('database is restarting');
          stored.push(...entries);
        },
      },
      hosts: hosts(),
      limits: limits(),
      now: Date.now,
      log: quiet,
    });
    try {
      const port = l.addresses()[0]!.port;
      const s = dgram.createSocket('udp4');
      const send = (text: string) =>
        new Promise<void>((resolve) => s.send(text, port, '127.0.0.1', () => resolve()));
      await send('<14>app: survives two failures');
      await until('stored after two retries', () => stored.length === 1);
      assert.equal(calls, 3);
      failures = 3;
      await send('<14>app: lost after three failures');
      await until('dropped', () => l.stats().droppedFailed === 1);
      failures = 0;
      await send('<14>app: the listener still works');
      await until('stored again', () => stored.length === 2);
      s.close();
      assert.deepEqual(
        stored.map((r) => r.message),
        ['survives two failures', 'the listener still works'],
      );
    } finally {
      await l.close();
    }
  });

  test('connections past the limit are refused; idle ones are closed', async () => {
    const store = gatedStore();
    store.open();
    const l = await startSyslogListener({
      addresses: [{ protocol: 'tcp', host: '127.0.0.1', port: 0 }],
      sink: store.sink,
      hosts: hosts(),
      limits: limits({ maxConnections: 2, idleTimeoutMs: 300 }),
      now: Date.now,
      log: quiet,
    });
    try {
      const port = l.addresses()[0]!.port;
      const closed: boolean[] = [false, false, false];
      const sockets = [0, 1, 2].map((i) => {
        const s = net.connect({ port, host: '127.0.0.1' });
        s.on('error', () => undefined);
        s.on('close', () => (closed[i] = true));
        return s;
      });
      await until('the third refused', () => l.stats().refusedConnections === 1 && closed[2]!);
      assert.equal(l.stats().connections, 2);
      // Nothing sent: both are closed after the idle timeout.
      await until('idle connections closed', () => closed[0]! && closed[1]!, 3_000);
      assert.equal(l.stats().connections, 0);
      for (const s of sockets) s.destroy();
    } finally {
      await l.close();
    }
  });

  test('close stores the lines still queued', async () => {
    const store = gatedStore();
    store.open();
    const l = await startSyslogListener({
      addresses: [{ protocol: 'tcp', host: '127.0.0.1', port: 0 }],
      sink: store.sink,
      hosts: hosts(),
      // Lines would wait a minute for their batch: only close stores them here.
      limits: limits({ flushMs: 60_000, batchMax: 1_000, queueMaxLines: 2_000 }),
      now: Date.now,
      log: quiet,
    });
    const port = l.addresses()[0]!.port;
    const socket = net.connect({ port, host: '127.0.0.1' });
    let payload = '';
    for (let i = 0; i < 100; i++) payload += `<14>app: queued ${i}\n`;
    socket.write(payload);
    await until('all received', () => l.stats().received === 100);
    assert.equal(store.stored.length, 0);
    await l.close();
    assert.equal(store.stored.length, 100);
    assert.equal(l.stats().connections, 0);
  });

  test('an address in use is an error naming it; nothing stays bound', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        startSyslogListener({
          addresses: [
            { protocol: 'udp', host: '127.0.0.1', port: 0 },
            { protocol: 'tcp', host: '127.0.0.1', port },
          ],
          sink: gatedStore().sink,
          hosts: hosts(),
          limits: limits(),
          now: Date.now,
          log: quiet,
        }),
        new RegExp(`syslog: cannot listen on tcp://127\\.0\\.0\\.1:${port}: EADDRINUSE`),
      );
    } finally {
      blocker.close();
    }
  });
});

describe('[syslog] listen in the configuration', () => {
  const load = (toml: string, env: Record<string, string> = {}) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-syslog-cfg-'));
    try {
      const file = path.join(dir, 'vigil.toml');
      writeFileSync(file, toml);
      return loadConfig({ file, env });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  test('off by default', () => assert.equal(load('').syslog.listen, ''));

  test('a TOML array or a comma-separated string', () => {
    assert.equal(
      load('[syslog]\nlisten = ["udp://0.0.0.0:514", "tcp://[::]:514"]\n').syslog.listen,
      'udp://0.0.0.0:514, tcp://[::]:514',
    );
    assert.equal(
      load('', { VIGIL_SYSLOG_LISTEN: 'tcp://127.0.0.1:1514' }).syslog.listen,
      'tcp://127.0.0.1:1514',
    );
  });

  for (const [toml, env, key, reason] of [
    ['[syslog]\nlisten = ["0.0.0.0:514"]\n', {}, 'syslog.listen', /is not udp:\/\/HOST:PORT/],
    ['[syslog]\nlisten = [514]\n', {}, 'syslog.listen', /expected a string/],
    ['', { VIGIL_SYSLOG_LISTEN: 'udp://h:99999' }, 'VIGIL_SYSLOG_LISTEN', /port must be/],
    ['[syslog]\nmax_connections = 0\n', {}, 'syslog.max_connections', /at least 1/],
    ['[syslog]\nport = 514\n', {}, 'syslog.port', /unknown key/],
  ] as const)
    test(`${key} refused: ${reason}`, () => {
      assert.throws(
        () => load(toml, env),
        (err: unknown) => err instanceof ConfigError && err.key === key && reason.test(err.reason),
      );
    });
});
