import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { parseAgentConfig } from '../src/config.js';
import { realHost } from '../src/host.js';
import { processDetail, runCommand } from '../src/push/commands.js';
import { normalizeFingerprint } from '../src/push/native.js';
import { startOitcClient } from '../src/push/oitc.js';
import { backoffMs, Pusher, type SendOutcome, type Transport } from '../src/push/pusher.js';
import { Spool } from '../src/push/spool.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'vigil-spool-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const doc = (n: number, size = 10) => JSON.stringify({ n, pad: 'x'.repeat(size) });

describe('spool', () => {
  test('keeps documents in order across a restart and forgets a half-written one', () => {
    const dir = tmp();
    const a = new Spool(dir, { maxBytes: 1 << 20, maxAgeMs: 3_600_000 });
    for (let i = 1; i <= 3; i++) a.append(Date.now() + i, doc(i));
    a.ack(a.peek()!.entry);
    writeFileSync(path.join(dir, '0000000000000099-1.json.tmp'), 'half');
    const b = new Spool(dir, { maxBytes: 1 << 20, maxAgeMs: 3_600_000 });
    assert.equal(b.length, 2);
    assert.equal(JSON.parse(b.peek()!.text).n, 2);
    assert.ok(!readdirSync(dir).some((f) => f.endsWith('.tmp')));
    const next = b.append(Date.now() + 10, doc(4));
    assert.ok(next.seq > 3, 'numbering continues after the restart');
  });

  test('over the byte limit the oldest are dropped and counted', () => {
    const s = new Spool(tmp(), { maxBytes: 250, maxAgeMs: 3_600_000 });
    for (let i = 1; i <= 10; i++) s.append(Date.now(), doc(i, 40));
    assert.ok(s.bytes <= 250);
    assert.ok(s.dropped > 0);
    assert.equal(s.length + s.dropped, 10);
    assert.equal(JSON.parse(s.peek()!.text).n, s.dropped + 1, 'the newest are kept');
  });

  test('documents older than the age limit are dropped', () => {
    let now = 1_000_000;
    const s = new Spool(tmp(), { maxBytes: 1 << 20, maxAgeMs: 10_000 }, () => now);
    s.append(now - 20_000, doc(1));
    s.append(now, doc(2));
    assert.equal(s.length, 1);
    assert.equal(s.dropped, 1);
    now += 11_000;
    s.append(now, doc(3));
    assert.equal(s.length, 1);
    assert.equal(JSON.parse(s.peek()!.text).n, 3);
  });
});

/** A transport whose availability the test switches; it records what it was given. */
function fakeTransport() {
  const received: number[] = [];
  const t = {
    up: true as boolean,
    received,
    name: 'fake',
    async send(_at: number, text: string): Promise<SendOutcome> {
      if (!t.up) return { ok: false, retry: true, reason: 'connection refused' };
      const n = (JSON.parse(text) as { n: number }).n;
      if (n < 0) return { ok: false, retry: false, reason: 'bad document' };
      received.push(n);
      return { ok: true };
    },
  } satisfies Transport & { up: boolean; received: number[] };
  return t;
}

const until = async (what: string, fn: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('pusher', () => {
  test('an outage: documents are spooled, then delivered in order once, after backoff', async () => {
    const t = fakeTransport();
    const spool = new Spool(tmp(), { maxBytes: 1 << 20, maxAgeMs: 3_600_000 });
    const logs: string[] = [];
    const p = new Pusher(spool, t, {
      log: (l) => logs.push(l),
      baseDelayMs: 5,
      maxDelayMs: 20,
    });
    p.submit(Date.now(), doc(1));
    await until('first delivered', () => t.received.length === 1);
    t.up = false;
    for (let i = 2; i <= 6; i++) p.submit(Date.now() + i, doc(i));
    await until('spooled', () => spool.length === 5);
    assert.ok(p.statistics().failedAttempts >= 1);
    t.up = true;
    p.submit(Date.now() + 7, doc(7));
    await until('all delivered', () => t.received.length === 7);
    assert.deepEqual(t.received, [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(spool.length, 0);
    assert.ok(logs.some((l) => /buffering on disk/.test(l)));
    assert.ok(logs.some((l) => /takes documents again/.test(l)));
    await p.stop();
  });

  test('a document refused for good is dropped, the rest go on', async () => {
    const t = fakeTransport();
    const p = new Pusher(new Spool(tmp(), { maxBytes: 1 << 20, maxAgeMs: 3_600_000 }), t, {
      log: () => undefined,
    });
    p.submit(Date.now(), doc(-1));
    p.submit(Date.now() + 2, doc(2));
    await until('delivered', () => t.received.length === 1);
    assert.deepEqual(t.received, [2]);
    assert.equal(p.statistics().rejected, 1);
    await p.stop();
  });

  test('stop leaves undelivered documents in the spool for the next start', async () => {
    const t = fakeTransport();
    t.up = false;
    const dir = tmp();
    const p = new Pusher(new Spool(dir, { maxBytes: 1 << 20, maxAgeMs: 3_600_000 }), t, {
      log: () => undefined,
      baseDelayMs: 60_000,
    });
    p.submit(Date.now(), doc(1));
    p.submit(Date.now() + 2, doc(2));
    await until('attempted', () => p.statistics().failedAttempts === 1);
    await p.stop();
    t.up = true;
    const again = new Pusher(new Spool(dir, { maxBytes: 1 << 20, maxAgeMs: 3_600_000 }), t, {
      log: () => undefined,
    });
    await until('delivered after restart', () => t.received.length === 2);
    assert.deepEqual(t.received, [1, 2]);
    await again.stop();
  });

  test('backoff grows exponentially with jitter and is capped', () => {
    assert.equal(
      backoffMs(1, 1000, 60_000, () => 1),
      1000,
    );
    assert.equal(
      backoffMs(1, 1000, 60_000, () => 0),
      500,
    );
    assert.equal(
      backoffMs(4, 1000, 60_000, () => 1),
      8000,
    );
    assert.equal(
      backoffMs(20, 1000, 60_000, () => 1),
      60_000,
    );
    assert.equal(
      backoffMs(20, 1000, 60_000, () => 0),
      30_000,
    );
  });
});

describe('commands', () => {
  const host = realHost({ proc: '/proc', sys: '/sys', rootfs: '/' });

  test('refuses to signal pid 1 or the agent itself, and unknown signals', () => {
    for (const pid of [1, process.pid]) {
      const r = runCommand(host, { id: 'x', kind: 'process.signal', pid, signal: 15 });
      assert.deepEqual(r.ok, false);
      assert.equal(!r.ok && r.failure, 'protected_process');
    }
    const r = runCommand(host, { id: 'x', kind: 'process.signal', pid: 12345, signal: 11 });
    assert.equal(!r.ok && r.failure, 'bad_command');
  });

  test('reads a real process and signals it; a vanished pid is no_such_process', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', (_c, s) => r(s)));
    await new Promise((r) => setTimeout(r, 100));
    const d = processDetail(host, child.pid!, Date.now());
    assert.equal(d?.name, 'sleep');
    assert.equal(d?.cmdline, 'sleep 30');
    assert.equal(d?.ppid, process.pid);
    assert.ok(d!.memory > 0);
    assert.ok(d!.threads >= 1);
    const r = runCommand(host, { id: 'x', kind: 'process.signal', pid: child.pid!, signal: 9 });
    assert.deepEqual(r, { ok: true });
    assert.equal(await exited, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
    const gone = runCommand(host, { id: 'y', kind: 'process.get', pid: child.pid! });
    assert.equal(!gone.ok && gone.failure, 'no_such_process');
  });
});

test('fingerprints are accepted with or without colons, in any case', () => {
  const hex = 'ab'.repeat(32);
  assert.equal(normalizeFingerprint(hex.toUpperCase().match(/../g)!.join(':')), hex);
  assert.equal(normalizeFingerprint(hex), hex);
  assert.throws(() => normalizeFingerprint('abc'), /64 hex digits/);
  assert.throws(() => normalizeFingerprint('zz'.repeat(32)), /64 hex digits/);
});

describe('openITCOCKPIT push client', () => {
  const PACKAGES = '/agentconnector/submit_checkdata.json?type=packagemanager';
  const inventory = (n: number) =>
    JSON.stringify({
      Enabled: true,
      Pending: false,
      LastUpdate: n,
      Stats: null,
      LinuxPackages: [],
    });
  const clientFor = (port: number, opts: { now?: () => number } = {}) => {
    const dir = tmp();
    const config = parseAgentConfig(
      `[oitc]\nenabled = True\nurl = http://127.0.0.1:${port}\napikey = k1\n[vigil]\noitc-auth-file = ${dir}/agent.auth\n`,
      path.join(dir, 'config.ini'),
    );
    const logs: string[] = [];
    return { client: startOitcClient(config, (l) => logs.push(l), opts), logs };
  };
  /** A small openITCOCKPIT server on 127.0.0.1 that records what the agent posts. */
  async function oitcServer() {
    const posts: { path: string; body: Record<string, unknown> }[] = [];
    const waiters: { path: string; resolve: (b: Record<string, unknown>) => void }[] = [];
    let packageStatus = 200;
    const server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(text) as Record<string, unknown>;
        const p = req.url ?? '';
        posts.push({ path: p, body });
        for (const w of waiters.filter((x) => x.path === p)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(body);
        }
        res.setHeader('content-type', 'application/json');
        if (p === '/agentconnector/register_agent.json') {
          res.statusCode = 201;
          res.end(JSON.stringify({ agentuuid: body.agentuuid, password: 'secret-1' }));
        } else if (p === '/agentconnector/submit_checkdata.json') {
          res.end(JSON.stringify({ received_checks: 1 }));
        } else if (p === PACKAGES) {
          res.statusCode = packageStatus;
          res.end(
            JSON.stringify(
              packageStatus === 200 ? { success: true, received_checks: 0 } : { error: 'busy' },
            ),
          );
        } else {
          res.statusCode = 404;
          res.end('{}');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    return {
      port,
      posts,
      setPackageStatus: (s: number) => (packageStatus = s),
      next: (p: string) =>
        new Promise<Record<string, unknown>>((resolve) => waiters.push({ path: p, resolve })),
      close: () => new Promise((r) => server.close(r)),
    };
  }

  for (const [status, body] of [
    // openITCOCKPIT's answer to a missing or wrong X-OITC-API key, as its API document shows it
    // and older releases give it.
    [405, (url: string) => JSON.stringify({ message: 'Method Not Allowed', url, code: 405 })],
    // Current openITCOCKPIT releases: 401 with an empty body.
    [401, () => ''],
  ] as const)
    test(`a ${status} from the server, openITCOCKPIT's answer to a wrong API key, is reported as such`, async () => {
      const server = http.createServer((req, res) => {
        req.resume();
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body(req.url ?? ''));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const { client } = clientFor((server.address() as AddressInfo).port);
        const outcome = await client.send(Date.now(), '{"agent":{}}');
        assert.equal(outcome.ok, false);
        assert.match(
          (outcome as { reason: string }).reason,
          new RegExp(
            `refused the API key \\(HTTP ${status}\\): check apikey in the \\[oitc\\] section`,
          ),
        );
      } finally {
        await new Promise((r) => server.close(r));
      }
    });

  test('sends each package scan where openITCOCKPIT agents 3.x send it, once registered', async () => {
    const srv = await oitcServer();
    try {
      const { client } = clientFor(srv.port);

      // Before registration the agent has no password: nothing is sent yet.
      await client.submitPackages(inventory(1));
      assert.equal(srv.posts.length, 0);

      // The first check data registers the agent; once the server takes it, the waiting
      // inventory follows, in the body of a check-data push.
      const packages = srv.next(PACKAGES);
      assert.deepEqual(await client.send(Date.now(), '{"agent":{}}'), { ok: true });
      const body = await packages;
      const uuid = srv.posts[0]!.body.agentuuid;
      assert.deepEqual(body, {
        agentuuid: uuid,
        password: 'secret-1',
        checkdata: JSON.parse(inventory(1)),
      });
      assert.deepEqual(
        srv.posts.map((p) => p.path),
        ['/agentconnector/register_agent.json', '/agentconnector/submit_checkdata.json', PACKAGES],
      );

      // Once taken, it is not sent again with later check data; the next scan goes at once.
      assert.deepEqual(await client.send(Date.now(), '{"agent":{}}'), { ok: true });
      assert.equal(srv.posts.filter((p) => p.path === PACKAGES).length, 1);
      await client.submitPackages(inventory(2));
      assert.equal(srv.posts.filter((p) => p.path === PACKAGES).length, 2);
    } finally {
      await srv.close();
    }
  });

  test('an inventory the server refuses is not sent again; one that failed in passing is, after a wait', async () => {
    const srv = await oitcServer();
    let now = 1_000_000;
    try {
      const { client, logs } = clientFor(srv.port, { now: () => now });
      const sent = () => srv.posts.filter((p) => p.path === PACKAGES).length;
      assert.deepEqual(await client.send(now, '{"agent":{}}'), { ok: true });

      // A 4xx: later pushes do not bring the same inventory back; the next scan is sent.
      srv.setPackageStatus(400);
      await client.submitPackages(inventory(1));
      assert.equal(sent(), 1);
      assert.ok(
        logs.some((l) => /package inventory refused \(HTTP 400: busy\)/.test(l)),
        logs.join('\n'),
      );
      for (let i = 0; i < 3; i++) {
        now += 3_600_000;
        assert.deepEqual(await client.send(now, '{"agent":{}}'), { ok: true });
      }
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(sent(), 1);
      srv.setPackageStatus(200);
      await client.submitPackages(inventory(2));
      assert.equal(sent(), 2);

      // A 503: sent again after a later push the server takes, not before a minute has passed,
      // then after two.
      srv.setPackageStatus(503);
      await client.submitPackages(inventory(3));
      assert.equal(sent(), 3);
      assert.ok(
        logs.some((l) => /not sent \(HTTP 503: busy\); trying again in 60 s/.test(l)),
        logs.join('\n'),
      );
      now += 30_000;
      assert.deepEqual(await client.send(now, '{"agent":{}}'), { ok: true });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(sent(), 3, 'not within the wait');
      now += 31_000;
      let again = srv.next(PACKAGES);
      assert.deepEqual(await client.send(now, '{"agent":{}}'), { ok: true });
      assert.equal(((await again).checkdata as { LastUpdate: number }).LastUpdate, 3);
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(
        logs.some((l) => /trying again in 120 s/.test(l)),
        logs.join('\n'),
      );
      now += 121_000;
      srv.setPackageStatus(200);
      again = srv.next(PACKAGES);
      assert.deepEqual(await client.send(now, '{"agent":{}}'), { ok: true });
      await again;
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(sent(), 5);
      assert.deepEqual(await client.send(now, '{"agent":{}}'), { ok: true });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(sent(), 5, 'taken: not sent again');
    } finally {
      await srv.close();
    }
  });
});
