import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { gunzipSync } from 'node:zlib';
import { Value } from '@sinclair/typebox/value';
import { LogPush, type LogRecord } from '@vigil/protocol';
import { parseAgentConfig } from '../src/config.js';
import { realHost } from '../src/host.js';
import { LogBuffer } from '../src/logs/buffer.js';
import { startLogs } from '../src/logs/index.js';
import type { LogLine, LogSink } from '../src/logs/model.js';
import { createRateLimiter } from '../src/logs/rate.js';
import { startLogShipper, type LogShipperOptions } from '../src/logs/shipper.js';
import { NATIVE_FILES, startNativeClient, type NativeState } from '../src/push/native.js';
import { buildCsr } from '../src/serve/csr.js';
import { createTestCa } from './ca.js';

// The log shipper pushes the buffer's lines over the native client's mutual TLS to a server that
// answers as `POST /api/v1/agents/{id}/logs` does: 200 with {accepted, duplicate} once stored.

const dirs: string[] = [];
const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = (prefix: string) => {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
};

const AGENT = 'web-01';
const LOGS = `/api/v1/agents/${AGENT}/logs`;

/** What the server does with one log push: store and answer, fail, or store and hang up. */
type Mode = 'ok' | '503' | 'hangup';

/** A log server over mutual TLS that stores each batch once by its id. */
async function logServer() {
  const ca = await createTestCa();
  const serverKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const serverCert = await ca.signServer(buildCsr(serverKey, '127.0.0.1'));
  const client = await ca.client(AGENT);
  const stored = new Map<string, LogPush>();
  const requests: { push: LogPush; encoding: string | undefined; peer: string; status: number }[] =
    [];
  const script: Mode[] = [];
  let maxEntries = Infinity;
  const server = https.createServer(
    {
      key: serverKey.export({ type: 'pkcs8', format: 'pem' }),
      cert: serverCert,
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const p = (req.url ?? '').replace(/\?.*/, '');
        res.setHeader('content-type', 'application/json');
        if (req.method === 'GET' && p === `/api/v1/agents/${AGENT}/commands`) {
          setTimeout(() => res.end('{"commands":[]}'), 200);
          return;
        }
        if (req.method !== 'POST' || p !== LOGS) {
          res.statusCode = 404;
          res.end('{}');
          return;
        }
        const encoding = req.headers['content-encoding'];
        let push: unknown;
        try {
          const raw = Buffer.concat(chunks);
          push = JSON.parse((encoding === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'));
        } catch {
          push = undefined;
        }
        const answer = (status: number, body: unknown) => {
          requests.push({
            push: push as LogPush,
            encoding,
            peer: (req.socket as TLSSocket).getPeerCertificate().subject.CN as string,
            status,
          });
          res.statusCode = status;
          res.end(JSON.stringify(body));
        };
        if (!Value.Check(LogPush, push)) {
          answer(400, { error: { code: 'bad_data', human_message: 'not a log push' } });
          return;
        }
        if (push.entries.length > maxEntries) {
          answer(413, { error: { code: 'too_large', human_message: 'too many lines' } });
          return;
        }
        const mode = script.shift() ?? 'ok';
        if (mode === '503') {
          answer(503, { error: { code: 'unavailable', human_message: 'busy' } });
          return;
        }
        const duplicate = stored.has(push.batch_id);
        if (!duplicate) stored.set(push.batch_id, push);
        if (mode === 'hangup') {
          // Stored, but the answer is lost: the agent must resend, and the resend is a no-op.
          requests.push({ push, encoding, peer: '', status: 0 });
          req.socket.destroy();
          return;
        }
        answer(200, { accepted: duplicate ? 0 : push.entries.length, duplicate });
      });
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(r);
    });
  cleanups.push(close);
  return {
    url,
    ca: ca.certPem,
    client,
    requests,
    script,
    setMaxEntries: (n: number) => (maxEntries = n),
    /** Every stored line, batch after batch in the order they were stored. */
    lines: (): LogRecord[] => [...stored.values()].flatMap((p) => p.entries),
    stored,
  };
}

/** The native client of an agent enrolled with `srv` (the files `vigil-agent enroll` writes). */
function nativeClient(srv: Awaited<ReturnType<typeof logServer>>) {
  const dir = tmp('vigil-logship-state-');
  const state: NativeState = {
    server: srv.url,
    agent_id: AGENT,
    ca_fingerprint: '0',
    status: 'approved',
  };
  writeFileSync(path.join(dir, NATIVE_FILES.state), JSON.stringify(state));
  writeFileSync(path.join(dir, NATIVE_FILES.ca), srv.ca);
  writeFileSync(path.join(dir, NATIVE_FILES.cert), srv.client.certPem);
  writeFileSync(path.join(dir, NATIVE_FILES.key), srv.client.keyPem);
  const client = startNativeClient({ dir, host: () => realHost(), log: () => undefined });
  cleanups.push(() => client.stop());
  return client;
}

const line = (n: number, source_name = 'nginx.service'): LogLine => ({
  timestamp: 1_700_000_000_000 + n,
  source: 'journal',
  source_name,
  level: n % 7 === 0 ? 'error' : 'info',
  message: `request ${n} served`,
  fields: { n: String(n) },
});
const range = (from: number, to: number, name?: string) =>
  Array.from({ length: to - from }, (_, i) => line(from + i, name));
const numbers = (entries: LogRecord[]) => entries.map((e) => Number(e.fields!.n));

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A buffer in a fresh folder (or `dir`) and a shipper over `client`'s connection. */
function shipperFor(
  client: ReturnType<typeof nativeClient>,
  extra: Partial<LogShipperOptions> & { dir?: string } = {},
) {
  const buffer = new LogBuffer({ dir: extra.dir ?? tmp('vigil-logship-buf-'), maxBytes: 1 << 22 });
  const logs: string[] = [];
  const shipper = startLogShipper({
    buffer,
    poster: client.logs,
    maxLines: 1000,
    delayMs: 20,
    baseDelayMs: 20,
    maxDelayMs: 100,
    log: (l) => logs.push(l),
    ...extra,
  });
  cleanups.push(() => shipper.stop());
  return { buffer, shipper, logs };
}

describe('log shipper', () => {
  test('every line reaches the server once, gzipped, as a valid push, over mutual TLS', async () => {
    const srv = await logServer();
    const client = nativeClient(srv);
    const dir = tmp('vigil-logship-buf-');
    // A backlog from before the start, from two sources, then lines while it runs.
    const before = new LogBuffer({ dir, maxBytes: 1 << 22 });
    await before.append(range(0, 1500, 'nginx.service'));
    await before.append(range(1500, 2500, 'cron.service'));
    await before.close();
    const { buffer, shipper } = shipperFor(client, { dir });
    await buffer.append(range(2500, 2510, 'cron.service'));
    await until('all lines stored', () => srv.lines().length >= 2510);
    assert.deepEqual(
      numbers(srv.lines()),
      Array.from({ length: 2510 }, (_, i) => i),
    );
    assert.ok(srv.requests.length >= 3);
    for (const r of srv.requests) {
      assert.equal(r.encoding, 'gzip');
      assert.equal(r.peer, AGENT);
      assert.equal(r.status, 200);
      assert.ok(r.push.entries.length <= 1000);
    }
    assert.deepEqual(srv.lines()[1500], {
      timestamp: 1_700_000_001_500,
      source: 'journal',
      source_name: 'cron.service',
      level: 'info',
      message: 'request 1500 served',
      fields: { n: '1500' },
    });
    await until('the buffer is empty', () => !buffer.hasUnsent());
    assert.equal(shipper.statistics().lines, 2510);
  });

  test('a 5xx answer is retried with backoff under the same batch id', async () => {
    const srv = await logServer();
    srv.script.push('503', '503');
    const { buffer, shipper, logs } = shipperFor(nativeClient(srv));
    await buffer.append(range(0, 5));
    // The server stores before it answers: wait for the shipper to take the answer.
    await until('the answer taken', () => shipper.statistics().batches === 1);
    assert.equal(srv.lines().length, 5);
    assert.deepEqual(
      srv.requests.map((r) => r.status),
      [503, 503, 200],
    );
    assert.equal(new Set(srv.requests.map((r) => r.push.batch_id)).size, 1);
    assert.equal(shipper.statistics().failedAttempts, 2);
    assert.equal(logs.filter((l) => /pushing log lines failed.*HTTP 503/.test(l)).length, 1);
    assert.ok(logs.some((l) => /takes log lines again/.test(l)));
  });

  test('a batch without an answer is resent under its id, and stored once', async () => {
    const srv = await logServer();
    srv.script.push('hangup');
    const { buffer } = shipperFor(nativeClient(srv));
    await buffer.append(range(0, 4));
    await until('an answered resend', () => srv.requests.some((r) => r.status === 200));
    assert.equal(srv.requests.length, 2);
    assert.equal(srv.requests[0]!.push.batch_id, srv.requests[1]!.push.batch_id);
    assert.equal(srv.stored.size, 1);
    assert.deepEqual(numbers(srv.lines()), [0, 1, 2, 3]);
    await buffer.append(range(4, 6));
    await until('the next lines', () => srv.lines().length === 6);
    assert.deepEqual(numbers(srv.lines()), [0, 1, 2, 3, 4, 5]);
  });

  test('after a crash the unanswered batch goes again under its id; nothing is repeated', async () => {
    const srv = await logServer();
    srv.script.push('hangup');
    const client = nativeClient(srv);
    const dir = tmp('vigil-logship-buf-');
    // The first run gets no answer and would wait long before a retry: it "crashes" meanwhile.
    const first = shipperFor(client, {
      dir,
      baseDelayMs: 60_000,
      maxDelayMs: 60_000,
      stopWaitMs: 10,
    });
    await first.buffer.append(range(0, 3));
    await until('the first push', () => srv.requests.length === 1);
    await first.buffer.append(range(3, 5));
    await first.shipper.stop();
    const second = shipperFor(client, { dir });
    await until('the lines after the crash', () => srv.lines().length === 5);
    assert.equal(srv.requests[1]!.push.batch_id, srv.requests[0]!.push.batch_id);
    assert.deepEqual(srv.requests[1]!.push.entries, srv.requests[0]!.push.entries);
    assert.equal(srv.requests.filter((r) => r.status === 200).length, 2);
    assert.deepEqual(numbers(srv.lines()), [0, 1, 2, 3, 4]);
    await until('the buffer is empty', () => !second.buffer.hasUnsent());
    await first.buffer.close();
  });

  test('lines wait while the connection is not ready (enrollment pending), then go', async () => {
    const srv = await logServer();
    const client = nativeClient(srv);
    let approved = false;
    const { buffer } = shipperFor(client, {
      poster: { ready: () => approved && client.logs.ready(), post: (b) => client.logs.post(b) },
    });
    await buffer.append(range(0, 3));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(srv.requests.length, 0);
    approved = true;
    await until('the lines stored', () => srv.lines().length === 3);
  });

  test('lines over a source rate reach the server as drop counts', async () => {
    const srv = await logServer();
    const { buffer } = shipperFor(nativeClient(srv));
    const limiter = createRateLimiter({
      ratePerSecond: 1,
      burst: 3,
      onDropped: (d) => buffer.countDropped(d),
      log: () => undefined,
    });
    await buffer.append(limiter.admit([...range(0, 10, 'noisy.service'), ...range(10, 12)]));
    await until('the lines stored', () => srv.lines().length === 5);
    const dropped = srv.requests.flatMap((r) => r.push.dropped ?? []);
    assert.deepEqual(dropped, [
      { source: 'journal', source_name: 'noisy.service', reason: 'rate_limited', count: 7 },
    ]);
  });

  test('a push the server finds too large is sent in smaller batches', async () => {
    const srv = await logServer();
    srv.setMaxEntries(2);
    const { buffer, logs } = shipperFor(nativeClient(srv));
    await buffer.append(range(0, 7));
    await until('the lines stored', () => srv.lines().length === 7);
    assert.deepEqual(numbers(srv.lines()), [0, 1, 2, 3, 4, 5, 6]);
    assert.ok(srv.requests.some((r) => r.status === 413));
    assert.ok(logs.some((l) => /too large/.test(l)));
  });
});

/** A source fed by hand: its position is the count of lines the sink acknowledged. */
function handSource() {
  let sink: LogSink | undefined;
  const source = {
    description: 'lines fed by the test',
    position: 0,
    stopped: false,
    start(s: LogSink) {
      sink = s;
    },
    async stop() {
      source.stopped = true;
    },
    async feed(lines: LogLine[]) {
      await sink!(lines);
      source.position += lines.length;
    },
  };
  return source;
}

describe('log subsystem', () => {
  const configWith = (logs: string, bufferDir = tmp('vigil-logs-buf-')) =>
    parseAgentConfig(`[logs]\n${logs}\nbuffer-dir = ${bufferDir}\nbatch-delay-ms = 20\n`, FILE);
  const FILE = '/etc/vigil-agent/config.ini';

  test('starts the configured sources and ships through the rate limit', async () => {
    const srv = await logServer();
    const client = nativeClient(srv);
    const source = handSource();
    const lines: string[] = [];
    const logs = await startLogs(
      configWith('journald = true\nrate-limit = 1\nrate-burst = 4'),
      client.logs,
      (l) => lines.push(l),
      async () => [source],
    );
    assert.deepEqual(logs.sources, ['lines fed by the test']);
    await source.feed([...range(0, 6, 'noisy.service'), ...range(6, 8, 'quiet.service')]);
    assert.equal(source.position, 8);
    await until('the lines stored', () => srv.lines().length === 6);
    assert.deepEqual(numbers(srv.lines()), [0, 1, 2, 3, 6, 7]);
    assert.ok(lines.some((l) => /noisy\.service is over its rate limit/.test(l)));
    await until('the drop count', () => srv.requests.some((r) => r.push.dropped));
    await logs.stop();
    assert.equal(source.stopped, true);
    await assert.rejects(source.feed(range(8, 9)), /closed/);
  });

  test('the configured files are followed across a stop and a start, each line once', async () => {
    const srv = await logServer();
    const client = nativeClient(srv);
    const logDir = tmp('vigil-logs-files-');
    const config = configWith(`files = ${logDir}/*.log`);
    const agentLog: string[] = [];
    const first = await startLogs(config, client.logs, (l) => agentLog.push(l));
    assert.deepEqual(first.sources, [`files ${logDir}/*.log`]);
    // A file that appears after the first scan is read from its start.
    await new Promise((r) => setTimeout(r, 500));
    const file = path.join(logDir, 'app.log');
    appendFileSync(file, Array.from({ length: 10 }, (_, i) => `line ${i}\n`).join(''));
    const messages = () => srv.lines().map((e) => e.message);
    await until('the first lines', () => messages().length === 10);
    await first.stop();
    appendFileSync(file, Array.from({ length: 10 }, (_, i) => `line ${10 + i}\n`).join(''));
    const second = await startLogs(config, client.logs, (l) => agentLog.push(l));
    await until('the lines written while stopped', () => messages().length >= 20);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      messages(),
      Array.from({ length: 20 }, (_, i) => `line ${i}`),
    );
    assert.ok(srv.lines().every((e) => e.source === 'file' && e.source_name === file));
    await second.stop();
    assert.ok(existsSync(path.join(config.logs.bufferDir, 'positions', 'files.json')));
  });

  test('nothing runs without a configured source', async () => {
    let asked = false;
    const logs = await startLogs(
      configWith(''),
      undefined,
      () => undefined,
      async () => {
        asked = true;
        return [];
      },
    );
    assert.equal(asked, false);
    assert.deepEqual(logs.sources, []);
  });

  test('without the native connection the agent says once that logs are not shipped', async () => {
    const lines: string[] = [];
    let asked = false;
    const logs = await startLogs(
      configWith('files = /var/log/*.log'),
      undefined,
      (l) => lines.push(l),
      async () => {
        asked = true;
        return [];
      },
    );
    assert.equal(asked, false);
    assert.deepEqual(logs.sources, []);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /shipped only to a Vigil server.*not collecting/);
  });
});
