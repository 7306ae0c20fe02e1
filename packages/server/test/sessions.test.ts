import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../../../test/support/databases.js';
import { ADMIN_PASSWORD, startHarness, type Harness } from '../../../test/support/harness.js';

/** The cookies a response sets, by name: value and attributes. */
function cookiesOf(setCookie: string | string[] | undefined) {
  const out = new Map<string, { value: string; attrs: string[] }>();
  for (const line of [setCookie ?? []].flat()) {
    const [pair, ...attrs] = line.split(';').map((x) => x.trim());
    const eq = pair!.indexOf('=');
    out.set(pair!.slice(0, eq), { value: pair!.slice(eq + 1), attrs });
  }
  return out;
}

for (const kind of await databaseKinds()) {
  describe(`browser sessions on ${kind.name}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(kind);
      await h.userWithRoles('web', ['operator']);
    });
    after(() => h.close());

    const webLogin = async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'web', password: ADMIN_PASSWORD },
      });
      assert.equal(res.statusCode, 200);
      const c = cookiesOf(res.headers['set-cookie']);
      return { session: c.get('vigil_session')!, csrf: c.get('vigil_csrf')!, body: res.json() };
    };

    test('login sets an HttpOnly, SameSite=Strict session cookie and a readable CSRF cookie', async () => {
      const { session, csrf } = await webLogin();
      assert.match(session.value, /^vgs_[A-Za-z0-9_-]{43}$/);
      assert.ok(session.attrs.includes('HttpOnly'));
      assert.ok(session.attrs.includes('SameSite=Strict'));
      assert.ok(session.attrs.includes('Path=/'));
      assert.ok(!csrf.attrs.includes('HttpOnly'), 'the page reads the CSRF token');
      assert.ok(csrf.attrs.includes('SameSite=Strict'));
      // Over plain HTTP (this harness) Secure would make browsers drop them; over HTTPS it is
      // set (tested end to end with TLS in test/e2e).
      assert.ok(!session.attrs.includes('Secure'));
      // Stored only as a hash.
      const rows = await h.vigil.db.kysely
        .selectFrom('session_tokens')
        .select('token_hash')
        .where('kind', '=', 'cookie')
        .execute();
      assert.ok(rows.length >= 1);
      assert.ok(rows.every((r) => !r.token_hash.includes(session.value)));
    });

    test('reads work with the cookie alone; changes need the CSRF token; bearer calls do not', async () => {
      const { session, csrf, body } = await webLogin();
      const cookie = `vigil_session=${session.value}; vigil_csrf=${csrf.value}`;
      const me = await h.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });
      assert.equal(me.statusCode, 200);
      assert.equal(me.json().username, 'web');
      const change = (headers: Record<string, string>) =>
        h.inject({
          method: 'PUT',
          url: '/api/v1/auth/me',
          headers,
          payload: { email: 'web@example.com' },
        });
      const none = await change({ cookie });
      assert.equal(none.statusCode, 403);
      assert.equal(none.json().error.code, 'auth.csrf_invalid');
      const wrong = await change({ cookie, 'x-csrf-token': 'x'.repeat(43) });
      assert.equal(wrong.statusCode, 403);
      // Another session's token does not fit this one.
      const other = await webLogin();
      assert.equal((await change({ cookie, 'x-csrf-token': other.csrf.value })).statusCode, 403);
      assert.equal((await change({ cookie, 'x-csrf-token': csrf.value })).statusCode, 200);
      const bearer = await change({ authorization: `Bearer ${body.access_token}` });
      assert.equal(bearer.statusCode, 200, 'bearer calls need no CSRF token');
      assert.equal(
        (
          await h.inject({
            method: 'GET',
            url: '/api/v1/auth/me',
            headers: { cookie: 'vigil_session=vgs_forged' },
          })
        ).statusCode,
        401,
      );
    });

    test('logout through the cookie ends the session and clears the cookies', async () => {
      const { session, csrf } = await webLogin();
      const cookie = `vigil_session=${session.value}`;
      const out = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: { cookie, 'x-csrf-token': csrf.value },
      });
      assert.equal(out.statusCode, 204);
      const cleared = cookiesOf(out.headers['set-cookie']);
      assert.equal(cleared.get('vigil_session')!.value, '');
      assert.ok(cleared.get('vigil_session')!.attrs.includes('Max-Age=0'));
      assert.equal(
        (await h.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } })).statusCode,
        401,
      );
    });

    test('disabling the user kills the cookie at once', async () => {
      const { session } = await webLogin();
      const cookie = `vigil_session=${session.value}`;
      const admin = await h.login();
      const users = await h.inject({
        method: 'GET',
        url: '/api/v1/users',
        headers: { authorization: `Bearer ${admin}` },
      });
      const id = users.json().users.find((u: { username: string }) => u.username === 'web').id;
      await h.inject({
        method: 'POST',
        url: `/api/v1/users/${id}:disable`,
        headers: { authorization: `Bearer ${admin}` },
      });
      assert.equal(
        (await h.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } })).statusCode,
        401,
      );
    });
  });
}
