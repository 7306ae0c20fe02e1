import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hashToken } from '../src/secrets/tokens.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { ADMIN_PASSWORD, startHarness, type Harness } from '../../../test/support/harness.js';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

for (const kind of await databaseKinds()) {
  describe(`authentication on ${kind.name}`, () => {
    let h: Harness;
    let clock = Date.now();
    before(async () => {
      h = await startHarness(kind, { now: () => clock });
    });
    after(() => h.close());

    test('login answers the union of the OpenWatch and Tyto shapes', async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'admin', password: ADMIN_PASSWORD },
      });
      assert.equal(res.statusCode, 200);
      const b = res.json();
      assert.equal(b.token, b.access_token);
      assert.equal(b.token_type, 'Bearer');
      assert.equal(b.expires_in, 900);
      assert.equal(Date.parse(b.expires_at), clock + 900_000);
      assert.ok(b.refresh_token.length >= 43);
      assert.ok(Buffer.from(b.access_token.slice('vga_'.length), 'base64url').length >= 32);
      assert.equal(b.user.username, 'admin');
      assert.equal(b.user.role, 'admin');
      assert.deepEqual(b.user.roles, ['admin']);
      assert.deepEqual(b.user.permissions, ['*']);
      assert.match(b.user.id, /^[0-9a-f-]{36}$/);
      assert.equal(res.headers['cache-control'], 'no-store');
    });

    test('tokens are stored only as SHA-256 hashes', async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'admin', password: ADMIN_PASSWORD },
      });
      const { access_token, refresh_token } = res.json();
      const rows = await h.vigil.db.kysely
        .selectFrom('session_tokens')
        .select('token_hash')
        .execute();
      const hashes = rows.map((r) => r.token_hash);
      assert.ok(hashes.includes(hashToken(access_token)));
      assert.ok(hashes.includes(hashToken(refresh_token)));
      assert.ok(!hashes.includes(access_token) && !hashes.includes(refresh_token));
      const users = await h.vigil.db.kysely.selectFrom('users').select('password_hash').execute();
      assert.ok(users.every((u) => u.password_hash.startsWith('$argon2id$')));
    });

    test('a wrong password and an unknown user get the same 401', async () => {
      const wrong = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'x-correlation-id': 'same' },
        payload: { username: 'admin', password: 'not the password' },
      });
      const unknown = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'x-correlation-id': 'same' },
        payload: { username: 'nobody-here', password: 'not the password' },
      });
      assert.equal(wrong.statusCode, 401);
      assert.equal(unknown.statusCode, 401);
      assert.equal(wrong.body, unknown.body);
      assert.equal(wrong.json().error.code, 'auth.invalid_credentials');
    });

    test('me returns the caller; logout revokes the session (204)', async () => {
      const token = await h.login();
      const me = await h.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) });
      assert.equal(me.statusCode, 200);
      assert.equal(me.json().username, 'admin');
      assert.deepEqual(me.json().roles, ['admin']);
      const out = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: bearer(token),
      });
      assert.equal(out.statusCode, 204);
      assert.equal(out.body, '');
      const after = await h.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: bearer(token),
      });
      assert.equal(after.statusCode, 401);
    });

    test('refresh rotates; reusing a refresh token revokes its whole family', async () => {
      const first = await h.loginPair();
      const r1 = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: first.refresh_token },
      });
      assert.equal(r1.statusCode, 200);
      const second = r1.json();
      assert.notEqual(second.refresh_token, first.refresh_token);
      assert.notEqual(second.access_token, first.access_token);
      assert.equal(
        (
          await h.inject({
            method: 'GET',
            url: '/api/v1/auth/me',
            headers: bearer(second.access_token),
          })
        ).statusCode,
        200,
      );

      // The first refresh token is spent: presenting it again is theft or a bug.
      const reuse = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: first.refresh_token },
      });
      assert.equal(reuse.statusCode, 401);
      assert.equal(reuse.json().error.code, 'auth.refresh_reused');
      for (const t of [first.access_token, second.access_token]) {
        const me = await h.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(t) });
        assert.equal(me.statusCode, 401, 'every access token of the family is dead');
      }
      const r3 = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: second.refresh_token },
      });
      assert.equal(r3.statusCode, 401, 'so is every refresh token of the family');

      // Other sessions of the same user are untouched.
      const other = await h.login();
      assert.equal(
        (await h.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(other) }))
          .statusCode,
        200,
      );
    });

    test('bad refresh tokens get 401; an access token is not a refresh token', async () => {
      const pair = await h.loginPair();
      for (const refresh_token of ['garbage', pair.access_token]) {
        const res = await h.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refresh_token },
        });
        assert.equal(res.statusCode, 401);
        assert.equal(res.json().error.code, 'auth.refresh_invalid');
      }
      const empty = await h.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: {} });
      assert.equal(empty.statusCode, 400);
    });

    test('access tokens expire after their TTL; refresh tokens after theirs', async () => {
      const pair = await h.loginPair();
      clock += 899_000;
      assert.equal(
        (
          await h.inject({
            method: 'GET',
            url: '/api/v1/auth/me',
            headers: bearer(pair.access_token),
          })
        ).statusCode,
        200,
      );
      clock += 2_000;
      const expired = await h.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: bearer(pair.access_token),
      });
      assert.equal(expired.statusCode, 401);
      const renewed = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: pair.refresh_token },
      });
      assert.equal(renewed.statusCode, 200);
      clock += 30 * 86_400_000 + 1000;
      const late = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: renewed.json().refresh_token },
      });
      assert.equal(late.statusCode, 401);
    });

    test('roles: viewer reads but lacks audit:read; auditor has it', async () => {
      const viewer = await h.userWithRoles('vera', ['viewer']);
      const auditor = await h.userWithRoles('audrey', ['auditor']);
      const get = (t: string) =>
        h.inject({ method: 'GET', url: '/api/v1/audit/events', headers: bearer(t) });
      assert.equal((await get(viewer)).statusCode, 403);
      assert.equal((await get(auditor)).statusCode, 200);
      const me = (
        await h.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(viewer) })
      ).json();
      assert.deepEqual(me.permissions, ['*:read', 'dashboard:view']);
    });
  });
}
