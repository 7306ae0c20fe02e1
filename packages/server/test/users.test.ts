// Over 500 lines: one suite per database kind, each on one server harness; split files would
// each start their own servers (and PostgreSQL databases) again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PERMISSIONS } from '@vigil/protocol';
import { databaseKinds } from '../../../test/support/databases.js';
import { ADMIN_PASSWORD, startHarness, type Harness } from '../../../test/support/harness.js';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const NEW_PASSWORD = 'a different long passphrase';

for (const kind of await databaseKinds()) {
  describe(`users and roles on ${kind.name}`, () => {
    let h: Harness;
    let admin: string;
    const call = (method: string, url: string, token: string, payload?: unknown) =>
      h.inject({
        method: method as 'GET',
        url,
        headers: bearer(token),
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    const actions = async (resourceId: string) =>
      (
        await h.vigil.db.kysely
          .selectFrom('audit_events')
          .select('action')
          .where('resource_id', '=', resourceId)
          .orderBy('occurred_at')
          .execute()
      ).map((r) => r.action);

    before(async () => {
      h = await startHarness(kind);
      admin = await h.login();
    });
    after(() => h.close());

    test('create, read, list and update a user; roles by name or id; every change audited', async () => {
      const created = await call('POST', '/api/v1/users', admin, {
        username: 'olga',
        email: 'olga@example.com',
        password: ADMIN_PASSWORD,
        roles: ['operator'],
      });
      assert.equal(created.statusCode, 201, created.body);
      const u = created.json();
      assert.deepEqual(u.roles, ['operator']);
      assert.equal(u.role, 'operator');
      assert.equal(u.disabled, false);
      assert.equal('password' in u || 'password_hash' in u, false);

      const list = (await call('GET', '/api/v1/users', admin)).json().users;
      assert.deepEqual(
        list.map((x: { username: string }) => x.username),
        ['admin', 'olga'],
      );
      assert.equal(
        (await call('GET', `/api/v1/users/${u.id}`, admin)).json().email,
        'olga@example.com',
      );

      const viewer = (await call('GET', '/api/v1/roles/viewer', admin)).json();
      const put = await call('PUT', `/api/v1/users/${u.id}`, admin, {
        email: 'o@example.org',
        roles: ['operator', viewer.id],
      });
      assert.equal(put.statusCode, 200, put.body);
      assert.deepEqual(put.json().roles.sort(), ['operator', 'viewer']);
      const patch = await call('PATCH', `/api/v1/users/${u.id}`, admin, { roles: ['viewer'] });
      assert.deepEqual(patch.json().roles, ['viewer']);
      assert.equal(patch.json().email, 'o@example.org', 'PATCH leaves what it does not name');
      assert.deepEqual(await actions(u.id), ['user.create', 'user.update', 'user.update']);

      for (const [method, url, body, status, code] of [
        [
          'POST',
          '/api/v1/users',
          { username: 'olga', password: ADMIN_PASSWORD },
          409,
          'user.exists',
        ],
        ['POST', '/api/v1/users', { username: 'x', password: 'short' }, 400, 'auth.weak_password'],
        [
          'POST',
          '/api/v1/users',
          { username: 'bad name', password: ADMIN_PASSWORD },
          400,
          undefined,
        ],
        [
          'POST',
          '/api/v1/users',
          { username: 'y', password: ADMIN_PASSWORD, roles: ['nope'] },
          400,
          'role.unknown',
        ],
        [
          'POST',
          '/api/v1/users',
          { username: 'z', password: ADMIN_PASSWORD, extra: 1 },
          400,
          undefined,
        ],
        ['PATCH', `/api/v1/users/${u.id}`, { email: 'not-an-address' }, 400, undefined],
        [
          'GET',
          '/api/v1/users/00000000-0000-4000-8000-000000000000',
          undefined,
          404,
          'user.not_found',
        ],
        ['PUT', '/api/v1/users/nope', { email: null }, 404, 'user.not_found'],
      ] as const) {
        const res = await call(method, url, admin, body);
        assert.equal(
          res.statusCode,
          status,
          `${method} ${url} ${JSON.stringify(body)}: ${res.body}`,
        );
        if (code) assert.equal(res.json().error.code, code);
      }
    });

    test('disabling a user refuses their login and their existing token at once; enabling restores login', async () => {
      const token = await h.userWithRoles('dora', ['viewer']);
      const id = (await call('GET', '/api/v1/auth/me', token)).json().id;
      assert.equal((await call('GET', '/api/v1/agents', token)).statusCode, 200);
      const del = await call('DELETE', `/api/v1/users/${id}`, admin);
      assert.equal(del.statusCode, 204);
      const refused = await call('GET', '/api/v1/agents', token);
      assert.equal(refused.statusCode, 401);
      await assert.rejects(h.login('dora'), /401/);
      assert.equal((await call('GET', `/api/v1/users/${id}`, admin)).json().disabled, true);
      const enable = await call('POST', `/api/v1/users/${id}:enable`, admin);
      assert.equal(enable.statusCode, 200);
      assert.equal(enable.json().disabled, false);
      assert.ok(await h.login('dora'));
      assert.equal(
        (await call('POST', `/api/v1/users/${id}:disable`, admin)).json().disabled,
        true,
      );
      assert.deepEqual(await actions(id), [
        'user.create',
        'user.disable',
        'auth.login_failed',
        'user.enable',
        'user.disable',
      ]);
      assert.equal((await call('POST', `/api/v1/users/${id}:explode`, admin)).statusCode, 404);
    });

    test('the last enabled admin cannot be disabled or lose the admin role', async () => {
      const me = (await call('GET', '/api/v1/auth/me', admin)).json();
      for (const [method, url, body] of [
        ['DELETE', `/api/v1/users/${me.id}`, undefined],
        ['POST', `/api/v1/users/${me.id}:disable`, undefined],
        ['POST', `/api/v1/users/${me.id}/roles:unassign`, { role_id: 'admin' }],
        ['PUT', `/api/v1/users/${me.id}`, { roles: ['viewer'] }],
      ] as const) {
        const res = await call(method, url, admin, body);
        assert.equal(res.statusCode, 409, `${method} ${url}: ${res.body}`);
        assert.equal(res.json().error.code, 'user.last_admin');
      }
      // With a second admin, the first may step down.
      const second = await call('POST', '/api/v1/users', admin, {
        username: 'root2',
        password: ADMIN_PASSWORD,
        roles: ['admin'],
      });
      const unassign = await call('POST', `/api/v1/users/${me.id}/roles:unassign`, admin, {
        role_id: 'admin',
      });
      assert.equal(unassign.statusCode, 200, unassign.body);
      const admin2 = await h.login('root2');
      const back = await call('POST', `/api/v1/users/${me.id}/roles:assign`, admin2, {
        role_id: 'admin',
      });
      assert.deepEqual(back.json().roles, ['admin']);
      assert.equal(
        (await call('POST', `/api/v1/users/${second.json().id}:disable`, admin2)).statusCode,
        200,
      );
      admin = await h.login();
    });

    test('an administrator reset forces a password change before anything else', async () => {
      const token = await h.userWithRoles('rita', ['operator']);
      const id = (await call('GET', '/api/v1/auth/me', token)).json().id;
      const bad = await call('POST', `/api/v1/users/${id}:reset-password`, admin, { pw: 'x' });
      assert.equal(bad.statusCode, 400);
      const reset = await call('POST', `/api/v1/users/${id}:reset-password`, admin);
      assert.equal(reset.statusCode, 200, reset.body);
      const temporary = reset.json().temporary_password as string;
      assert.ok(temporary.length >= 16);
      assert.equal((await call('GET', '/api/v1/agents', token)).statusCode, 401, 'sessions ended');
      const pair = await h.loginPair('rita', temporary);
      assert.equal(pair.user.must_change_password, true);
      const blocked = await call('GET', '/api/v1/agents', pair.access_token);
      assert.equal(blocked.statusCode, 403);
      assert.equal(blocked.json().error.code, 'auth.password_change_required');
      assert.equal((await call('GET', '/api/v1/auth/me', pair.access_token)).statusCode, 200);
      const wrong = await call('POST', '/api/v1/auth/password:change', pair.access_token, {
        current_password: 'not it at all',
        new_password: NEW_PASSWORD,
      });
      assert.equal(wrong.statusCode, 400);
      assert.equal(wrong.json().error.code, 'auth.wrong_password');
      const weak = await call('POST', '/api/v1/auth/password:change', pair.access_token, {
        current_password: temporary,
        new_password: 'short',
      });
      assert.equal(weak.json().error.code, 'auth.weak_password');
      const ok = await call('POST', '/api/v1/auth/password:change', pair.access_token, {
        current_password: temporary,
        new_password: NEW_PASSWORD,
      });
      assert.equal(ok.statusCode, 204, ok.body);
      assert.equal((await call('GET', '/api/v1/agents', pair.access_token)).statusCode, 200);
      // Tyto's admin reset, with a chosen password.
      const put = await call('PUT', `/api/v1/users/${id}/password`, admin, {
        new_password: 'chosen by the administrator',
      });
      assert.equal(put.statusCode, 200);
      assert.equal(put.json().temporary_password, undefined);
      assert.equal(
        (await h.loginPair('rita', 'chosen by the administrator')).user.must_change_password,
        true,
      );
      assert.deepEqual(await actions(id), [
        'user.create',
        'user.password_reset',
        'auth.password_change_failed',
        'auth.password_change',
        'user.password_reset',
      ]);
    });

    test('changing one’s own password ends the other sessions, not the current one', async () => {
      const first = await h.userWithRoles('sam', ['viewer']);
      const second = await h.login('sam');
      const res = await call('PUT', '/api/v1/auth/me/password', second, {
        current_password: ADMIN_PASSWORD,
        new_password: NEW_PASSWORD,
      });
      assert.equal(res.statusCode, 204, res.body);
      assert.equal((await call('GET', '/api/v1/auth/me', first)).statusCode, 401);
      assert.equal((await call('GET', '/api/v1/auth/me', second)).statusCode, 200);
      await assert.rejects(h.login('sam'), /401/);
      assert.ok(await h.login('sam', NEW_PASSWORD));
      const email = await call('PUT', '/api/v1/auth/me', second, { email: 'sam@example.com' });
      assert.equal(email.statusCode, 200);
      assert.equal(email.json().email, 'sam@example.com');
    });

    test('roles: built-in ones are fixed, custom ones take only registry permissions', async () => {
      const roles = (await call('GET', '/api/v1/roles', admin)).json().roles;
      const system = roles.filter((r: { is_system: boolean }) => r.is_system);
      assert.deepEqual(system.map((r: { name: string }) => r.name).sort(), [
        'admin',
        'auditor',
        'operator',
        'security_admin',
        'viewer',
      ]);
      const adminRole = system.find((r: { name: string }) => r.name === 'admin');
      for (const [method, body] of [
        ['PUT', { description: 'mine now' }],
        ['DELETE', undefined],
      ] as const) {
        const res = await call(method, `/api/v1/roles/${adminRole.id}`, admin, body);
        assert.equal(res.statusCode, 409);
        assert.equal(res.json().error.code, 'role.system');
      }
      for (const permissions of [['weather:view'], ['agents:fly'], ['nope:*'], ['a:b:c'], ['']]) {
        const res = await call('POST', '/api/v1/roles', admin, { name: 'bad', permissions });
        assert.equal(res.statusCode, 400, `${permissions}: ${res.body}`);
      }
      const created = await call('POST', '/api/v1/roles:create', admin, {
        name: 'agent-keeper',
        description: 'Manages agents',
        permissions: ['agents:*', 'host:read'],
      });
      assert.equal(created.statusCode, 201, created.body);
      const role = created.json();
      assert.equal(role.is_system, false);
      assert.equal(
        (await call('POST', '/api/v1/roles', admin, { name: 'agent-keeper', permissions: [] }))
          .statusCode,
        409,
      );
      const token = await h.userWithRoles('kim', ['agent-keeper']);
      const perms = (await call('GET', '/api/v1/auth/me/permissions', token)).json();
      assert.deepEqual(perms.permissions, ['agents:read', 'agents:write', 'host:read']);
      assert.equal((await call('GET', '/api/v1/users', token)).statusCode, 403);
      const changed = await call('PUT', `/api/v1/roles/${role.id}`, admin, {
        permissions: ['agents:read', 'users:read'],
      });
      assert.equal(changed.statusCode, 200);
      assert.equal(
        (await call('GET', '/api/v1/users', token)).statusCode,
        200,
        'takes effect at once',
      );
      const inUse = await call('DELETE', `/api/v1/roles/${role.id}`, admin);
      assert.equal(inUse.statusCode, 409);
      assert.equal(inUse.json().error.code, 'role.in_use');
      const kim = (await call('GET', '/api/v1/auth/me', token)).json().id;
      await call('POST', `/api/v1/users/${kim}/roles:unassign`, admin, { role_id: role.id });
      assert.equal((await call('DELETE', `/api/v1/roles/${role.id}`, admin)).statusCode, 204);
      assert.equal((await call('GET', `/api/v1/roles/${role.id}`, admin)).statusCode, 404);
      assert.deepEqual(await actions(role.id), ['role.create', 'role.update', 'role.delete']);
    });

    test('PUT and DELETE name a role by name as GET does (and still by id)', async () => {
      const created = await call('POST', '/api/v1/roles', admin, {
        name: 'night-shift',
        permissions: ['host:read'],
      });
      assert.equal(created.statusCode, 201, created.body);
      const id = created.json().id;
      const byName = await call('PUT', '/api/v1/roles/night-shift', admin, {
        description: 'Nights',
        permissions: ['host:read', 'agents:read'],
      });
      assert.equal(byName.statusCode, 200, byName.body);
      assert.equal(byName.json().id, id);
      assert.deepEqual(byName.json().permissions, ['host:read', 'agents:read']);
      const renamed = await call('PUT', '/api/v1/roles/night-shift', admin, { name: 'late-shift' });
      assert.equal(renamed.statusCode, 200, renamed.body);
      assert.equal((await call('GET', '/api/v1/roles/late-shift', admin)).json().id, id);
      const byId = await call('PUT', `/api/v1/roles/${id}`, admin, { description: 'Late' });
      assert.equal(byId.statusCode, 200, byId.body);
      const builtIn = await call('PUT', '/api/v1/roles/viewer', admin, { description: 'x' });
      assert.equal(builtIn.statusCode, 409);
      assert.equal(builtIn.json().error.code, 'role.system');
      assert.equal((await call('DELETE', '/api/v1/roles/viewer', admin)).statusCode, 409);
      assert.equal((await call('PUT', '/api/v1/roles/no-such', admin, {})).statusCode, 404);
      assert.equal((await call('DELETE', '/api/v1/roles/no-such', admin)).statusCode, 404);
      assert.equal((await call('DELETE', '/api/v1/roles/late-shift', admin)).statusCode, 204);
      assert.equal((await call('GET', `/api/v1/roles/${id}`, admin)).statusCode, 404);
      assert.deepEqual(await actions(id), [
        'role.create',
        'role.update',
        'role.update',
        'role.update',
        'role.delete',
      ]);
    });

    test('a role may not be named like a role id', async () => {
      const victim = await call('POST', '/api/v1/roles', admin, {
        name: 'victim',
        permissions: ['host:read'],
      });
      assert.equal(victim.statusCode, 201, victim.body);
      const id = victim.json().id as string;
      const decoy = await call('POST', '/api/v1/roles', admin, {
        name: 'decoy',
        permissions: ['host:read'],
      });
      for (const [method, url, body] of [
        ['POST', '/api/v1/roles', { name: id, permissions: ['host:read'] }],
        ['POST', '/api/v1/roles', { name: id.toUpperCase(), permissions: [] }],
        [
          'POST',
          '/api/v1/roles',
          { name: '00000000-0000-4000-8000-000000000000', permissions: [] },
        ],
        ['PUT', '/api/v1/roles/decoy', { name: id }],
      ] as const) {
        const res = await call(method, url, admin, body);
        assert.equal(res.statusCode, 400, `${method} ${url} ${JSON.stringify(body)}: ${res.body}`);
        assert.equal(res.json().error.code, 'role.name_is_id');
      }
      assert.equal(
        (await call('GET', `/api/v1/roles/${decoy.json().id}`, admin)).json().name,
        'decoy',
      );
      assert.equal((await call('DELETE', `/api/v1/roles/${id}`, admin)).statusCode, 204);
      assert.equal((await call('GET', '/api/v1/roles/decoy', admin)).statusCode, 200, 'untouched');
    });

    test('the permission registry and the caller’s effective permissions', async () => {
      const reg = (await call('GET', '/api/v1/auth/permissions:registry', admin)).json();
      assert.deepEqual(
        reg.permissions.map((p: { name: string }) => p.name),
        PERMISSIONS.map((p) => p.name),
      );
      assert.ok(reg.permissions.every((p: { description: string }) => p.description.length > 10));
      const viewer = await h.userWithRoles('vera', ['viewer']);
      const mine = (await call('GET', '/api/v1/auth/me/permissions', viewer)).json();
      assert.ok(!mine.permissions.includes('audit:read'));
      assert.ok(
        mine.permissions.every((p: string) => p.endsWith(':read') || p === 'dashboard:view'),
      );
      assert.deepEqual(mine.grants, ['*:read', 'dashboard:view']);
    });

    test('self-registration is off by default', async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { username: 'eve', password: ADMIN_PASSWORD },
      });
      assert.equal(res.statusCode, 403);
      assert.equal(res.json().error.code, 'auth.registration_disabled');
    });
  });

  describe(`no caller grants more than it holds on ${kind.name}`, () => {
    let h: Harness;
    let admin: string;
    const ids: Record<string, string> = {};
    const call = (method: string, url: string, token: string, payload?: unknown) =>
      h.inject({
        method: method as 'GET',
        url,
        headers: bearer(token),
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    const events = async () =>
      Number(
        (
          await h.vigil.db.kysely
            .selectFrom('audit_events')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    // Every route that grants or takes permissions, each asked for more than the caller holds.
    const beyond = (): readonly (readonly [string, string, string, unknown])[] => [
      ['create a role with *', 'POST', '/api/v1/roles', { name: 'evil', permissions: ['*'] }],
      [
        'create a role with a permission not held',
        'POST',
        '/api/v1/roles:create',
        { name: 'evil', permissions: ['audit:read'] },
      ],
      [
        'create a role with a pattern not held',
        'POST',
        '/api/v1/roles',
        { name: 'evil', permissions: ['*:read'] },
      ],
      ['widen a role to *', 'PUT', '/api/v1/roles/reader', { permissions: ['*'] }],
      [
        'widen a role by id',
        'PUT',
        `/api/v1/roles/${ids.reader}`,
        { permissions: ['host:read', 'audit:read'] },
      ],
      ['change a role beyond', 'PUT', '/api/v1/roles/auditing', { description: 'mine' }],
      ['delete a role beyond', 'DELETE', '/api/v1/roles/auditing', undefined],
      [
        'create an admin user',
        'POST',
        '/api/v1/users',
        { username: 'mallory', password: ADMIN_PASSWORD, roles: ['admin'] },
      ],
      [
        'PATCH a user to admin',
        'PATCH',
        `/api/v1/users/${ids.low}`,
        { roles: ['reader', 'admin'] },
      ],
      ['PUT a role beyond on a user', 'PUT', `/api/v1/users/${ids.low}`, { roles: ['auditing'] }],
      ['assign admin', 'POST', `/api/v1/users/${ids.low}/roles:assign`, { role_id: 'admin' }],
      ['unassign admin', 'POST', `/api/v1/users/${ids.boss}/roles:unassign`, { role_id: 'admin' }],
      ['reset an admin password', 'POST', `/api/v1/users/${ids.boss}:reset-password`, undefined],
      [
        'set an admin password',
        'PUT',
        `/api/v1/users/${ids.boss}/password`,
        { new_password: 'now I know it, says the caller' },
      ],
      ['reset an admin MFA', 'POST', `/api/v1/users/${ids.boss}:reset-mfa`, undefined],
      ['change an admin', 'PATCH', `/api/v1/users/${ids.boss}`, { email: 'me@example.com' }],
      ['disable an admin', 'POST', `/api/v1/users/${ids.boss}:disable`, undefined],
      ['delete an admin', 'DELETE', `/api/v1/users/${ids.boss}`, undefined],
      ['enable an admin', 'POST', `/api/v1/users/${ids.boss}:enable`, undefined],
      [
        'create an admin client',
        'POST',
        '/api/v1/oauth/clients',
        { client_id: 'sneaky', allow_client_credentials: true, roles: ['admin'] },
      ],
      [
        'give a client a role beyond',
        'PATCH',
        `/api/v1/oauth/clients/${ids.lowClient}`,
        { roles: ['auditing'] },
      ],
      [
        'turn on client_credentials of an admin client',
        'PATCH',
        `/api/v1/oauth/clients/${ids.adminClient}`,
        { allow_client_credentials: true },
      ],
      [
        'turn on the password grant of an admin client',
        'PATCH',
        `/api/v1/oauth/clients/${ids.adminClient}`,
        { allow_password: true },
      ],
      ['delete an admin client', 'DELETE', `/api/v1/oauth/clients/${ids.adminClient}`, undefined],
    ];

    before(async () => {
      h = await startHarness(kind);
      admin = await h.login();
      const must = async (method: string, url: string, body: unknown) => {
        const res = await call(method, url, admin, body);
        assert.ok(res.statusCode < 300, `${method} ${url}: ${res.body}`);
        return res.json() as { id: string; client_secret?: string };
      };
      const delegate = ['users:*', 'roles:*', 'oauth:*', 'host:read', 'metrics:read'];
      await must('POST', '/api/v1/roles', { name: 'delegate', permissions: delegate });
      ids.reader = (
        await must('POST', '/api/v1/roles', { name: 'reader', permissions: ['host:read'] })
      ).id;
      await must('POST', '/api/v1/roles', { name: 'auditing', permissions: ['audit:read'] });
      for (const [username, roles] of [
        ['low', ['reader']],
        ['boss', ['admin']],
      ] as const)
        ids[username] = (
          await must('POST', '/api/v1/users', { username, password: ADMIN_PASSWORD, roles })
        ).id;
      ids.lowClient = (
        await must('POST', '/api/v1/oauth/clients', {
          client_id: 'low-client',
          allow_client_credentials: true,
          allow_password: false,
          roles: ['reader'],
        })
      ).id;
      ids.adminClient = (
        await must('POST', '/api/v1/oauth/clients', {
          client_id: 'admin-client',
          allow_client_credentials: false,
          allow_password: false,
          roles: ['admin'],
        })
      ).id;
    });
    after(() => h.close());

    const callers: readonly (readonly [string, () => Promise<string>])[] = [
      ['a user', () => h.userWithRoles('delegated-user', ['delegate'])],
      [
        'a machine client',
        async () => {
          const res = await call('POST', '/api/v1/oauth/clients', admin, {
            client_id: 'delegated-bot',
            allow_client_credentials: true,
            roles: ['delegate'],
          });
          assert.equal(res.statusCode, 201, res.body);
          const t = await h.inject({
            method: 'POST',
            url: '/oauth/token',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            payload: new URLSearchParams({
              grant_type: 'client_credentials',
              client_id: 'delegated-bot',
              client_secret: res.json().client_secret,
            }).toString(),
          });
          assert.equal(t.statusCode, 200, t.body);
          return t.json().access_token as string;
        },
      ],
    ];
    for (const [who, tokenOf] of callers)
      test(`${who} holding users:*, roles:* and oauth:* is refused 403 role.escalation on every granting route`, async () => {
        const caller = await tokenOf();
        const before = await events();
        for (const [what, method, url, body] of beyond()) {
          const res = await call(method, url, caller, body);
          assert.equal(res.statusCode, 403, `${what}: ${res.body}`);
          assert.equal(res.json().error.code, 'role.escalation', what);
          assert.match(res.json().error.human_message, /do not hold yourself/, what);
        }
        assert.equal(await events(), before, 'nothing was changed');
        const boss = (await call('GET', `/api/v1/users/${ids.boss}`, admin)).json();
        assert.deepEqual(boss.roles, ['admin']);
        assert.equal(boss.disabled, false);
        const adminClient = (
          await call('GET', `/api/v1/oauth/clients/${ids.adminClient}`, admin)
        ).json();
        assert.equal(adminClient.allow_client_credentials, false);
        assert.equal(adminClient.allow_password, false);
        assert.deepEqual((await call('GET', '/api/v1/roles/reader', admin)).json().permissions, [
          'host:read',
        ]);
        assert.equal((await call('GET', '/api/v1/roles/evil', admin)).statusCode, 404);
      });

    test('within what it holds, a delegated caller may grant', async () => {
      const caller = await h.userWithRoles('delegated-too', ['delegate']);
      for (const [what, method, url, body] of [
        [
          'a role with held permissions and patterns',
          'POST',
          '/api/v1/roles',
          { name: 'helpers', permissions: ['host:read', 'users:*'] },
        ],
        ['widen a role within', 'PUT', '/api/v1/roles/helpers', { permissions: ['roles:*'] }],
        [
          'a user with held roles',
          'POST',
          '/api/v1/users',
          { username: 'helper', password: ADMIN_PASSWORD, roles: ['reader', 'delegate'] },
        ],
        [
          'assign a held role',
          'POST',
          `/api/v1/users/${ids.low}/roles:assign`,
          { role_id: 'delegate' },
        ],
        [
          'unassign a held role',
          'POST',
          `/api/v1/users/${ids.low}/roles:unassign`,
          { role_id: 'delegate' },
        ],
        ['reset a password within', 'POST', `/api/v1/users/${ids.low}:reset-password`, undefined],
        [
          'a grant of a client within',
          'PATCH',
          `/api/v1/oauth/clients/${ids.lowClient}`,
          { allow_password: true },
        ],
      ] as const) {
        const res = await call(method, url, caller, body);
        assert.ok([200, 201].includes(res.statusCode), `${what}: ${res.body}`);
      }
    });

    test('an administrator holding * grants anything', async () => {
      for (const [method, url, body] of [
        ['POST', '/api/v1/roles', { name: 'everything', permissions: ['*'] }],
        ['PUT', '/api/v1/roles/auditing', { permissions: ['audit:read', '*:read'] }],
        ['POST', `/api/v1/users/${ids.low}/roles:assign`, { role_id: 'auditing' }],
        ['PATCH', `/api/v1/oauth/clients/${ids.adminClient}`, { allow_client_credentials: true }],
      ] as const) {
        const res = await call(method, url, admin, body);
        assert.ok([200, 201].includes(res.statusCode), `${method} ${url}: ${res.body}`);
      }
    });
  });

  describe(`self-registration on ${kind.name}`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness(kind, { env: { VIGIL_AUTH_ALLOW_REGISTRATION: 'true' } });
    });
    after(() => h.close());

    test('when allowed, a registered user is a viewer and can log in', async () => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { username: 'newbie', password: ADMIN_PASSWORD, email: 'n@example.com' },
      });
      assert.equal(res.statusCode, 201, res.body);
      assert.deepEqual(res.json().roles, ['viewer']);
      const pair = await h.loginPair('newbie');
      assert.deepEqual(pair.user.roles, ['viewer']);
      const ev = await h.vigil.db.kysely
        .selectFrom('audit_events')
        .selectAll()
        .where('resource_id', '=', res.json().id)
        .executeTakeFirstOrThrow();
      assert.equal(ev.action, 'user.create');
      assert.equal(ev.actor_label, 'newbie');
      assert.ok(!JSON.stringify(ev).includes(ADMIN_PASSWORD));
      const again = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { username: 'newbie', password: ADMIN_PASSWORD },
      });
      assert.equal(again.statusCode, 409);
    });
  });
}
