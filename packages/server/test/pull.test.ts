import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { AgentView } from '@vigil/protocol';
import { buildCsr } from '../../agent/src/serve/csr.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { CHECKDATA_FIXTURE } from '../../../test/support/fixtures.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { assertMatches } from '../../../test/support/schema.js';
import { PACKAGES_INTERVAL_MS } from '../src/agents/pull.js';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const EXAMPLES = '/work/shared/reference/openitcockpit-agent-examples';
const DAY_MS = 86_400_000;

/** A real `GET /packages` answer of the openITCOCKPIT agent. */
const packagesOf = (name: string) =>
  JSON.parse(readFileSync(path.join(EXAMPLES, `${name}.json`), 'utf8')) as Record<string, unknown>;

/**
 * A peer that behaves as the openITCOCKPIT Monitoring Agent 3.x web server does (its
 * `webserver/handler.go` and `server.go`): every route behind HTTP Basic authentication when
 * `auth` is set (403 "Forbidden" otherwise); `/autotls` served whatever `try-autossl` says —
 * `GET` generates a key and answers `{"csr"}`, or 500 when its ssl folder is missing; `POST`
 * stores `signed` and `ca` and answers 200 with an empty body, then the server restarts. It
 * serves mutual TLS (client certificate required) only with `try-autossl = True` and the files
 * present, else plain HTTP.
 */
class OitcAgentPeer {
  readonly requests: { method: string; path: string; secure: boolean; auth: boolean }[] = [];
  private server!: http.Server | https.Server;
  private key: KeyObject | undefined;
  private keyPem: string | undefined;
  cert: string | undefined;
  private ca: string | undefined;
  port = 0;

  constructor(
    readonly opts: {
      tryAutossl: boolean;
      sslFolder?: boolean;
      auth?: string;
      /** How a refused request is answered: 403 as the agent does, or 401 as a proxy might. */
      authStatus?: 401 | 403;
      document?: Record<string, unknown>;
      packages?: Record<string, unknown>;
    },
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get secure(): boolean {
    return this.opts.tryAutossl && !!this.cert && !!this.keyPem && !!this.ca;
  }

  count(method: string, p: string, secure?: boolean): number {
    return this.requests.filter(
      (r) => r.method === method && r.path === p && (secure === undefined || r.secure === secure),
    ).length;
  }

  async start(): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    this.server = this.secure
      ? https.createServer(
          {
            key: this.keyPem,
            cert: `${this.cert}\n${this.ca}`,
            ca: this.ca,
            requestCert: true,
            rejectUnauthorized: true,
          },
          handler,
        )
      : http.createServer(handler);
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** What the agent does after taking a certificate: its web server starts over. */
  private async reload(): Promise<void> {
    await this.stop();
    await this.start();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const secure = 'encrypted' in req.socket && (req.socket as TLSSocket).encrypted === true;
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Basic ')
      ? Buffer.from(header.slice(6), 'base64').toString('utf8')
      : undefined;
    this.requests.push({ method: req.method ?? '', path: p, secure, auth: given !== undefined });
    const fail = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${text}\n`);
    };
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (this.opts.auth !== undefined && given !== this.opts.auth)
      return this.opts.authStatus === 401 ? fail(401, 'Unauthorized') : fail(403, 'Forbidden');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const route = `${req.method} ${p}`;
      if (route === 'GET /') return json(this.opts.document ?? {});
      if (route === 'GET /packages') return json(this.opts.packages ?? { Enabled: false });
      if (route === 'GET /autotls') {
        if (this.opts.sslFolder === false) return fail(500, 'internal server error');
        if (!this.key) {
          this.key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
          this.keyPem = this.key.export({ type: 'pkcs8', format: 'pem' }).toString();
        }
        return json({ csr: buildCsr(this.key, 'agent-host') });
      }
      if (route === 'POST /autotls') {
        if (this.opts.sslFolder === false) return fail(500, 'internal server error');
        let body: { signed?: string; ca?: string };
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
        } catch {
          return fail(500, 'internal server error');
        }
        this.cert = body.signed;
        this.ca = body.ca;
        res.writeHead(200);
        res.end();
        res.on('finish', () => setImmediate(() => void this.reload()));
        return;
      }
      return fail(404, '404 page not found');
    });
  }
}

/** A real check-data document with a fresh timestamp. */
function document(): Record<string, unknown> {
  const doc = JSON.parse(readFileSync(CHECKDATA_FIXTURE, 'utf8')) as Record<string, unknown>;
  (doc.agent as Record<string, unknown>).last_updated_timestamp = Math.floor(Date.now() / 1000);
  return doc;
}

for (const kind of await databaseKinds()) {
  describe(`pull agents on ${kind.name}`, () => {
    let h: Harness;
    let admin: string;
    let clock = Date.now();
    const peers: OitcAgentPeer[] = [];
    let seq = 0;
    const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
      h.inject({ method, url, headers: bearer(admin), payload: payload as object });

    before(async () => {
      h = await startHarness(kind, {
        env: { VIGIL_AGENTS_MAX_DOCUMENT_BYTES: '1048576' },
        now: () => clock,
      });
      admin = await h.login();
    });
    after(async () => {
      await h.close();
      for (const p of peers) await p.stop().catch(() => undefined);
    });

    const peer = async (opts: ConstructorParameters<typeof OitcAgentPeer>[0]) => {
      const p = new OitcAgentPeer({ document: document(), ...opts });
      await p.start();
      peers.push(p);
      return p;
    };
    /** Adds a pull agent (polled only when the test says: its interval is an hour). */
    const add = async (p: OitcAgentPeer, extra: Record<string, unknown> = {}) => {
      const id = `pulled-${++seq}`;
      const res = await api('POST', '/api/v1/agents', {
        id,
        name: id,
        address: p.address,
        interval_seconds: 3600,
        ...extra,
      });
      assert.equal(res.statusCode, 201, res.body);
      return id;
    };
    const view = async (id: string) => {
      const res = await api('GET', `/api/v1/agents/${id}`);
      assert.equal(res.statusCode, 200, res.body);
      assertMatches(AgentView, res.json());
      return res.json() as AgentView;
    };
    const poll = (id: string) => h.vigil.puller.poll(id);
    const audit = (id: string) =>
      h.vigil.db.kysely
        .selectFrom('audit_events')
        .selectAll()
        .where('resource_id', '=', id)
        .orderBy('occurred_at')
        .execute();

    test('Auto-TLS completes on the agent’s empty 200 to POST /autotls; then mutual TLS only', async () => {
      const p = await peer({ tryAutossl: true });
      const id = await add(p);
      await poll(id);
      const v = await view(id);
      assert.equal(v.pull?.tls, 'mtls', v.last_error ?? '');
      assert.equal(v.last_error, null);
      assert.equal(v.pull?.autotls, 'auto');
      assert.ok(v.certificate, 'the issued certificate is recorded');
      assert.ok(v.last_seen, 'the first document arrived over mutual TLS');
      assert.ok(p.count('GET', '/', true) >= 1);
      assert.ok((await audit(id)).some((e) => e.action === 'agent.autotls'));
      await poll(id);
      assert.equal(p.count('POST', '/autotls'), 1, 'not enrolled again');
      assert.equal(p.count('GET', '/', false), 0, 'nothing pulled over plain HTTP');
      assert.equal((await view(id)).pull?.tls, 'mtls');
    });

    test("autotls 'off': plain HTTP only, /autotls is never called", async () => {
      const p = await peer({ tryAutossl: true });
      const id = await add(p, { autotls: 'off' });
      await poll(id);
      await poll(id);
      const v = await view(id);
      assert.equal(v.pull?.tls, 'plain');
      assert.equal(v.pull?.autotls, 'off');
      assert.equal(v.last_error, null);
      assert.ok(v.last_seen);
      assert.equal(p.count('GET', '/autotls') + p.count('POST', '/autotls'), 0);
      assert.equal(p.count('GET', '/', false), 2);
    });

    test("autotls 'auto': an agent whose ssl folder is missing (500 on GET /autotls) is pulled over plain HTTP", async () => {
      const p = await peer({ tryAutossl: true, sslFolder: false });
      const id = await add(p);
      await poll(id);
      const v = await view(id);
      assert.equal(v.pull?.tls, 'plain');
      assert.ok(v.last_seen);
      await poll(id);
      assert.equal(p.count('GET', '/autotls'), 1, 'Auto-TLS is not tried at every poll');
    });

    test("autotls 'on': an agent that cannot do Auto-TLS is not pulled over plain HTTP; last_error says why", async () => {
      const p = await peer({ tryAutossl: true, sslFolder: false });
      const id = await add(p, { autotls: 'on' });
      await poll(id);
      const v = await view(id);
      assert.equal(v.pull?.tls, null);
      assert.match(
        v.last_error ?? '',
        /Auto-TLS is on, but the agent cannot do it: GET \/autotls: HTTP 500/,
      );
      assert.equal(v.last_seen, null);
      assert.equal(p.count('GET', '/'), 0);
    });

    test('try-autossl = False: the agent takes the certificate but stays plain; auto falls back, on says so, neither loops', async () => {
      const a = await peer({ tryAutossl: false });
      const auto = await add(a);
      await poll(auto);
      let v = await view(auto);
      assert.equal(v.pull?.tls, 'plain');
      assert.match(v.last_error ?? '', /Auto-TLS did not take/);
      assert.ok(v.last_seen, 'pulled over plain HTTP');
      await poll(auto);
      assert.equal(a.count('POST', '/autotls'), 1, 'auto: no second Auto-TLS');

      const b = await peer({ tryAutossl: false });
      const on = await add(b, { autotls: 'on' });
      await poll(on);
      v = await view(on);
      assert.equal(v.pull?.tls, 'autotls_failed');
      assert.match(
        v.last_error ?? '',
        /Auto-TLS did not take: .*does not answer over mutual TLS.*try-autossl = False/,
      );
      assert.equal(v.last_seen, null, 'on: nothing taken over plain HTTP');
      await poll(on);
      assert.equal(b.count('POST', '/autotls'), 1, 'on: no second Auto-TLS');
      assert.equal((await view(on)).pull?.tls, 'autotls_failed');
    });

    test('HTTP Basic credentials: refused without them; set by PATCH, sealed, never returned; sent on every request', async () => {
      const p = await peer({ tryAutossl: true, auth: 'nagios:s3cr:et' });
      const id = await add(p);
      await poll(id);
      let v = await view(id);
      assert.match(v.last_error ?? '', /HTTP 403: the agent wants HTTP Basic credentials/);
      assert.equal(v.pull?.has_password, false);

      const res = await api('PATCH', `/api/v1/agents/${id}`, {
        username: 'nagios',
        password: 's3cr:et',
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().pull.username, 'nagios');
      assert.equal(res.json().pull.has_password, true);
      assert.doesNotMatch(res.body, /s3cr/);
      const row = await h.vigil.db.kysely
        .selectFrom('agents')
        .select('pull_password')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.ok(row.pull_password?.startsWith('v1.'), 'sealed');
      assert.doesNotMatch(row.pull_password ?? '', /s3cr/);
      const events = await audit(id);
      const update = events.find((e) => e.action === 'agent.update');
      assert.ok(update);
      assert.doesNotMatch(update.detail, /s3cr/);

      await poll(id);
      v = await view(id);
      assert.equal(v.pull?.tls, 'mtls', v.last_error ?? '');
      assert.ok(v.last_seen);
      const after = p.requests.slice(p.requests.findIndex((r) => r.auth));
      assert.ok(after.length >= 3 && after.every((r) => r.auth), 'credentials on every request');
      assert.ok(
        after.some((r) => r.secure),
        'also over mutual TLS',
      );
      assert.doesNotMatch((await api('GET', '/api/v1/agents')).body, /s3cr/);
    });

    test('a 401 in front of the agent is reported as wrong credentials too', async () => {
      const p = await peer({ tryAutossl: false, auth: 'nagios:right', authStatus: 401 });
      const id = await add(p, { autotls: 'off', username: 'nagios', password: 'wrong' });
      await poll(id);
      const v = await view(id);
      assert.match(v.last_error ?? '', /HTTP 401: the agent refused username 'nagios'/);
      assert.equal(v.last_seen, null);
    });

    test('pull settings are validated with clear 400s', async () => {
      const p = await peer({ tryAutossl: false });
      const id = await add(p, { autotls: 'off', username: 'u', password: 'p' });
      const cases: [unknown, RegExp][] = [
        [{ username: 'a:b', password: 'x' }, /may not contain ':'/],
        [{ username: null, password: 'x' }, /needs a username/],
        [{ address: 'no port' }, /HOST:PORT/],
        [{ autotls: 'maybe' }, /autotls/],
        [{ password: 'x\u0001' }, /control characters/],
        [{ secret: 1 }, /secret|additional/],
        [{}, /./],
      ];
      for (const [body, message] of cases) {
        const res = await api('PATCH', `/api/v1/agents/${id}`, body);
        assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
        assert.match(res.json().error.human_message, message);
      }
      const push = await api('POST', '/api/v1/agents', { name: 'push-one' });
      assert.equal(push.statusCode, 201);
      const notPull = await api('PATCH', `/api/v1/agents/${push.json().id}`, { autotls: 'on' });
      assert.equal(notPull.statusCode, 400);
      assert.match(notPull.json().error.human_message, /settings of pull agents/);
      const half = await api('POST', '/api/v1/agents', {
        name: 'half',
        address: p.address,
        username: 'u',
      });
      assert.equal(half.statusCode, 400);
      assert.match(half.json().error.human_message, /username and password together/);
      const missing = await api('PATCH', '/api/v1/agents/nobody', { autotls: 'on' });
      assert.equal(missing.statusCode, 404);
      // A valid change: removing the credentials, a new address (a first contact again).
      const ok = await api('PATCH', `/api/v1/agents/${id}`, {
        username: null,
        address: `http://${p.address}`,
        autotls: 'auto',
      });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().pull.username, null);
      assert.equal(ok.json().pull.has_password, false);
      assert.equal(ok.json().pull.autotls, 'auto');
    });

    test('an answer larger than agents.max_document_bytes is refused, with the reason in last_error', async () => {
      const big = { ...document(), padding: 'x'.repeat(1_200_000) };
      const p = await peer({ tryAutossl: false, document: big });
      const id = await add(p, { autotls: 'off' });
      await poll(id);
      const v = await view(id);
      assert.match(v.last_error ?? '', /larger than 1048576 bytes \(agents\.max_document_bytes\)/);
      assert.equal(v.last_seen, null);
    });

    test('the package inventory (GET /packages) is read over the same channel, once per inventory interval', async () => {
      const inventory = packagesOf('ubuntu2404');
      const p = await peer({ tryAutossl: true, packages: inventory });
      const id = await add(p);
      await poll(id);
      assert.equal((await view(id)).pull?.tls, 'mtls');
      assert.equal(p.count('GET', '/packages', true), 1);
      const stored = () =>
        h.vigil.db.kysely
          .selectFrom('agent_inventories')
          .selectAll()
          .where('agent_id', '=', id)
          .execute();
      const rows = await stored();
      assert.equal(rows.length, 1);
      assert.deepEqual(JSON.parse(rows[0]!.inventory), inventory);
      await poll(id);
      assert.equal(p.count('GET', '/packages'), 1, 'not again within the interval');
      for (const other of ['almalinux9', 'windows11']) {
        const q = await peer({ tryAutossl: false, packages: packagesOf(other) });
        const qid = await add(q, { autotls: 'off' });
        await poll(qid);
        const r = await h.vigil.db.kysely
          .selectFrom('agent_inventories')
          .selectAll()
          .where('agent_id', '=', qid)
          .execute();
        assert.deepEqual(JSON.parse(r[0]!.inventory), packagesOf(other), other);
      }
      const saved = clock;
      try {
        clock += PACKAGES_INTERVAL_MS;
        await poll(id);
      } finally {
        clock = saved;
      }
      assert.equal(p.count('GET', '/packages'), 2, 'again once the interval has passed');
    });

    test('the certificate is renewed over mutual TLS in the last third of its life', async () => {
      const p = await peer({ tryAutossl: true });
      const id = await add(p);
      await poll(id);
      const first = await view(id);
      assert.equal(first.pull?.tls, 'mtls');
      const issued = p.cert;
      const saved = clock;
      try {
        clock = Date.parse(first.certificate!.not_after) - 29 * DAY_MS;
        await poll(id);
      } finally {
        clock = saved;
      }
      assert.equal(p.count('GET', '/autotls', true), 1, 'the CSR asked over mutual TLS');
      assert.equal(p.count('POST', '/autotls', true), 1, 'the certificate given over mutual TLS');
      assert.notEqual(p.cert, issued, 'the agent holds a new certificate');
      const renewed = await view(id);
      assert.notEqual(renewed.certificate?.serial, first.certificate?.serial);
      assert.equal(renewed.pull?.tls, 'mtls');
      assert.equal(renewed.last_error, null);
      const event = (await audit(id)).find((e) => e.action === 'agent.certificate.renew');
      assert.ok(event);
      assert.equal(event.actor_type, 'system');
      await poll(id);
      assert.equal((await view(id)).last_error, null, 'pulled with the renewed certificate');
    });
  });
}
