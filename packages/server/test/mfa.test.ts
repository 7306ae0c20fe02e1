import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as OTPAuth from 'otpauth';
import { databaseKinds } from '../../../test/support/databases.js';
import { ADMIN_PASSWORD, startHarness, type Harness } from '../../../test/support/harness.js';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

for (const kind of await databaseKinds()) {
  describe(`two-factor authentication on ${kind.name}`, () => {
    let h: Harness;
    // Mid-step, so that ±1 step is unambiguous.
    let clock = Math.floor(Date.parse('2026-11-26T12:00:00Z') / 30_000) * 30_000 + 10_000;
    let totp: OTPAuth.TOTP;
    let token: string;
    const login = (otp?: string) =>
      h.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'mfa-user', password: ADMIN_PASSWORD, ...(otp ? { otp } : {}) },
      });
    // Codes from an independent implementation (the otpauth package), at a given time.
    const codeAt = (ms: number) => totp.generate({ timestamp: ms });

    before(async () => {
      h = await startHarness(kind, { now: () => clock });
      token = await h.userWithRoles('mfa-user', ['viewer']);
    });
    after(() => h.close());

    test('enroll gives an otpauth:// URI; a wrong code does not activate it, a right one does', async () => {
      const enroll = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa:enroll',
        headers: bearer(token),
      });
      assert.equal(enroll.statusCode, 200, enroll.body);
      const { provisioning_uri, secret } = enroll.json();
      assert.match(provisioning_uri, /^otpauth:\/\/totp\/Vigil:mfa-user\?/);
      totp = OTPAuth.URI.parse(provisioning_uri) as OTPAuth.TOTP;
      assert.equal(totp.secret.base32, secret);
      assert.equal(totp.digits, 6);
      assert.equal(totp.period, 30);

      // Not active yet: login needs no code.
      assert.equal((await login()).statusCode, 200);
      const verify = (otp: string) =>
        h.inject({
          method: 'POST',
          url: '/api/v1/auth/mfa:verify',
          headers: bearer(token),
          payload: { otp },
        });
      const wrong = await verify(codeAt(clock - 5 * 60_000));
      assert.equal(wrong.statusCode, 400);
      assert.equal(wrong.json().error.code, 'auth.mfa_invalid');
      assert.equal((await verify('12345')).statusCode, 400, 'six digits');
      const ok = await verify(codeAt(clock));
      assert.equal(ok.statusCode, 200, ok.body);
      assert.deepEqual(ok.json(), { mfa_enabled: true });
      const again = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa:enroll',
        headers: bearer(token),
      });
      assert.equal(again.statusCode, 409);
    });

    test('the secret is sealed at rest under a master key kept outside the database', async () => {
      const row = await h.vigil.db.kysely
        .selectFrom('users')
        .select(['mfa_secret', 'mfa_pending_secret'])
        .where('username', '=', 'mfa-user')
        .executeTakeFirstOrThrow();
      assert.match(row.mfa_secret!, /^v1\./);
      assert.equal(row.mfa_pending_secret, null);
      const raw = Buffer.from(totp.secret.bytes);
      assert.ok(!row.mfa_secret!.includes(totp.secret.base32));
      assert.ok(!row.mfa_secret!.includes(raw.toString('base64url')));
      const key = statSync(path.join(h.config.storage.data_dir, 'master.key'));
      assert.equal(key.mode & 0o777, 0o600);
    });

    test('login: no code 401 mfa_required, a wrong one 401, a used one refused, ±1 step accepted', async () => {
      const none = await login();
      assert.equal(none.statusCode, 401);
      assert.equal(none.json().error.code, 'auth.mfa_required');
      const wrong = await login(codeAt(clock + 10 * 60_000));
      assert.equal(wrong.statusCode, 401);
      assert.equal(wrong.json().error.code, 'auth.mfa_invalid');
      // The code used to verify is spent; so is the step before it.
      assert.equal((await login(codeAt(clock))).statusCode, 401);
      assert.equal((await login(codeAt(clock - 30_000))).statusCode, 401);
      // One step ahead (a fast phone clock) is accepted, once.
      const ahead = await login(codeAt(clock + 30_000));
      assert.equal(ahead.statusCode, 200, ahead.body);
      assert.equal((await login(codeAt(clock + 30_000))).statusCode, 401, 'used once');
      assert.equal((await login(codeAt(clock + 60_000))).statusCode, 401, 'two steps ahead');
      // A minute later the next codes work.
      clock += 60_000;
      assert.equal((await login(codeAt(clock))).statusCode, 200);
      clock += 30_000;
      assert.equal((await login(codeAt(clock - 30_000))).statusCode, 401, 'before the last used');
      assert.equal((await login(codeAt(clock + 30_000))).statusCode, 200);
    });

    test('an administrator can turn it off for a lost authenticator', async () => {
      const admin = await h.login();
      const me = await h.inject({
        method: 'GET',
        url: '/api/v1/users',
        headers: bearer(admin),
      });
      const id = me.json().users.find((u: { username: string }) => u.username === 'mfa-user').id;
      const reset = await h.inject({
        method: 'POST',
        url: `/api/v1/users/${id}:reset-mfa`,
        headers: bearer(admin),
      });
      assert.equal(reset.statusCode, 200, reset.body);
      assert.equal(reset.json().mfa_enabled, false);
      assert.equal((await login()).statusCode, 200);
    });
  });
}

for (const kind of await databaseKinds()) {
  describe(`failed-login throttling on ${kind.name}`, () => {
    let h: Harness;
    let clock = Date.parse('2026-11-26T12:00:00Z');
    before(async () => {
      h = await startHarness(kind, { now: () => clock });
      await h.userWithRoles('tess', ['viewer']);
    });
    after(() => h.close());
    const attempt = (username: string, password: string, ip = '203.0.113.7') =>
      h.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: ip,
        payload: { username, password },
      });

    test('after five failures a user name waits, growing; 429 with Retry-After even for the right password', async () => {
      for (let i = 0; i < 5; i++)
        assert.equal((await attempt('tess', 'wrong guess')).statusCode, 401);
      const locked = await attempt('tess', ADMIN_PASSWORD);
      assert.equal(locked.statusCode, 429);
      assert.equal(locked.json().error.code, 'auth.too_many_attempts');
      assert.equal(locked.headers['retry-after'], '1');
      clock += 1_000;
      assert.equal((await attempt('tess', 'wrong again')).statusCode, 401);
      const longer = await attempt('tess', ADMIN_PASSWORD);
      assert.equal(longer.statusCode, 429);
      assert.equal(longer.headers['retry-after'], '2', 'the wait doubles');
      clock += 2_000;
      assert.equal((await attempt('tess', ADMIN_PASSWORD)).statusCode, 200, 'then it works');
      assert.equal((await attempt('tess', 'one wrong')).statusCode, 401, 'and the count restarted');
    });

    test('many simultaneous wrong passwords for one user name: at most five are checked', async () => {
      await h.userWithRoles('rush', ['viewer']);
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          attempt('rush', `wrong guess ${i}`, `10.9.${Math.floor(i / 250)}.${i % 250}`),
        ),
      );
      // Each password checked and found wrong writes one auth.login_failed event.
      const failed = await h.vigil.db.kysely
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('action', '=', 'auth.login_failed')
        .where('actor_label', '=', 'rush')
        .executeTakeFirstOrThrow();
      assert.equal(Number(failed.n), 5);
      const statuses = answers.map((r) => r.statusCode);
      assert.equal(statuses.filter((s) => s === 401).length, 5);
      assert.equal(statuses.filter((s) => s === 429).length, 195);
    });

    test('an unknown user name is treated exactly like a known one', async () => {
      for (let i = 0; i < 5; i++)
        assert.equal((await attempt('nobody-here', 'wrong guess', '198.51.100.1')).statusCode, 401);
      const res = await attempt('nobody-here', 'wrong guess', '198.51.100.1');
      assert.equal(res.statusCode, 429);
      assert.equal(res.headers['retry-after'], '1');
    });

    test('changing one’s own password is throttled with logins: of many simultaneous wrong current passwords, at most five are checked', async () => {
      await h.userWithRoles('pat', ['viewer']);
      const login = await attempt('pat', ADMIN_PASSWORD, '198.51.100.20');
      assert.equal(login.statusCode, 200, login.body);
      const session = login.json().access_token as string;
      const change = (current: string, ip: string) =>
        h.inject({
          method: 'PUT',
          url: '/api/v1/auth/me/password',
          remoteAddress: ip,
          headers: { authorization: `Bearer ${session}` },
          payload: { current_password: current, new_password: 'a brand new passphrase' },
        });
      const answers = await Promise.all(
        Array.from({ length: 60 }, (_, i) => change(`guess${i}`, `10.8.0.${i}`)),
      );
      // Each current password checked and found wrong writes one event.
      const checked = await h.vigil.db.kysely
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('action', '=', 'auth.password_change_failed')
        .where('actor_label', '=', 'pat')
        .executeTakeFirstOrThrow();
      assert.equal(Number(checked.n), 5);
      const statuses = answers.map((r) => r.statusCode);
      assert.equal(statuses.filter((s) => s === 400).length, 5);
      assert.equal(statuses.filter((s) => s === 429).length, 55);
      const refused = answers.find((r) => r.statusCode === 429)!;
      assert.equal(refused.json().error.code, 'auth.too_many_attempts');
      assert.ok(refused.headers['retry-after']);
      const right = await change(ADMIN_PASSWORD, '10.8.1.1');
      assert.equal(right.statusCode, 429, 'even the right password waits');
      assert.equal(
        (await attempt('pat', ADMIN_PASSWORD, '10.8.1.2')).statusCode,
        429,
        'the same count as logins',
      );
      clock += 2_000;
      assert.equal((await change(ADMIN_PASSWORD, '10.8.1.1')).statusCode, 204);
    });

    test('one address guessing many user names is slowed down too', async () => {
      clock += 3_600_000;
      for (let i = 0; i < 20; i++)
        assert.equal((await attempt(`name-${i}`, 'wrong', '192.0.2.50')).statusCode, 401);
      const res = await attempt('tess', ADMIN_PASSWORD, '192.0.2.50');
      assert.equal(res.statusCode, 429);
      assert.equal((await attempt('tess', ADMIN_PASSWORD, '192.0.2.51')).statusCode, 200);
    });
  });
}
