import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, describe, test } from 'node:test';
import { realHost } from '../src/host.js';
import { NATIVE_FILES, startNativeClient, type NativeState } from '../src/push/native.js';
import { buildCsr } from '../src/serve/csr.js';
import { createTestCa } from './ca.js';
import { waitFor } from './log-support.js';

// The native push client sends each finished package scan to the server over mutual TLS.

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const AGENT = 'web-01';
const PACKAGES = `/api/v1/agents/${AGENT}/packages`;
const CHECKDATA = `/api/v1/agents/${AGENT}/checkdata`;
const inventory = (n: number) =>
  JSON.stringify({ Enabled: true, Pending: false, LastUpdate: n, Stats: null, LinuxPackages: [] });

/**
 * A small Vigil server on 127.0.0.1 that asks for the agent's client certificate and takes only
 * the current one, as Vigil does: a renewal (`POST …/certificate`) replaces it at once.
 */
async function vigilServer(
  opts: {
    /** The validity of the agent's first certificate (default: a day from now). */
    validity?: { notBefore: Date; notAfter: Date };
    /** How long the command long poll is held before its empty answer. */
    commandWaitMs?: number;
  } = {},
) {
  const ca = await createTestCa();
  const serverKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const serverCert = await ca.signServer(buildCsr(serverKey, '127.0.0.1'));
  const client = await ca.client(AGENT, opts.validity);
  let current = new X509Certificate(client.certPem).fingerprint256;
  const posts: { path: string; body: string; peer: string }[] = [];
  /** Every request: its path, and whether it came with the current certificate. */
  const requests: { path: string; current: boolean }[] = [];
  const waiters: { path: string; resolve: (body: string) => void }[] = [];
  let packageStatus = 204;
  const server = https.createServer(
    {
      key: serverKey.export({ type: 'pkcs8', format: 'pem' }),
      cert: serverCert,
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const p = (req.url ?? '').replace(/\?.*/, '');
        const cert = (req.socket as TLSSocket).getPeerCertificate();
        const peer = cert.subject.CN as string;
        res.setHeader('content-type', 'application/json');
        requests.push({ path: p, current: cert.fingerprint256 === current });
        if (cert.fingerprint256 !== current) {
          res.statusCode = 401;
          res.end(
            '{"error":{"code":"agent.certificate_unknown","human_message":"the client certificate is not current"}}',
          );
          return;
        }
        if (req.method === 'GET' && p === `/api/v1/agents/${AGENT}/commands`) {
          // The command long poll: nothing queued, answered after a while.
          setTimeout(() => res.end('{"commands":[]}'), opts.commandWaitMs ?? 200);
          return;
        }
        if (req.method === 'POST' && p === `/api/v1/agents/${AGENT}/certificate`) {
          void ca.signClient((JSON.parse(text) as { csr: string }).csr).then((pem) => {
            current = new X509Certificate(pem).fingerprint256;
            res.end(JSON.stringify({ certificate: pem }));
          });
          return;
        }
        posts.push({ path: p, body: text, peer });
        for (const w of waiters.filter((x) => x.path === p)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(text);
        }
        if (p === CHECKDATA) {
          res.end('{"received_checks":1,"duplicate":false,"interval_seconds":0,"commands":[]}');
        } else if (p === PACKAGES) {
          res.statusCode = packageStatus;
          res.end(
            packageStatus === 204
              ? undefined
              : JSON.stringify({ error: { code: 'busy', human_message: 'busy' } }),
          );
        } else {
          res.statusCode = 404;
          res.end('{}');
        }
      });
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    ca: ca.certPem,
    client,
    posts,
    requests,
    setPackageStatus: (s: number) => (packageStatus = s),
    next: (p: string) => new Promise<string>((resolve) => waiters.push({ path: p, resolve })),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(r);
      }),
  };
}

/** An agent enrolled with `srv` (the files `vigil-agent enroll` writes) and its native client. */
function clientFor(
  srv: Awaited<ReturnType<typeof vigilServer>>,
  status: NativeState['status'],
  now: () => number,
) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-native-'));
  dirs.push(dir);
  const state: NativeState = { server: srv.url, agent_id: AGENT, ca_fingerprint: '0', status };
  writeFileSync(path.join(dir, NATIVE_FILES.state), JSON.stringify(state));
  writeFileSync(path.join(dir, NATIVE_FILES.ca), srv.ca);
  writeFileSync(path.join(dir, NATIVE_FILES.cert), srv.client.certPem);
  writeFileSync(path.join(dir, NATIVE_FILES.key), srv.client.keyPem);
  const logs: string[] = [];
  const client = startNativeClient({
    dir,
    host: () => realHost(),
    log: (l) => logs.push(l),
    now,
  });
  return { client, logs };
}

describe('native push client: package inventories', () => {
  test(
    'each finished scan goes to the packages route with the agent certificate',
    { timeout: 20_000 },
    async () => {
      const srv = await vigilServer();
      const { client } = clientFor(srv, 'approved', Date.now);
      try {
        const sent = srv.next(PACKAGES);
        await client.submitPackages(inventory(1));
        assert.equal(await sent, inventory(1));
        assert.deepEqual(
          srv.posts.map((p) => [p.path, p.peer]),
          [[PACKAGES, AGENT]],
        );

        // Once taken, a check-data push does not bring it back; the next scan goes at once.
        assert.deepEqual(await client.transport.send(Date.now(), '{"agent":{}}'), { ok: true });
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(srv.posts.filter((p) => p.path === PACKAGES).length, 1);
        await client.submitPackages(inventory(2));
        assert.deepEqual(
          srv.posts.filter((p) => p.path === PACKAGES).map((p) => JSON.parse(p.body).LastUpdate),
          [1, 2],
        );
      } finally {
        client.stop();
        await srv.close();
      }
    },
  );

  test(
    'a refused inventory waits for the next scan; a failed one is sent again after a wait',
    { timeout: 20_000 },
    async () => {
      const srv = await vigilServer();
      let now = 1_000_000;
      const { client, logs } = clientFor(srv, 'approved', () => now);
      const sent = () => srv.posts.filter((p) => p.path === PACKAGES).length;
      const pushed = async () =>
        assert.deepEqual(await client.transport.send(Date.now(), '{"agent":{}}'), { ok: true });
      try {
        srv.setPackageStatus(400);
        await client.submitPackages(inventory(1));
        assert.equal(sent(), 1);
        assert.ok(
          logs.some((l) => /package inventory refused \(HTTP 400: busy\)/.test(l)),
          logs.join('\n'),
        );
        now += 3_600_000;
        await pushed();
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(sent(), 1, 'a refused inventory is not sent again');

        srv.setPackageStatus(503);
        await client.submitPackages(inventory(2));
        assert.equal(sent(), 2);
        assert.ok(
          logs.some((l) => /not sent \(HTTP 503: busy\); trying again in 60 s/.test(l)),
          logs.join('\n'),
        );
        now += 30_000;
        await pushed();
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(sent(), 2, 'not within the wait');
        now += 31_000;
        srv.setPackageStatus(204);
        const again = srv.next(PACKAGES);
        await pushed();
        assert.equal(JSON.parse(await again).LastUpdate, 2);
        await new Promise((r) => setTimeout(r, 50));
        assert.ok(logs.includes('push: package inventory sent'), logs.join('\n'));
        await pushed();
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(sent(), 3, 'taken: not sent again');
      } finally {
        client.stop();
        await srv.close();
      }
    },
  );

  test('while the enrollment is pending nothing is sent', { timeout: 20_000 }, async () => {
    const srv = await vigilServer();
    const { client } = clientFor(srv, 'pending', Date.now);
    try {
      await client.submitPackages(inventory(1));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(srv.posts.filter((p) => p.path === PACKAGES).length, 0);
    } finally {
      client.stop();
      await srv.close();
    }
  });
});

describe('native push client: certificate renewal', () => {
  test(
    'a request in flight finishes; one that went with the replaced certificate goes again',
    { timeout: 20_000 },
    async () => {
      const hour = 3_600_000;
      const srv = await vigilServer({
        // Two days old with an hour left: past the last third of its life.
        validity: {
          notBefore: new Date(Date.now() - 48 * hour),
          notAfter: new Date(Date.now() + hour),
        },
        commandWaitMs: 1500,
      });
      const { client, logs } = clientFor(srv, 'approved', Date.now);
      const polls = () => srv.requests.filter((r) => r.path === `/api/v1/agents/${AGENT}/commands`);
      try {
        // The command long poll holds one of the agent's two connections.
        await waitFor(() => polls().length === 1, 'the command long poll');
        // This push starts the renewal and waits behind it for the other connection, which
        // still carries the old certificate when its turn comes.
        assert.deepEqual(await client.transport.send(Date.now(), '{"agent":{}}'), { ok: true });
        assert.ok(
          logs.some((l) => l.startsWith('certificate renewed')),
          logs.join('\n'),
        );
        const pushes = srv.requests.filter((r) => r.path === CHECKDATA);
        assert.deepEqual(
          pushes.map((r) => r.current),
          [false, true],
          'refused with the replaced certificate, then taken with the new one',
        );
        assert.equal(srv.posts.filter((p) => p.path === CHECKDATA).length, 1);
        // The long poll sent before the renewal is answered, not cut; the next one goes with
        // the new certificate.
        await waitFor(() => polls().length === 2, 'the next command long poll');
        assert.deepEqual(
          polls().map((r) => r.current),
          [true, true],
        );
        assert.ok(!logs.some((l) => l.startsWith('command channel')), logs.join('\n'));
      } finally {
        client.stop();
        await srv.close();
      }
    },
  );
});
