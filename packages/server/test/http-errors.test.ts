import assert from 'node:assert/strict';
import tls from 'node:tls';
import lightMyRequest from 'light-my-request';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { startListening, type ListeningServer } from '../../../test/support/listening.js';

interface Envelope {
  error: {
    code: string;
    fault: string;
    retryable: boolean;
    human_message: string;
    correlation_id: string;
  };
}

/** Checks the OpenWatch envelope and returns it. */
function envelopeOf(
  res: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
) {
  assert.equal(res.statusCode, status);
  assert.match(String(res.headers['content-type']), /application\/json/);
  const body = res.json() as Envelope;
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), [
    'code',
    'correlation_id',
    'fault',
    'human_message',
    'retryable',
  ]);
  assert.equal(body.error.correlation_id, res.headers['x-correlation-id']);
  return body.error;
}

for (const kind of await databaseKinds()) {
  describe(`native face errors on ${kind.name}`, () => {
    let h: Harness;
    let admin: string;
    before(async () => {
      h = await startHarness(kind, { env: { VIGIL_SERVER_BODY_LIMIT_BYTES: '4096' } });
      admin = await h.login();
    });
    after(() => h.close());

    test('400 for a body that is not JSON, never 422', async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'content-type': 'application/json' },
        payload: '{"username": "admin", ',
      });
      const e = envelopeOf(res, 400);
      assert.equal(e.code, 'request.invalid_json');
      assert.equal(e.fault, 'client');
      assert.equal(e.retryable, false);
    });

    test('400 validation_failed for a schema failure, naming the field', async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'admin' },
      });
      const e = envelopeOf(res, 400);
      assert.equal(e.code, 'validation_failed');
      assert.match(e.human_message, /password/);
    });

    test('400 for unknown body fields and bad query values', async () => {
      const extra = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'admin', password: 'x', admin: true },
      });
      assert.equal(envelopeOf(extra, 400).code, 'validation_failed');
      const typed = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 12345, password: 'x' },
      });
      assert.equal(envelopeOf(typed, 400).code, 'validation_failed', 'body values are not coerced');
      const q = await h.inject({
        method: 'GET',
        url: '/api/v1/audit/events?limit=0',
        headers: { authorization: `Bearer ${admin}` },
      });
      assert.equal(envelopeOf(q, 400).code, 'validation_failed');
    });

    test('400 for query numbers that are not finite, on every list', async () => {
      const huge = '9'.repeat(400);
      for (const url of [
        '/api/v1/audit/events?limit=-1e999',
        `/api/v1/audit/events?limit=${huge}`,
        '/api/v1/activity?limit=-1e999',
        `/api/v1/deployments?limit=${huge}`,
        '/api/v1/jobs?limit=1e999',
        `/api/v1/hosts?limit=-${huge}`,
      ]) {
        const res = await h.inject({
          method: 'GET',
          url,
          headers: { authorization: `Bearer ${admin}` },
        });
        const e = envelopeOf(res, 400);
        assert.equal(e.code, 'validation_failed', url);
        assert.match(e.human_message, /limit/, url);
      }
    });

    test('401 without a credential and with a bad one', async () => {
      const none = await h.inject({ method: 'GET', url: '/api/v1/auth/me' });
      const e = envelopeOf(none, 401);
      assert.equal(e.code, 'auth.unauthenticated');
      assert.equal(none.headers['www-authenticate'], 'Bearer realm="vigil"');
      const bad = await h.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: { authorization: 'Bearer nope' },
      });
      assert.equal(envelopeOf(bad, 401).code, 'auth.invalid_token');
      const basic = await h.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: { authorization: 'Basic YTpi' },
      });
      envelopeOf(basic, 401);
    });

    test('403 with fault policy when the permission is missing', async () => {
      const viewer = await h.userWithRoles('viewer1', ['viewer']);
      const res = await h.inject({
        method: 'GET',
        url: '/api/v1/audit/events',
        headers: { authorization: `Bearer ${viewer}` },
      });
      const e = envelopeOf(res, 403);
      assert.equal(e.fault, 'policy');
      assert.match(e.human_message, /audit:read/);
    });

    test('404 for an unknown route', async () => {
      const e = envelopeOf(await h.inject({ method: 'GET', url: '/api/v1/no/such/thing' }), 404);
      assert.equal(e.code, 'route.not_found');
    });

    test('405 with Allow for a known path and the wrong method', async () => {
      const res = await h.inject({ method: 'DELETE', url: '/api/v1/health' });
      assert.equal(envelopeOf(res, 405).code, 'method_not_allowed');
      assert.match(String(res.headers.allow), /GET/);
      const login = await h.inject({ method: 'GET', url: '/api/v1/auth/login' });
      envelopeOf(login, 405);
      assert.equal(login.headers.allow, 'POST');
    });

    test('413 for a body over the limit', async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'admin', password: 'x'.repeat(5000) },
      });
      const e = envelopeOf(res, 413);
      assert.equal(e.code, 'request.too_large');
    });

    test('415 for a content type other than JSON', async () => {
      for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
        const res = await h.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          headers: { 'content-type': ct },
          payload: 'username=admin',
        });
        assert.equal(envelopeOf(res, 415).code, 'request.unsupported_media_type', ct);
      }
    });

    test('a NUL in a path, query or body value is never a 500 (PostgreSQL cannot store it)', async () => {
      const auth = { authorization: `Bearer ${admin}` };
      for (const [method, url, payload] of [
        ['GET', '/api/v1/users/%00', undefined],
        ['GET', '/api/v1/roles/a%00b', undefined],
        ['GET', '/api/v1/audit/events?action=%00', undefined],
        ['POST', '/api/v1/roles', { name: 'nul\u0000role', permissions: [] }],
      ] as const) {
        const res = await h.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
        assert.ok(res.statusCode < 500, `${method} ${url}: ${res.body}`);
        if (res.statusCode >= 400) envelopeOf(res, res.statusCode);
      }
    });

    test('X-Correlation-Id: accepted when sane, replaced otherwise, always returned', async () => {
      const ok = await h.inject({
        method: 'GET',
        url: '/api/v1/health',
        headers: { 'x-correlation-id': 'deploy-42/step 3' },
      });
      assert.equal(ok.headers['x-correlation-id'], 'deploy-42/step 3');
      const long = await h.inject({
        method: 'GET',
        url: '/api/v1/health',
        headers: { 'x-correlation-id': 'x'.repeat(129) },
      });
      assert.match(String(long.headers['x-correlation-id']), /^[0-9a-f-]{36}$/);
      const exactly128 = 'y'.repeat(128);
      const edge = await h.inject({
        method: 'GET',
        url: '/api/v1/health',
        headers: { 'x-correlation-id': exactly128 },
      });
      assert.equal(edge.headers['x-correlation-id'], exactly128);
      const weird = await h.inject({
        method: 'GET',
        url: '/api/v1/health',
        headers: { 'x-correlation-id': 'caf\u00e9' },
      });
      assert.notEqual(weird.headers['x-correlation-id'], 'caf\u00e9');
      const none = await h.inject({ method: 'GET', url: '/api/v1/version' });
      assert.match(String(none.headers['x-correlation-id']), /^[0-9a-f-]{36}$/);
      const err = await h.inject({
        method: 'GET',
        url: '/api/v1/nope',
        headers: { 'x-correlation-id': 'trace-me' },
      });
      assert.equal(envelopeOf(err, 404).correlation_id, 'trace-me');
    });

    test('one JSON log line per request, with correlation id and identity, without secrets', async () => {
      const res = await h.inject({
        method: 'GET',
        url: '/api/v1/auth/me?x=1',
        headers: { authorization: `Bearer ${admin}`, 'x-correlation-id': 'log-check-1' },
      });
      assert.equal(res.statusCode, 200);
      await h.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'x-correlation-id': 'log-check-2' },
        payload: { username: 'admin', password: 'definitely-wrong-pw' },
      });
      const lines = h.logs.filter((l) => l.correlation_id === 'log-check-1' && l.msg === 'request');
      assert.equal(lines.length, 1);
      const [line] = lines;
      assert.equal(line!.method, 'GET');
      assert.equal(line!.route, '/api/v1/auth/me');
      assert.equal(line!.status, 200);
      assert.equal(typeof line!.duration_ms, 'number');
      assert.equal(line!.identity, 'admin');
      const all = JSON.stringify(h.logs);
      assert.ok(!all.includes(admin), 'the token never appears in logs');
      assert.ok(!all.includes('definitely-wrong-pw'), 'passwords never appear in logs');
      assert.ok(!/bearer/i.test(all), 'no Authorization header in logs');
    });

    test('health reports the database', async () => {
      const res = await h.inject({ method: 'GET', url: '/api/v1/health' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), {
        status: 'healthy',
        db_connected: true,
        version: res.json().version,
      });
      const tyto = await h.inject({ method: 'GET', url: '/health' });
      assert.equal(tyto.json().status, 'ok');
      assert.equal(typeof tyto.json().uptime, 'number');
      const v = (await h.inject({ method: 'GET', url: '/api/v1/version' })).json();
      assert.deepEqual(Object.keys(v).sort(), [
        'build_time',
        'commit',
        'node',
        'openwatch',
        'vigil',
      ]);
      assert.equal(v.node, process.version);
      assert.equal(v.openwatch, v.vigil, "OpenWatch clients read Vigil's version");
    });
  });

  describe(`server faults on ${kind.name}`, () => {
    test('500 leaks nothing and 503 health when the database is gone', async () => {
      const h = await startHarness(kind);
      try {
        const token = await h.login();
        await h.vigil.db.close();
        await new Promise((r) => setTimeout(r, 1100)); // Past the health probe's cache.
        const res = await h.inject({
          method: 'GET',
          url: '/api/v1/audit/events',
          headers: { authorization: `Bearer ${token}` },
        });
        const e = envelopeOf(res, 500);
        assert.equal(e.code, 'internal_error');
        assert.equal(e.fault, 'server');
        assert.doesNotMatch(res.body, /sqlite|postgres|kysely|driver|destroy|\bat \w|\.ts:|stack/i);
        const health = await h.inject({ method: 'GET', url: '/api/v1/health' });
        assert.equal(health.statusCode, 503);
        assert.deepEqual(
          { ...(health.json() as object), version: '' },
          { status: 'degraded', db_connected: false, version: '' },
        );
        assert.equal((await h.inject({ method: 'GET', url: '/health' })).statusCode, 503);
        assert.ok(
          h.logs.some((l) => l.msg === 'unhandled error'),
          'the cause is logged server-side',
        );
      } finally {
        await h.close();
      }
    });
  });
}

/** One raw request over a fresh TLS connection; the answer's status, headers and JSON body. */
function rawOverTls(
  server: ListeningServer,
  request: string,
): Promise<{ status: number; headers: Record<string, string>; body: unknown }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = tls.connect(
      { host: '127.0.0.1', port: server.port, ca: server.ca, servername: 'localhost' },
      () => socket.write(Buffer.from(request, 'latin1')),
    );
    socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.once('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      let body: unknown;
      try {
        body = JSON.parse(text.slice(split + 4));
      } catch {
        body = text.slice(split + 4);
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
  });
}

/** Checks the native envelope of a raw answer and returns its `error`. */
function rawEnvelope(
  res: { status: number; headers: Record<string, string>; body: unknown },
  status: number,
) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers['content-type'] ?? '', /application\/json/);
  const e = (res.body as Envelope).error;
  assert.deepEqual(Object.keys(e).sort(), [
    'code',
    'correlation_id',
    'fault',
    'human_message',
    'retryable',
  ]);
  assert.equal(e.correlation_id, res.headers['x-correlation-id']);
  return e;
}

const line = (first: string, headers: string[] = []) =>
  `${first}\r\n${['Host: localhost', ...headers, 'Connection: close'].join('\r\n')}\r\n\r\n`;

describe('errors Node raises before routing, in each face’s format, over real TLS', () => {
  let server: ListeningServer;
  before(async () => {
    const [kind] = await databaseKinds();
    server = await startListening(kind!);
  });
  after(() => server.close());

  test('an unknown method is 405 with Allow on a known path, 404 elsewhere', async () => {
    const res = await rawOverTls(server, line('FOO /api/v1/health HTTP/1.1'));
    assert.equal(rawEnvelope(res, 405).code, 'method_not_allowed');
    assert.equal(res.headers.allow, 'GET, HEAD');
    assert.equal(
      rawEnvelope(await rawOverTls(server, line('FOO /api/v1/nope HTTP/1.1')), 404).code,
      'route.not_found',
    );
    const connect = await rawOverTls(server, line('CONNECT /api/v1/users HTTP/1.1'));
    assert.equal(rawEnvelope(connect, 405).code, 'method_not_allowed');
  });

  test('a NUL in X-Correlation-Id or Idempotency-Key is 400 request.malformed', async () => {
    for (const header of ['X-Correlation-Id: a\u0000b', 'Idempotency-Key: k\u0000']) {
      const res = await rawOverTls(
        server,
        line('POST /api/v1/users HTTP/1.1', [
          header,
          'Content-Type: application/json',
          'Content-Length: 2',
        ]) + '{}',
      );
      assert.equal(rawEnvelope(res, 400).code, 'request.malformed', header);
    }
  });

  test('a URL that is not valid percent-encoding is 400 request.invalid_url', async () => {
    const res = await rawOverTls(server, line('GET /api/v1/users/%FF%FE HTTP/1.1'));
    assert.equal(rawEnvelope(res, 400).code, 'request.invalid_url');
    assert.equal(res.headers['cache-control'], 'no-store');
    const long = await rawOverTls(server, line(`GET /api/v1/users/${'u'.repeat(101)} HTTP/1.1`));
    assert.equal(rawEnvelope(long, 400).code, 'request.invalid_url');
  });

  test('a request line over 16 KB is 431, in the format of the face it names', async () => {
    const res = await rawOverTls(server, line(`GET /api/v1/health?${'a'.repeat(17_000)} HTTP/1.1`));
    assert.equal(rawEnvelope(res, 431).code, 'request.headers_too_large');
    const oauth = await rawOverTls(
      server,
      line(`POST /oauth/token?${'a'.repeat(17_000)} HTTP/1.1`),
    );
    assert.equal(oauth.status, 431);
    assert.equal((oauth.body as { error: string }).error, 'invalid_request');
    const oitc = await rawOverTls(
      server,
      line('POST /agentconnector/register_agent.json HTTP/1.1', [`X-Big: ${'b'.repeat(17_000)}`]),
    );
    assert.equal(oitc.status, 431);
    assert.deepEqual(Object.keys(oitc.body as object), ['error']);
  });

  test('a request without Host, or a malformed request line, is 400 request.malformed', async () => {
    const noHost = await rawOverTls(
      server,
      'GET /api/v1/health HTTP/1.1\r\nConnection: close\r\n\r\n',
    );
    assert.equal(rawEnvelope(noHost, 400).code, 'request.malformed');
    const garbage = await rawOverTls(server, 'HELLO\r\n\r\n');
    assert.equal(rawEnvelope(garbage, 400).code, 'request.malformed');
  });

  test('the OAuth and openITCOCKPIT faces answer framework errors in their own formats', async () => {
    const inject = server.vigil.http.inject.bind(server.vigil.http);
    const media = await inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/xml' },
      payload: '<grant/>',
    });
    assert.equal(media.statusCode, 415);
    assert.deepEqual(Object.keys(media.json() as object).sort(), ['error', 'error_description']);
    assert.equal(media.json().error, 'invalid_request');
    assert.match(media.json().error_description, /x-www-form-urlencoded/);
    const notFound = await inject({ method: 'GET', url: '/oauth/nope' });
    assert.equal(notFound.statusCode, 404);
    assert.equal(notFound.json().error, 'invalid_request');
    const oitc = await inject({ method: 'POST', url: '/agentconnector/nope.json', payload: {} });
    assert.equal(oitc.statusCode, 404);
    assert.deepEqual(Object.keys(oitc.json() as object), ['error']);
    assert.match(oitc.body, /\\\/agentconnector\\\/nope\.json/, 'slashes escaped as PHP does');
  });
});

test('a request that arrives during shutdown is 503 in its face’s format, not Fastify’s body', async () => {
  const [kind] = await databaseKinds();
  const server = await startListening(kind!);
  try {
    await server.vigil.http.close();
    // Fastify's own request handler, as Node calls it for a request on a connection that was
    // busy when shutdown began (`inject` refuses to run once the server is closing).
    const handler = server.vigil.http.routing as Parameters<typeof lightMyRequest>[0];
    const native = await lightMyRequest(handler, { method: 'GET', url: '/api/v1/health' });
    assert.equal(native.statusCode, 503, native.body);
    const e = (native.json() as Envelope).error;
    assert.equal(e.code, 'service.shutting_down');
    assert.equal(e.retryable, true);
    assert.equal(native.headers.connection, 'close');
    const oitc = await lightMyRequest(handler, {
      method: 'POST',
      url: '/agentconnector/submit_checkdata.json',
      payload: {},
    });
    assert.equal(oitc.statusCode, 503);
    assert.deepEqual(oitc.json(), { error: 'the server is shutting down' });
  } finally {
    await server.close();
  }
});
