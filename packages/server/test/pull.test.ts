// Over 500 lines: the openITCOCKPIT agent emulator (`OitcAgentPeer`) and the pull scenarios it
// serves, which need it whole.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { AgentView } from '@vigil/protocol';
import { buildCsr } from '../../agent/src/serve/csr.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { CHECKDATA_FIXTURE } from '../../../test/support/fixtures.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { assertMatches } from '../../../test/support/schema.js';
import { PACKAGES_INTERVAL_MS, PACKAGES_RETRY_MS } from '../src/agents/pull-packages.js';
import { RENEWAL_RETRY_MS } from '../src/agents/pull.js';
import { openCertificateAuthority } from '../src/tls/pki.js';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const EXAMPLES = '/work/shared/reference/openitcockpit-agent-examples';
const DAY_MS = 86_400_000;

/** A real `GET /packages` answer of the openITCOCKPIT agent. */
const packagesOf = (name: string) =>
  JSON.parse(readFileSync(path.join(EXAMPLES, `${name}.json`), 'utf8')) as Record<string, unknown>;

/** What Go's net/http writes on a TLS port for a request in plain HTTP (`(*conn).serve`). */
const GO_PLAIN_ON_TLS =
  'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';

/** The openITCOCKPIT agent's `GET /packages` from a start or reload until its first scan. */
const PENDING_INVENTORY = {
  Enabled: true,
  Pending: true,
  LastUpdate: 0,
  Stats: {
    InstalledPackages: 0,
    UpgradablePackages: 0,
    SecurityUpdates: 0,
    RebootRequired: false,
    LastError: '',
    OperatingSystem: '',
    PackageManager: '',
    OsName: '',
    OsVersion: '',
    OsFamily: '',
    AgentVersion: '',
    Uptime: 0,
  },
  LinuxPackages: [],
  LinuxUpdates: [],
  WindowsApps: [],
  WindowsUpdates: [],
  MacosApps: [],
  MacosUpdates: [],
};

/**
 * A peer that behaves as the openITCOCKPIT Monitoring Agent 3.x web server does (its
 * `webserver/handler.go` and `server.go`): every route behind HTTP Basic authentication when
 * `auth` is set (403 "Forbidden" otherwise); `/autotls` served whatever `try-autossl` says —
 * `GET` generates a key and answers `{"csr"}`, or 500 when its ssl folder is missing; `POST`
 * stores `signed` and `ca` and answers 200 with an empty body, then the server restarts. It
 * serves mutual TLS (client certificate required) only with `try-autossl = True` and the files
 * present, else plain HTTP; on its TLS port it answers a plain-HTTP request as Go's net/http
 * does (`GO_PLAIN_ON_TLS`). With `freshState` its state starts over at every restart, as the
 * agent's does (`agentrt/instance.go`): `GET /` answers `{}` until its checks ran (`collect()`),
 * and the inventory is pending until its first scan (`scan()`); its document then carries the
 * inventory summary (`packagemanager`).
 */
class OitcAgentPeer {
  readonly requests: { method: string; path: string; secure: boolean; auth: boolean }[] = [];
  private server!: http.Server | https.Server;
  /** The TCP listener in front of the TLS server, which answers plain HTTP as Go does. */
  private listener: net.Server | undefined;
  /** The listener's connections; those `piped` to the TLS server close when it closes them. */
  private readonly sockets = new Set<net.Socket>();
  private readonly piped = new WeakSet<net.Socket>();
  /** Whether the checks ran since the last restart (`freshState`). */
  private collected = true;
  /** Whether the inventory was scanned since the last restart (`freshState`). */
  private scanned = true;
  private key: KeyObject | undefined;
  private keyPem: string | undefined;
  cert: string | undefined;
  private ca: string | undefined;
  port = 0;
  /** Requests served on each connection (`dropReused`). */
  private readonly served = new WeakMap<object, number>();
  /** Requests dropped unanswered (`dropReused`). */
  dropped = 0;
  /** Set by `close()`: a restart still under way then leaves the agent stopped. */
  private closed = false;
  /** The restart that follows a `POST /autotls`, while it runs. */
  private restarting: Promise<void> | undefined;

  constructor(
    readonly opts: {
      tryAutossl: boolean;
      sslFolder?: boolean;
      auth?: string;
      /** How a refused request is answered: 403 as the agent does, or 401 as a proxy might. */
      authStatus?: 401 | 403;
      document?: Record<string, unknown>;
      packages?: Record<string, unknown>;
      freshState?: boolean;
      /** `POST /autotls` over mutual TLS fails (500), as when the agent cannot write the file. */
      failRenewal?: boolean;
      /**
       * The next request on a connection that already served one is dropped unanswered, once:
       * the agent closed the idle connection just as the request went out.
       */
      dropReused?: boolean;
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
    if (this.closed) return;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    if (!this.secure) {
      this.server = http.createServer(handler);
      this.listener = undefined;
      await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
      this.port = (this.server.address() as AddressInfo).port;
      return;
    }
    const server = https.createServer(
      {
        key: this.keyPem,
        cert: `${this.cert}\n${this.ca}`,
        ca: this.ca,
        requestCert: true,
        rejectUnauthorized: true,
      },
      handler,
    );
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const tlsPort = (server.address() as AddressInfo).port;
    // Go's net/http looks at a TLS connection's first bytes: a plain-HTTP request line is
    // answered with a 400 of its own, anything else goes on as a TLS handshake (here: to the
    // TLS server behind).
    const listener = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.once('data', (first: Buffer) => {
        const head = first.subarray(0, 5).toString('latin1');
        if (['GET /', 'HEAD ', 'POST ', 'PUT /', 'OPTIO'].includes(head)) {
          const [method = '', target = '/'] = first.toString('latin1').split(' ');
          this.requests.push({ method, path: target, secure: false, auth: false });
          socket.end(GO_PLAIN_ON_TLS);
          return;
        }
        const behind = net.connect(tlsPort, '127.0.0.1');
        this.piped.add(socket);
        behind.on('error', () => socket.destroy());
        socket.on('close', () => behind.destroy());
        behind.write(first);
        socket.pipe(behind).pipe(socket);
      });
    });
    this.listener = listener;
    await new Promise<void>((resolve) => listener.listen(this.port, '127.0.0.1', resolve));
    this.port = (listener.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    if (this.listener) {
      // What was answered reaches the client before its connection closes.
      const listener = this.listener;
      for (const s of this.sockets) if (!this.piped.has(s)) s.end();
      const late = setTimeout(() => {
        for (const s of this.sockets) s.destroy();
      }, 1000);
      await new Promise((resolve) => listener.close(resolve));
      clearTimeout(late);
    }
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Stops the agent for good, after a restart under way. */
  async close(): Promise<void> {
    this.closed = true;
    await this.restarting;
    await this.stop();
  }

  /** What the agent does after taking a certificate: its web server starts over. */
  async reload(): Promise<void> {
    await this.stop();
    if (this.opts.freshState) this.collected = this.scanned = false;
    await this.start();
  }

  /** The agent moves to another port, keeping what it holds. */
  async move(): Promise<void> {
    await this.stop();
    this.port = 0;
    await this.start();
  }

  /** A CSR for the agent's key (after Auto-TLS). */
  csr(): string {
    return buildCsr(this.key!, 'agent-host');
  }

  /** The agent presents certificate `pem` from its next restart on. */
  async present(pem: string): Promise<void> {
    this.cert = pem;
    await this.reload();
  }

  /** The agent's checks ran: `GET /` answers its document. */
  collect(): void {
    this.collected = true;
  }

  /** The agent's inventory scan ended, with `inventory` when given. */
  scan(inventory?: Record<string, unknown>): void {
    if (inventory) this.opts.packages = inventory;
    this.scanned = true;
  }

  /** The `packagemanager` summary the agent puts into its document. */
  private summary(): Record<string, unknown> {
    const { Enabled, Pending, LastUpdate, Stats } = (
      this.scanned ? this.opts.packages : PENDING_INVENTORY
    ) as Record<string, unknown>;
    return { Enabled, Pending, LastUpdate, Stats };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const secure = 'encrypted' in req.socket && (req.socket as TLSSocket).encrypted === true;
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Basic ')
      ? Buffer.from(header.slice(6), 'base64').toString('utf8')
      : undefined;
    const onSocket = (this.served.get(req.socket) ?? 0) + 1;
    this.served.set(req.socket, onSocket);
    if (this.opts.dropReused && onSocket > 1) {
      this.opts.dropReused = false;
      this.dropped += 1;
      req.socket.destroy();
      return;
    }
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
      if (route === 'GET /') {
        if (!this.collected) return json({});
        const doc = this.opts.document ?? {};
        return json(
          this.opts.freshState && this.opts.packages
            ? { ...doc, packagemanager: this.summary() }
            : doc,
        );
      }
      if (route === 'GET /packages')
        return json(this.scanned ? (this.opts.packages ?? { Enabled: false }) : PENDING_INVENTORY);
      if (route === 'GET /autotls') {
        if (this.opts.sslFolder === false) return fail(500, 'internal server error');
        if (!this.key) {
          this.key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
          this.keyPem = this.key.export({ type: 'pkcs8', format: 'pem' }).toString();
        }
        return json({ csr: buildCsr(this.key, 'agent-host') });
      }
      if (route === 'POST /autotls') {
        if (this.opts.sslFolder === false || (secure && this.opts.failRenewal))
          return fail(500, 'internal server error');
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
        res.on('finish', () =>
          setImmediate(() => {
            this.restarting = this.reload().finally(() => (this.restarting = undefined));
          }),
        );
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
        // Agents are polled only by the tests: a scheduled poll would change what they count
        // (a new agent is due at once, and one whose clock moved on is due again).
        pullTickMs: 24 * 3_600_000,
      });
      admin = await h.login();
    });
    after(async () => {
      // The agents go first: a poll still waiting on one of them then ends at once, instead of
      // holding the server's shutdown until its request times out.
      for (const p of peers) await p.close().catch(() => undefined);
      await h.close();
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

    test('polls of one agent asked for at once run one after the other: Auto-TLS runs once', async () => {
      const p = await peer({ tryAutossl: true });
      const id = await add(p);
      // As when another caller polls the agent while it is polled.
      await Promise.all([poll(id), poll(id), poll(id)]);
      assert.equal(p.count('GET', '/autotls'), 1, 'one CSR asked for');
      assert.equal(p.count('POST', '/autotls'), 1, 'one certificate issued');
      const v = await view(id);
      assert.equal(v.pull?.tls, 'mtls', v.last_error ?? '');
      assert.equal(v.last_error, null);
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

    test('an agent that answers plain HTTP after Auto-TLS is flagged certificate_deleted', async () => {
      const p = await peer({ tryAutossl: true });
      const id = await add(p);
      await poll(id);
      assert.equal((await view(id)).pull?.tls, 'mtls');
      // Its ssl files deleted, the agent serves plain HTTP from its restart on.
      p.cert = undefined;
      await p.reload();
      await poll(id);
      const v = await view(id);
      assert.equal(v.pull?.tls, 'certificate_deleted');
      assert.match(v.last_error ?? '', /certificate deleted on agent/);
    });

    test('an agent presenting a certificate from another CA is not taken for one whose certificate was deleted', async () => {
      const p = await peer({ tryAutossl: true });
      const id = await add(p);
      await poll(id);
      assert.equal((await view(id)).pull?.tls, 'mtls');
      const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-other-ca-'));
      try {
        const other = await openCertificateAuthority(dir);
        const cert = await other.sign(p.csr(), {
          commonName: 'agent-host',
          days: 30,
          server: true,
        });
        await p.present(cert.pem);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      await poll(id);
      const v = await view(id);
      assert.equal(p.count('GET', '/', false), 1, 'asked over plain HTTP, answered by Go’s 400');
      assert.equal(v.pull?.tls, 'mtls', v.last_error ?? '');
      assert.doesNotMatch(v.last_error ?? '', /certificate deleted/);
      assert.match(v.last_error ?? '', /certificate|verify/i);
    });

    test('a new address or Auto-TLS setting keeps mutual TLS with an agent that holds its certificate', async () => {
      const p = await peer({ tryAutossl: true });
      const id = await add(p);
      await poll(id);
      assert.equal((await view(id)).pull?.tls, 'mtls');
      await p.move();
      let res = await api('PATCH', `/api/v1/agents/${id}`, { address: p.address });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().pull.tls, null, 'a first contact again');
      await poll(id);
      let v = await view(id);
      assert.equal(v.pull?.tls, 'mtls', v.last_error ?? '');
      assert.equal(v.last_error, null);
      res = await api('PATCH', `/api/v1/agents/${id}`, { autotls: 'on' });
      assert.equal(res.statusCode, 200, res.body);
      await poll(id);
      v = await view(id);
      assert.equal(v.pull?.tls, 'mtls', v.last_error ?? '');
      assert.equal(v.last_error, null);
      assert.equal(p.count('POST', '/autotls'), 1, 'no second Auto-TLS');
      assert.equal(p.count('GET', '/', false), 0, 'nothing asked over plain HTTP');
    });

    test('a document without data ({} after the agent’s restart) is a contact: the host keeps its values', async () => {
      const p = await peer({ tryAutossl: true, freshState: true });
      const id = await add(p);
      await poll(id);
      let v = await view(id);
      assert.equal(v.pull?.tls, 'mtls', 'the {} over mutual TLS proves Auto-TLS');
      assert.equal(v.last_error, null);
      assert.ok(v.last_seen, 'a contact');
      const hostId = v.host_id!;
      assert.equal(await h.vigil.telemetry.current(hostId), undefined, 'no values from {}');
      p.collect();
      await poll(id);
      const values = await h.vigil.telemetry.current(hostId);
      assert.ok(values && values.values.length > 0);
      // A configuration push or a renewal restarts the agent's web server: {} again.
      await p.reload();
      const saved = clock;
      try {
        clock += 60_000;
        await poll(id);
        v = await view(id);
      } finally {
        clock = saved;
      }
      assert.equal(v.last_error, null);
      assert.equal(Date.parse(v.last_seen!), saved + 60_000, 'the contact counts');
      assert.deepEqual(await h.vigil.telemetry.current(hostId), values, 'the values are kept');
    });

    test('the inventory is read when the document’s packagemanager.LastUpdate changes, never a pending one', async () => {
      const inventory = packagesOf('ubuntu2404');
      const p = await peer({ tryAutossl: true, freshState: true, packages: inventory });
      const id = await add(p);
      const stored = async () =>
        (
          await h.vigil.db.kysely
            .selectFrom('agent_inventories')
            .selectAll()
            .where('agent_id', '=', id)
            .execute()
        ).map((r) => JSON.parse(r.inventory) as Record<string, unknown>);
      // After Auto-TLS the agent restarts: {} and then a pending inventory until its first scan.
      await poll(id);
      assert.equal((await view(id)).pull?.tls, 'mtls');
      p.collect();
      await poll(id);
      assert.equal(p.count('GET', '/packages'), 0, 'not while the document says Pending');
      assert.deepEqual(await stored(), []);
      p.scan();
      await poll(id);
      assert.equal(p.count('GET', '/packages'), 1, 'read as soon as LastUpdate is set');
      assert.deepEqual(await stored(), [inventory]);
      await poll(id);
      assert.equal(p.count('GET', '/packages'), 1, 'not again while LastUpdate stays');
      // A restart (a configuration push, say): the inventory is pending again, then rescanned.
      await p.reload();
      p.collect();
      await poll(id);
      assert.equal(p.count('GET', '/packages'), 1);
      const rescanned = { ...inventory, LastUpdate: (inventory.LastUpdate as number) + 3600 };
      p.scan(rescanned);
      await poll(id);
      assert.equal(p.count('GET', '/packages'), 2, 'read when LastUpdate changes');
      assert.deepEqual(await stored(), [rescanned]);
    });

    test('a pending inventory never replaces the stored one', async () => {
      const inventory = packagesOf('almalinux9');
      const p = await peer({ tryAutossl: false, packages: inventory });
      const id = await add(p, { autotls: 'off' });
      await poll(id);
      const stored = () =>
        h.vigil.db.kysely
          .selectFrom('agent_inventories')
          .selectAll()
          .where('agent_id', '=', id)
          .execute();
      assert.equal((await stored()).length, 1);
      // An agent whose document carries no summary is read at the fallback interval; it has
      // just restarted and not scanned yet.
      p.opts.packages = PENDING_INVENTORY;
      const saved = clock;
      try {
        clock += PACKAGES_INTERVAL_MS;
        await poll(id);
        assert.equal(p.count('GET', '/packages'), 2);
        await poll(id);
        assert.equal(p.count('GET', '/packages'), 2, 'after a pending one, not at once again');
        p.opts.packages = inventory;
        clock += PACKAGES_RETRY_MS;
        await poll(id);
        assert.equal(p.count('GET', '/packages'), 3, 'again after the retry time');
      } finally {
        clock = saved;
      }
      const rows = await stored();
      assert.ok(rows.length >= 1);
      for (const r of rows) assert.deepEqual(JSON.parse(r.inventory), inventory);
    });

    test('a kept-alive connection the agent closed as the poll went out is not an error: the GET is asked again on a fresh connection, its certificate checked anew', async () => {
      const p = await peer({ tryAutossl: true });
      const id = await add(p);
      await poll(id);
      assert.equal((await view(id)).pull?.tls, 'mtls');
      const before = p.count('GET', '/', true);
      p.opts.dropReused = true;
      await poll(id);
      assert.equal(p.dropped, 1, 'the request on the reused connection was dropped');
      assert.equal(p.count('GET', '/', true), before + 1, 'asked again on a fresh connection');
      const v = await view(id);
      assert.equal(v.last_error, null);
      assert.equal(v.pull?.tls, 'mtls');
    });

    test('a renewal that fails is tried again after an hour, not at every poll; last_error says so', async () => {
      const p = await peer({ tryAutossl: true, failRenewal: true });
      const id = await add(p);
      await poll(id);
      const first = await view(id);
      assert.equal(first.pull?.tls, 'mtls');
      // Read from the store: a session does not outlive the clock moved a month on.
      const row = () =>
        h.vigil.db.kysely
          .selectFrom('agents')
          .select(['last_error', 'pull_tls', 'cert_serial'])
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
      const saved = clock;
      try {
        clock = Date.parse(first.certificate!.not_after) - 29 * DAY_MS;
        await poll(id);
        assert.equal(p.count('GET', '/autotls', true), 1);
        assert.match(
          (await row()).last_error ?? '',
          /certificate renewal failed: POST \/autotls: HTTP 500/,
        );
        await poll(id);
        await poll(id);
        assert.equal(p.count('GET', '/autotls', true), 1, 'no new certificate at every poll');
        const waiting = await row();
        assert.match(waiting.last_error ?? '', /certificate renewal failed: .*; tried again at /);
        assert.equal(waiting.pull_tls, 'mtls');
        clock += RENEWAL_RETRY_MS;
        await poll(id);
        assert.equal(p.count('GET', '/autotls', true), 2, 'tried again after the hour');
        assert.equal((await row()).cert_serial, first.certificate?.serial);
      } finally {
        clock = saved;
      }
    });
  });
}
