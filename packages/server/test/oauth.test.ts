import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ResourceOwnerPassword } from 'simple-oauth2';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

const run = promisify(execFile);
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const OPERATOR_PASSWORD = 'operator api passphrase';

/** The Cockpit document's curl command lines, with only the host and credentials adapted. */
async function curl(args: string[]): Promise<{ status: number; headers: string; body: string }> {
  const { stdout } = await run('curl', ['-s', '-i', ...args]);
  const split = stdout.indexOf('\r\n\r\n');
  const head = stdout.slice(0, split);
  return {
    status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(head)![1]),
    headers: head.toLowerCase(),
    body: stdout.slice(split + 4),
  };
}

for (const kind of await databaseKinds()) {
  describe(`OAuth 2.0 (Cockpit face) on ${kind.name}`, () => {
    let h: Harness;
    let base: string;
    let admin: string;
    let client: { id: string; client_id: string; client_secret: string };
    let basic: string;

    before(async () => {
      h = await startHarness(kind);
      await h.vigil.http.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(h.vigil.http.server.address() as AddressInfo).port}`;
      admin = await h.login();
      const role = await h.inject({
        method: 'POST',
        url: '/api/v1/roles',
        headers: bearer(admin),
        payload: { name: 'api-operator', permissions: ['api:access', 'agents:*', 'host:read'] },
      });
      assert.equal(role.statusCode, 201, role.body);
      for (const [username, roles] of [
        ['api-op', ['api-operator']],
        ['no-api', ['operator']],
      ] as const) {
        const res = await h.inject({
          method: 'POST',
          url: '/api/v1/users',
          headers: bearer(admin),
          payload: { username, password: OPERATOR_PASSWORD, roles },
        });
        assert.equal(res.statusCode, 201, res.body);
      }
    });
    after(() => h.close());

    const token = (
      form: string,
      auth: string | null = basic,
      type = 'application/x-www-form-urlencoded',
    ) =>
      h.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { ...(auth ? { authorization: auth } : {}), 'content-type': type },
        payload: form,
      });

    test('an API access client is created with its secret shown once and stored as a hash', async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/oauth/clients',
        headers: bearer(admin),
        payload: {
          client_id: 'publbe-api',
          description: 'Ticketing integration',
          access_token_ttl_seconds: 3600,
          refresh_token_ttl_seconds: 7200,
          allow_password: true,
          allow_refresh_token: true,
        },
      });
      assert.equal(res.statusCode, 201, res.body);
      client = res.json();
      assert.equal(client.client_id, 'publbe-api');
      assert.ok(client.client_secret.length >= 40);
      assert.equal(res.json().scope, 'public-api');
      basic = `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
      const listed = await h.inject({
        method: 'GET',
        url: '/api/v1/oauth/clients',
        headers: bearer(admin),
      });
      assert.ok(!listed.body.includes(client.client_secret));
      const row = await h.vigil.db.kysely
        .selectFrom('oauth_clients')
        .selectAll()
        .executeTakeFirstOrThrow();
      assert.ok(!JSON.stringify(row).includes(client.client_secret));
      const dup = await h.inject({
        method: 'POST',
        url: '/api/v1/oauth/clients',
        headers: bearer(admin),
        payload: { client_id: 'publbe-api' },
      });
      assert.equal(dup.statusCode, 409);
    });

    test('the document’s curl lines: password grant, refresh, then an API request', async () => {
      const got = await curl([
        '-X',
        'POST',
        `${base}/oauth/token`,
        '-H',
        `Authorization: ${basic}`,
        '-H',
        'Content-Type: application/x-www-form-urlencoded',
        '-H',
        'cache-control: no-cache',
        '-d',
        `grant_type=password&scope=public-api&username=api-op&password=${encodeURIComponent(OPERATOR_PASSWORD)}`,
      ]);
      assert.equal(got.status, 200, got.body);
      assert.match(got.headers, /cache-control: no-store/);
      assert.match(got.headers, /pragma: no-cache/);
      const t = JSON.parse(got.body);
      assert.deepEqual(Object.keys(t).sort(), [
        'access_token',
        'expires_in',
        'refresh_token',
        'scope',
        'token_type',
      ]);
      assert.equal(t.token_type, 'Bearer');
      assert.equal(t.expires_in, 3600);
      assert.equal(t.scope, 'public-api');

      const refreshed = await curl([
        '-X',
        'POST',
        `${base}/oauth/token`,
        '-H',
        `Authorization: ${basic}`,
        '-H',
        'Content-Type: application/x-www-form-urlencoded',
        '-H',
        'cache-control: no-cache',
        '-d',
        `grant_type=refresh_token&scope=public-api&refresh_token=${t.refresh_token}`,
      ]);
      assert.equal(refreshed.status, 200, refreshed.body);
      const t2 = JSON.parse(refreshed.body);
      assert.notEqual(t2.access_token, t.access_token);
      assert.notEqual(t2.refresh_token, t.refresh_token);

      const api = await curl([
        '-X',
        'GET',
        `${base}/api/v1/agents`,
        '-H',
        `Authorization: Bearer ${t2.access_token}`,
        '-H',
        'cache-control: no-cache',
      ]);
      assert.equal(api.status, 200, api.body);
      // Exactly the operator's permissions: no users:read.
      const users = await h.inject({
        method: 'GET',
        url: '/api/v1/users',
        headers: bearer(t2.access_token),
      });
      assert.equal(users.statusCode, 403);
      // The rotated refresh token is spent.
      const reused = await token(`grant_type=refresh_token&refresh_token=${t.refresh_token}`);
      assert.equal(reused.statusCode, 400);
      assert.equal(reused.json().error, 'invalid_grant');
    });

    test('actions through a client are audited as the operator through that client', async () => {
      const t = (
        await token(
          `grant_type=password&username=api-op&password=${encodeURIComponent(OPERATOR_PASSWORD)}`,
        )
      ).json();
      const created = await h.inject({
        method: 'POST',
        url: '/api/v1/agents',
        headers: { ...bearer(t.access_token), 'x-correlation-id': 'through-client' },
        payload: { name: 'via-oauth' },
      });
      assert.equal(created.statusCode, 201, created.body);
      const page = await h.inject({
        method: 'GET',
        url: '/api/v1/audit/events?correlation_id=through-client',
        headers: bearer(admin),
      });
      const [ev] = page.json().items;
      assert.equal(ev.action, 'agent.create');
      assert.equal(ev.actor_type, 'user');
      assert.equal(ev.actor_label, 'api-op');
      assert.equal(ev.actor_client, 'publbe-api');
      const issued = await h.inject({
        method: 'GET',
        url: '/api/v1/audit/events?action=oauth.token',
        headers: bearer(admin),
      });
      assert.ok(
        issued.json().items.every((e: { actor_client: string }) => e.actor_client === 'publbe-api'),
      );
    });

    test('every RFC 6749 error, with its status', async () => {
      const pw = `username=api-op&password=${encodeURIComponent(OPERATOR_PASSWORD)}`;
      const wrongSecret = `Basic ${Buffer.from(`${client.client_id}:nope`).toString('base64')}`;
      for (const [form, auth, status, error] of [
        [`grant_type=password&${pw}`, wrongSecret, 401, 'invalid_client'],
        [`grant_type=password&${pw}`, null, 401, 'invalid_client'],
        [`grant_type=password&${pw}`, 'Bearer abc', 401, 'invalid_client'],
        [`grant_type=password&${pw}&client_id=x&client_secret=y`, basic, 400, 'invalid_request'],
        [pw, basic, 400, 'invalid_request'],
        [`grant_type=password&grant_type=password&${pw}`, basic, 400, 'invalid_request'],
        // This client is not allowed the client_credentials grant (RFC 6749 §5.2).
        [`grant_type=client_credentials`, basic, 400, 'unauthorized_client'],
        [`grant_type=authorization_code&code=x`, basic, 400, 'unsupported_grant_type'],
        [`grant_type=password&scope=admin&${pw}`, basic, 400, 'invalid_scope'],
        [`grant_type=password&username=api-op&password=wrong`, basic, 400, 'invalid_grant'],
        [`grant_type=password&username=ghost&password=wrong`, basic, 400, 'invalid_grant'],
        [
          `grant_type=password&username=no-api&password=${encodeURIComponent(OPERATOR_PASSWORD)}`,
          basic,
          400,
          'invalid_grant',
        ],
        [`grant_type=password`, basic, 400, 'invalid_request'],
        [`grant_type=refresh_token`, basic, 400, 'invalid_request'],
        [`grant_type=refresh_token&refresh_token=vgr_forged`, basic, 400, 'invalid_grant'],
      ] as const) {
        const res = await token(form, auth);
        assert.equal(res.statusCode, status, `${form} ${auth}: ${res.body}`);
        assert.equal(res.json().error, error, form);
        assert.equal(typeof res.json().error_description, 'string');
        assert.equal(res.headers['cache-control'], 'no-store');
        if (status === 401) assert.match(String(res.headers['www-authenticate']), /^Basic /);
      }
      const json = await token(
        JSON.stringify({ grant_type: 'password' }),
        basic,
        'application/json',
      );
      assert.equal(json.statusCode, 400);
      assert.equal(json.json().error, 'invalid_request');
      // client_secret_post works as well as Basic.
      const post = await token(
        `grant_type=password&${pw}&client_id=${client.client_id}&client_secret=${client.client_secret}`,
        null,
      );
      assert.equal(post.statusCode, 200, post.body);
      // A login's refresh token is not this client's.
      const login = await h.loginPair('api-op', OPERATOR_PASSWORD);
      const foreign = await token(`grant_type=refresh_token&refresh_token=${login.refresh_token}`);
      assert.equal(foreign.json().error, 'invalid_grant');
    });

    test('unauthorized_client when the client does not allow the grant', async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/oauth/clients',
        headers: bearer(admin),
        payload: { client_id: 'locked-down', allow_password: false, allow_refresh_token: false },
      });
      const c = res.json();
      const auth = `Basic ${Buffer.from(`locked-down:${c.client_secret}`).toString('base64')}`;
      const pw = await token(`grant_type=password&username=api-op&password=x`, auth);
      assert.equal(pw.json().error, 'unauthorized_client');
      const rt = await token(`grant_type=refresh_token&refresh_token=x`, auth);
      assert.equal(rt.json().error, 'unauthorized_client');
      // Refresh off: the password grant gives no refresh token.
      await h.inject({
        method: 'PATCH',
        url: `/api/v1/oauth/clients/${c.id}`,
        headers: bearer(admin),
        payload: { allow_password: true },
      });
      const ok = await token(
        `grant_type=password&username=api-op&password=${encodeURIComponent(OPERATOR_PASSWORD)}`,
        auth,
      );
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().refresh_token, undefined);
    });

    test('a third-party client library: password grant, refresh, revocation (RFC 7009)', async () => {
      const lib = new ResourceOwnerPassword({
        client: { id: client.client_id, secret: client.client_secret },
        auth: { tokenHost: base, tokenPath: '/oauth/token', revokePath: '/oauth/revoke' },
        options: { authorizationMethod: 'header' },
      });
      const first = await lib.getToken({
        username: 'api-op',
        password: OPERATOR_PASSWORD,
        scope: 'public-api',
      });
      const access = first.token.access_token as string;
      assert.equal(
        (await h.inject({ method: 'GET', url: '/api/v1/agents', headers: bearer(access) }))
          .statusCode,
        200,
      );
      const second = await first.refresh();
      const access2 = second.token.access_token as string;
      assert.notEqual(access2, access);
      await second.revoke('refresh_token');
      assert.equal(
        (await h.inject({ method: 'GET', url: '/api/v1/agents', headers: bearer(access2) }))
          .statusCode,
        401,
        'revoking the refresh token ends the session',
      );
      await assert.rejects(
        lib.getToken({ username: 'api-op', password: 'wrong', scope: 'public-api' }),
        /400|invalid_grant/,
      );
      // Revocation needs the client; an unknown token is still 200.
      const anon = await h.inject({
        method: 'POST',
        url: '/oauth/revoke',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'token=whatever',
      });
      assert.equal(anon.statusCode, 401);
      const unknown = await h.inject({
        method: 'POST',
        url: '/oauth/revoke',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'token=whatever',
      });
      assert.equal(unknown.statusCode, 200);
    });

    test('deleting a client ends its sessions; a disabled operator’s token is refused', async () => {
      const t = (
        await token(
          `grant_type=password&username=api-op&password=${encodeURIComponent(OPERATOR_PASSWORD)}`,
        )
      ).json();
      const users = (
        await h.inject({ method: 'GET', url: '/api/v1/users', headers: bearer(admin) })
      ).json().users;
      const op = users.find((u: { username: string }) => u.username === 'api-op');
      await h.inject({
        method: 'POST',
        url: `/api/v1/users/${op.id}:disable`,
        headers: bearer(admin),
      });
      assert.equal(
        (await h.inject({ method: 'GET', url: '/api/v1/agents', headers: bearer(t.access_token) }))
          .statusCode,
        401,
      );
      await h.inject({
        method: 'POST',
        url: `/api/v1/users/${op.id}:enable`,
        headers: bearer(admin),
      });
      const t2 = (
        await token(
          `grant_type=password&username=api-op&password=${encodeURIComponent(OPERATOR_PASSWORD)}`,
        )
      ).json();
      const del = await h.inject({
        method: 'DELETE',
        url: `/api/v1/oauth/clients/${client.id}`,
        headers: bearer(admin),
      });
      assert.equal(del.statusCode, 204);
      assert.equal(
        (await h.inject({ method: 'GET', url: '/api/v1/agents', headers: bearer(t2.access_token) }))
          .statusCode,
        401,
      );
      assert.equal(
        (await token('grant_type=password&username=api-op&password=x')).json().error,
        'invalid_client',
      );
    });
  });
}
