// Over 500 lines: one suite per database kind, each on one server harness; split files would
// each start their own servers (and PostgreSQL databases) again.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { clientSecretProblem } from '../src/identity/oauth-clients.js';
import { hashToken } from '../src/secrets/tokens.js';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const basicOf = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

interface Created {
  id: string;
  client_id: string;
  client_secret: string;
  roles: string[];
  allow_client_credentials: boolean;
}

for (const kind of await databaseKinds()) {
  describe(`OAuth 2.0 client_credentials on ${kind.name}`, () => {
    let h: Harness;
    let admin: string;
    let scraper: Created;
    let automation: Created;

    const call = (method: string, url: string, token: string, payload?: unknown) =>
      h.inject({
        method: method as 'GET',
        url,
        headers: bearer(token),
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    const token = (form: Record<string, string>, authorization?: string) =>
      h.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(authorization ? { authorization } : {}),
        },
        payload: new URLSearchParams(form).toString(),
      });
    const grant = async (c: Created) => {
      const res = await token(
        { grant_type: 'client_credentials' },
        basicOf(c.client_id, c.client_secret),
      );
      assert.equal(res.statusCode, 200, res.body);
      return res.json().access_token as string;
    };
    const audit = (action: string) =>
      h.vigil.db.kysely
        .selectFrom('audit_events')
        .selectAll()
        .where('action', '=', action)
        .orderBy('occurred_at')
        .execute();

    before(async () => {
      h = await startHarness(kind);
      admin = await h.login();
      for (const [name, permissions] of [
        ['scrape', ['metrics:read']],
        ['role-keeper', ['roles:*']],
      ] as const) {
        const res = await call('POST', '/api/v1/roles', admin, { name, permissions });
        assert.equal(res.statusCode, 201, res.body);
      }
      const make = async (body: object) => {
        const res = await call('POST', '/api/v1/oauth/clients', admin, body);
        assert.equal(res.statusCode, 201, res.body);
        return res.json() as Created;
      };
      scraper = await make({
        client_id: 'prometheus',
        scope: 'public-api',
        allow_password: false,
        allow_refresh_token: false,
        allow_client_credentials: true,
        roles: ['scrape'],
      });
      automation = await make({
        client_id: 'automation',
        allow_client_credentials: true,
        roles: ['role-keeper'],
      });
    });
    after(() => h.close());

    test('a client is given the grant and roles; the change is audited', async () => {
      assert.equal(scraper.allow_client_credentials, true);
      assert.deepEqual(scraper.roles, ['scrape']);
      const got = await call('GET', `/api/v1/oauth/clients/${scraper.id}`, admin);
      assert.deepEqual(got.json().roles, ['scrape']);
      assert.equal(got.json().allow_client_credentials, true);
      const created = (await audit('oauth.client_create')).find(
        (e) => e.resource_id === scraper.id,
      );
      assert.ok(created);
      const detail = JSON.parse(created.detail);
      assert.deepEqual(detail.roles, ['scrape']);
      assert.deepEqual(detail.grant_types, ['client_credentials']);
      const plain = await call('POST', '/api/v1/oauth/clients', admin, { client_id: 'plain' });
      assert.equal(plain.json().allow_client_credentials, false, 'off unless asked for');
      assert.deepEqual(plain.json().roles, []);
    });

    test('the token acts as the client with its roles, and has no refresh token', async () => {
      for (const res of [
        await token(
          { grant_type: 'client_credentials' },
          basicOf('prometheus', scraper.client_secret),
        ),
        await token({
          grant_type: 'client_credentials',
          client_id: 'prometheus',
          client_secret: scraper.client_secret,
          scope: 'public-api',
        }),
      ]) {
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json();
        assert.equal(body.token_type, 'Bearer');
        assert.equal(body.expires_in, 3600);
        assert.equal(body.scope, 'public-api');
        assert.equal(body.refresh_token, undefined, 'RFC 6749 §4.4.3');
        assert.equal(res.headers['cache-control'], 'no-store');
        const metrics = await call('GET', '/metrics', body.access_token);
        assert.equal(metrics.statusCode, 200, metrics.body);
        assert.match(metrics.body, /^# (HELP|TYPE) /m);
        assert.equal((await call('GET', '/api/v1/users', body.access_token)).statusCode, 403);
        const stored = await h.vigil.db.kysely
          .selectFrom('oauth_client_tokens')
          .select('token_hash')
          .execute();
        assert.ok(stored.some((r) => r.token_hash === hashToken(body.access_token)));
        assert.ok(!JSON.stringify(stored).includes(body.access_token), 'stored only as a hash');
      }
      const issued = (await audit('oauth.token')).filter((e) => e.actor_type === 'oauth_client');
      assert.ok(issued.length >= 2);
      assert.equal(issued[0]!.actor_id, scraper.id);
      assert.equal(issued[0]!.actor_label, 'prometheus');
    });

    test('what the token does is audited with the client as the actor', async () => {
      const t = await grant(automation);
      const res = await call('POST', '/api/v1/roles', t, {
        name: 'made-by-a-machine',
        permissions: ['roles:read'],
      });
      assert.equal(res.statusCode, 201, res.body);
      const [event] = (await audit('role.create')).filter((e) => e.resource_id === res.json().id);
      assert.ok(event);
      assert.equal(event.actor_type, 'oauth_client');
      assert.equal(event.actor_id, automation.id);
      assert.equal(event.actor_label, 'automation');
      assert.equal(event.actor_client, 'automation');
      const filtered = await call('GET', '/api/v1/audit/events?actor_type=oauth_client', admin);
      assert.equal(filtered.statusCode, 200, filtered.body);
      assert.ok(filtered.json().items.some((e: { action: string }) => e.action === 'role.create'));
    });

    test('a machine client has no user account', async () => {
      const t = await grant(automation);
      for (const [method, url, body] of [
        ['GET', '/api/v1/auth/me', undefined],
        ['PUT', '/api/v1/auth/me', { email: 'bot@example.com' }],
        ['POST', '/api/v1/auth/mfa::enroll', undefined],
      ] as const) {
        const res = await call(method, url.replace('::', ':'), t, body);
        assert.equal(res.statusCode, 403, `${method} ${url}: ${res.body}`);
        assert.equal(res.json().error.code, 'auth.not_a_user');
      }
      const perms = await call('GET', '/api/v1/auth/me/permissions', t);
      assert.equal(perms.statusCode, 200, perms.body);
      assert.deepEqual(perms.json().grants, ['roles:*']);
      const out = await call('POST', '/api/v1/auth/logout', t);
      assert.equal(out.statusCode, 204, out.body);
      assert.equal(
        (await call('GET', '/api/v1/roles', t)).statusCode,
        401,
        'logout ends the token',
      );
    });

    test('RFC 6749 §5.2 errors', async () => {
      const cases: [string, Record<string, string>, string | undefined, number, string][] = [
        [
          'wrong secret',
          { grant_type: 'client_credentials' },
          basicOf('prometheus', 'not the secret at all'),
          401,
          'invalid_client',
        ],
        [
          'unknown client',
          { grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x'.repeat(20) },
          undefined,
          401,
          'invalid_client',
        ],
        [
          'no client authentication',
          { grant_type: 'client_credentials' },
          undefined,
          401,
          'invalid_client',
        ],
        [
          'other scope',
          { grant_type: 'client_credentials', scope: 'admin' },
          basicOf('prometheus', scraper.client_secret),
          400,
          'invalid_scope',
        ],
        [
          'unknown grant',
          { grant_type: 'urn:example:magic' },
          basicOf('prometheus', scraper.client_secret),
          400,
          'unsupported_grant_type',
        ],
        ['no grant', {}, basicOf('prometheus', scraper.client_secret), 400, 'invalid_request'],
        [
          'Basic and another client_id in the body',
          { grant_type: 'client_credentials', client_id: 'automation' },
          basicOf('prometheus', scraper.client_secret),
          401,
          'invalid_client',
        ],
        [
          'password grant not allowed',
          { grant_type: 'password', username: 'admin', password: 'whatever it is' },
          basicOf('prometheus', scraper.client_secret),
          400,
          'unauthorized_client',
        ],
      ];
      for (const [what, form, auth, status, error] of cases) {
        const res = await token(form, auth);
        assert.equal(res.statusCode, status, `${what}: ${res.body}`);
        assert.equal(res.json().error, error, what);
        assert.equal(typeof res.json().error_description, 'string');
        if (status === 401) assert.ok(res.headers['www-authenticate'], what);
      }
      const plain = (await call('GET', '/api/v1/oauth/clients', admin))
        .json()
        .clients.find((c: { client_id: string }) => c.client_id === 'plain');
      assert.ok(plain);
    });

    test('unauthorized_client for a client not allowed the grant', async () => {
      const created = await call('POST', '/api/v1/oauth/clients', admin, {
        client_id: 'operators-only',
      });
      const c = created.json() as Created;
      const res = await token(
        { grant_type: 'client_credentials' },
        basicOf(c.client_id, c.client_secret),
      );
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error, 'unauthorized_client');
    });

    test('turning the grant off or changing the roles revokes the tokens for good, audited', async () => {
      const t = await grant(scraper);
      assert.equal((await call('GET', '/metrics', t)).statusCode, 200);
      const otherRoles = await call('PATCH', `/api/v1/oauth/clients/${scraper.id}`, admin, {
        roles: ['role-keeper'],
      });
      assert.equal(otherRoles.statusCode, 200, otherRoles.body);
      assert.deepEqual(otherRoles.json().roles, ['role-keeper']);
      assert.equal((await call('GET', '/metrics', t)).statusCode, 401, 'revoked by the change');
      const t2 = await grant(scraper);
      assert.equal((await call('GET', '/metrics', t2)).statusCode, 403, 'new roles, at once');
      const back = await call('PATCH', `/api/v1/oauth/clients/${scraper.id}`, admin, {
        roles: ['scrape'],
      });
      assert.equal(back.statusCode, 200, back.body);
      assert.equal((await call('GET', '/metrics', t)).statusCode, 401, 'old roles do not revive');
      assert.equal((await call('GET', '/metrics', t2)).statusCode, 401);
      const t3 = await grant(scraper);
      const same = await call('PATCH', `/api/v1/oauth/clients/${scraper.id}`, admin, {
        roles: ['scrape'],
        description: 'the same roles again',
      });
      assert.equal(same.statusCode, 200, same.body);
      assert.equal((await call('GET', '/metrics', t3)).statusCode, 200, 'no change, no revocation');
      const off = await call('PATCH', `/api/v1/oauth/clients/${scraper.id}`, admin, {
        allow_client_credentials: false,
      });
      assert.equal(off.statusCode, 200, off.body);
      assert.equal((await call('GET', '/metrics', t3)).statusCode, 401);
      const refused = await token(
        { grant_type: 'client_credentials' },
        basicOf('prometheus', scraper.client_secret),
      );
      assert.equal(refused.json().error, 'unauthorized_client');
      const on = await call('PATCH', `/api/v1/oauth/clients/${scraper.id}`, admin, {
        allow_client_credentials: true,
      });
      assert.equal(on.statusCode, 200);
      assert.equal(
        (await call('GET', '/metrics', t3)).statusCode,
        401,
        'turning the grant back on does not revive a token',
      );
      assert.equal((await call('GET', '/metrics', await grant(scraper))).statusCode, 200);
      const updates = (await audit('oauth.client_update'))
        .filter((e) => e.resource_id === scraper.id)
        .map((e) => JSON.parse(e.detail) as Record<string, unknown>);
      assert.equal(updates.length, 5);
      assert.deepEqual(updates[0]!.roles, ['role-keeper']);
      assert.deepEqual(
        updates.map((d) => (d.revoked as number) > 0),
        [true, true, false, true, false],
        'tokens revoked by each change',
      );
      assert.deepEqual(updates[3]!.grant_types, []);
      assert.deepEqual(updates[4]!.grant_types, ['client_credentials']);
    });

    test('roles are validated: unknown ones 400, ones beyond the caller 403, held ones not deletable', async () => {
      const unknown = await call('POST', '/api/v1/oauth/clients', admin, {
        client_id: 'ghost-roles',
        allow_client_credentials: true,
        roles: ['no-such-role'],
      });
      assert.equal(unknown.statusCode, 400);
      assert.equal(unknown.json().error.code, 'role.unknown');
      for (const roles of ['scrape', ['x'.repeat(200)], [1]])
        assert.equal(
          (
            await call('POST', '/api/v1/oauth/clients', admin, {
              client_id: 'bad-roles',
              roles,
            })
          ).statusCode,
          400,
        );
      const managerRole = await call('POST', '/api/v1/roles', admin, {
        name: 'client-manager',
        permissions: ['oauth:*', 'metrics:read'],
      });
      assert.equal(managerRole.statusCode, 201);
      const manager = await h.userWithRoles('cleo', ['client-manager']);
      const beyond = await call('POST', '/api/v1/oauth/clients', manager, {
        client_id: 'sneaky',
        allow_client_credentials: true,
        roles: ['admin'],
      });
      assert.equal(beyond.statusCode, 403, beyond.body);
      assert.equal(beyond.json().error.code, 'role.escalation');
      const within = await call('POST', '/api/v1/oauth/clients', manager, {
        client_id: 'fine',
        allow_client_credentials: true,
        roles: ['scrape'],
      });
      assert.equal(within.statusCode, 201, within.body);
      const patchBeyond = await call(
        'PATCH',
        `/api/v1/oauth/clients/${within.json().id}`,
        manager,
        {
          roles: ['role-keeper'],
        },
      );
      assert.equal(patchBeyond.statusCode, 403);
      const held = await call('DELETE', '/api/v1/roles/role-keeper', admin);
      assert.equal(held.statusCode, 409);
      assert.equal(held.json().error.code, 'role.in_use');
      assert.match(held.json().error.human_message, /automation/);
    });

    test('scope on a new client: public-api only', async () => {
      const ok = await call('POST', '/api/v1/oauth/clients', admin, {
        client_id: 'scoped',
        scope: 'public-api',
      });
      assert.equal(ok.statusCode, 201, ok.body);
      assert.equal(ok.json().scope, 'public-api');
      for (const scope of ['admin', '', 'public-api other', 7, null]) {
        const res = await call('POST', '/api/v1/oauth/clients', admin, {
          client_id: 'scoped-bad',
          scope,
        });
        assert.equal(res.statusCode, 400, `${JSON.stringify(scope)}: ${res.body}`);
      }
    });

    test('revocation (RFC 7009) and deletion end the token', async () => {
      const t = await grant(automation);
      assert.equal((await call('GET', '/api/v1/roles', t)).statusCode, 200);
      const revoked = await h.inject({
        method: 'POST',
        url: '/oauth/revoke',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basicOf('automation', automation.client_secret),
        },
        payload: new URLSearchParams({ token: t }).toString(),
      });
      assert.equal(revoked.statusCode, 200);
      assert.equal((await call('GET', '/api/v1/roles', t)).statusCode, 401);
      const t2 = await grant(automation);
      const otherClient = await h.inject({
        method: 'POST',
        url: '/oauth/revoke',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basicOf('prometheus', scraper.client_secret),
        },
        payload: new URLSearchParams({ token: t2 }).toString(),
      });
      assert.equal(otherClient.statusCode, 200);
      assert.equal(
        (await call('GET', '/api/v1/roles', t2)).statusCode,
        200,
        'another client cannot revoke it',
      );
      const del = await call('DELETE', `/api/v1/oauth/clients/${automation.id}`, admin);
      assert.equal(del.statusCode, 204);
      assert.equal((await call('GET', '/api/v1/roles', t2)).statusCode, 401);
      const left = await h.vigil.db.kysely
        .selectFrom('oauth_client_roles')
        .select('client_row_id')
        .where('client_row_id', '=', automation.id)
        .execute();
      assert.equal(left.length, 0);
      assert.equal(
        (await call('DELETE', '/api/v1/roles/role-keeper', admin)).statusCode,
        204,
        'no longer held once its client is gone',
      );
    });
  });
}

test('a generated client secret passes the strength rule; weak ones do not', () => {
  for (let i = 0; i < 2_000; i++)
    assert.equal(clientSecretProblem(randomBytes(32).toString('base64url')), undefined);
  for (const [what, secret, ok] of [
    ['passphrase', 'correct horse battery staple', true],
    ['too short', 'Xy7#qL9!vR2', false],
    ['one character', 'a'.repeat(32), false],
    ['two characters', 'ab'.repeat(16), false],
    ['nine characters', 'abcdefghi'.repeat(3), false],
    ['a run', '0123456789abcdefghijklmnop', false],
    ['a run backwards', 'zyxwvutsrqponmlkjihgfedcba', false],
  ] as const)
    assert.equal(clientSecretProblem(secret) === undefined, ok, what);
});

for (const kind of await databaseKinds()) {
  describe(`OAuth 2.0 client authentication is throttled on ${kind.name}`, () => {
    let h: Harness;
    let clock = Date.parse('2026-11-26T12:00:00Z');
    let admin: string;
    let secrets: Record<string, string>;
    const token = (form: Record<string, string>, address: string, authorization?: string) =>
      h.inject({
        method: 'POST',
        url: '/oauth/token',
        remoteAddress: address,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(authorization ? { authorization } : {}),
        },
        payload: new URLSearchParams(form).toString(),
      });
    const basic = (id: string, secret: string, address: string) =>
      token({ grant_type: 'client_credentials' }, address, basicOf(id, secret));
    const inBody = (id: string, secret: string, address: string) =>
      token({ grant_type: 'client_credentials', client_id: id, client_secret: secret }, address);
    const failures = async (label: string) =>
      Number(
        (
          await h.vigil.db.kysely
            .selectFrom('audit_events')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('action', '=', 'oauth.client_auth_failed')
            .where('actor_label', '=', label)
            .executeTakeFirstOrThrow()
        ).n,
      );

    before(async () => {
      h = await startHarness(kind, { now: () => clock });
      admin = await h.login();
      const role = await h.inject({
        method: 'POST',
        url: '/api/v1/roles',
        headers: bearer(admin),
        payload: { name: 'scrape', permissions: ['metrics:read'] },
      });
      assert.equal(role.statusCode, 201, role.body);
      secrets = {};
      for (const client_id of ['guessed', 'rushed', 'other']) {
        const res = await h.inject({
          method: 'POST',
          url: '/api/v1/oauth/clients',
          headers: bearer(admin),
          payload: { client_id, allow_client_credentials: true, roles: ['scrape'] },
        });
        assert.equal(res.statusCode, 201, res.body);
        secrets[client_id] = res.json().client_secret;
      }
    });
    after(() => h.close());

    test('after five wrong secrets (Basic or body) a client id waits: 429 invalid_client with Retry-After, even for the right secret', async () => {
      for (let i = 0; i < 5; i++) {
        const res = await (i % 2 ? inBody : basic)(
          'guessed',
          `wrong secret number ${i}`,
          `10.1.0.${i}`,
        );
        assert.equal(res.statusCode, 401, res.body);
        assert.equal(res.json().error, 'invalid_client');
      }
      for (const send of [basic, inBody]) {
        const locked = await send('guessed', secrets.guessed!, '10.1.1.1');
        assert.equal(locked.statusCode, 429, locked.body);
        assert.equal(locked.json().error, 'invalid_client');
        assert.match(locked.json().error_description, /too many failed/);
        assert.equal(locked.headers['retry-after'], '1');
        assert.equal(locked.headers['www-authenticate'], undefined);
      }
      assert.equal(
        (await basic('other', secrets.other!, '10.1.1.2')).statusCode,
        200,
        'another client id is not held up',
      );
      clock += 1_000;
      assert.equal((await basic('guessed', 'wrong again, later', '10.1.0.9')).statusCode, 401);
      const longer = await basic('guessed', secrets.guessed!, '10.1.1.1');
      assert.equal(longer.statusCode, 429);
      assert.equal(longer.headers['retry-after'], '2', 'the wait doubles');
      clock += 2_000;
      assert.equal((await basic('guessed', secrets.guessed!, '10.1.1.1')).statusCode, 200);
      assert.equal(await failures('guessed'), 6, 'each checked secret is audited');
    });

    test('many simultaneous wrong secrets for one client: at most five are checked', async () => {
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          (i % 2 ? inBody : basic)('rushed', `wrong secret ${i}`, `10.2.${i >> 8}.${i & 255}`),
        ),
      );
      const statuses = answers.map((r) => r.statusCode);
      assert.equal(statuses.filter((s) => s === 401).length, 5);
      assert.equal(statuses.filter((s) => s === 429).length, 95);
      assert.equal(await failures('rushed'), 5, 'five secrets were checked');
      assert.equal((await basic('rushed', secrets.rushed!, '10.2.9.9')).statusCode, 429);
    });

    test('an unknown client id is treated exactly like a known one', async () => {
      for (let i = 0; i < 5; i++)
        assert.equal(
          (await basic('no-such-client', 'some secret here', '10.3.0.1')).statusCode,
          401,
        );
      const res = await basic('no-such-client', 'some secret here', '10.3.0.2');
      assert.equal(res.statusCode, 429);
      assert.equal(res.headers['retry-after'], '1');
    });

    test('client secret guesses count against the address as failed logins do', async () => {
      clock += 3_600_000;
      for (let i = 0; i < 20; i++)
        assert.equal(
          (await basic(`name-${i}`, 'wrong secret value', '192.0.2.60')).statusCode,
          401,
        );
      assert.equal((await basic('other', secrets.other!, '192.0.2.60')).statusCode, 429);
      assert.equal((await basic('other', secrets.other!, '192.0.2.61')).statusCode, 200);
    });

    test('revocation authenticates the client behind the same throttle', async () => {
      clock += 3_600_000;
      const revoke = (secret: string) =>
        h.inject({
          method: 'POST',
          url: '/oauth/revoke',
          remoteAddress: '10.4.0.1',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: basicOf('other', secret),
          },
          payload: new URLSearchParams({ token: 'vgc_whatever' }).toString(),
        });
      for (let i = 0; i < 5; i++) assert.equal((await revoke(`wrong secret ${i}`)).statusCode, 401);
      assert.equal((await revoke(secrets.other!)).statusCode, 429);
    });

    test('a weak client secret chosen by the caller is refused; a generated one is fine', async () => {
      admin = await h.login(); // The clock has moved past the first token's life.
      for (const [secret, code] of [
        ['x'.repeat(20), 'oauth.weak_secret'],
        ['abababababababababab', 'oauth.weak_secret'],
        ['0123456789abcdefghij', 'oauth.weak_secret'],
        ['short', 'validation_failed'],
      ] as const) {
        const res = await h.inject({
          method: 'POST',
          url: '/api/v1/oauth/clients',
          headers: bearer(admin),
          payload: { client_id: 'weakling', client_secret: secret },
        });
        assert.equal(res.statusCode, 400, `${secret}: ${res.body}`);
        assert.equal(res.json().error.code, code, secret);
      }
      const chosen = await h.inject({
        method: 'POST',
        url: '/api/v1/oauth/clients',
        headers: bearer(admin),
        payload: { client_id: 'weakling', client_secret: 'correct horse battery staple' },
      });
      assert.equal(chosen.statusCode, 201, chosen.body);
      assert.equal(chosen.json().client_secret, 'correct horse battery staple');
    });
  });
}
