import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

// The native configuration API: templates, services, commands and host groups as collections, a
// host's configuration and its resolved form, and the inheritance preview.

for (const kind of await databaseKinds()) {
  describe(`configuration API on ${kind.name}`, () => {
    let h: Harness;
    let token: string;

    /** A request as admin; `as` gives another token. */
    const call = (method: string, url: string, payload?: unknown, as?: string) =>
      h.inject({
        method: method as 'GET',
        url,
        headers: {
          authorization: `Bearer ${as ?? token}`,
          ...(typeof payload === 'string' ? { 'content-type': 'application/json' } : {}),
        },
        ...(payload !== undefined ? { payload: payload as object } : {}),
      });

    /** Checks a native error answer's status and code. */
    const fails = async (res: Awaited<ReturnType<typeof call>>, status: number, code?: string) => {
      assert.equal(res.statusCode, status, res.body);
      const e = res.json().error as { code: string; human_message: string };
      assert.equal(typeof e.human_message, 'string');
      if (code) assert.equal(e.code, code, res.body);
    };

    const hostId = async (name: string): Promise<string> => {
      const row = await h.vigil.db.kysely
        .selectFrom('hosts')
        .select('id')
        .where('name', '=', name)
        .executeTakeFirstOrThrow();
      return row.id;
    };

    before(async () => {
      h = await startHarness(kind);
      token = await h.login();
    });
    after(() => h.close());

    test('commands and host groups: create, read, list, change, delete', async () => {
      let res = await call('POST', '/api/v1/commands', {
        object_name: 'ping4',
        properties: {
          command: '/usr/lib/nagios/plugins/check_ping',
          arguments: { '-H': '$address$', '-w': { value: '$ping_wrta$,$ping_wpl$%' } },
        },
        vars: { ping_wrta: 100 },
      });
      assert.equal(res.statusCode, 201, res.body);
      assert.deepEqual(res.json(), {
        kind: 'command',
        object_type: 'object',
        object_name: 'ping4',
        host: null,
        imports: [],
        vars: { ping_wrta: 100 },
        properties: {
          command: '/usr/lib/nagios/plugins/check_ping',
          arguments: { '-H': '$address$', '-w': { value: '$ping_wrta$,$ping_wpl$%' } },
        },
        disabled: false,
      });
      await fails(
        await call('POST', '/api/v1/commands', { object_name: 'ping4' }),
        409,
        'config.exists',
      );
      res = await call('GET', '/api/v1/commands?q=check_ping');
      assert.deepEqual(
        (res.json().items as { object_name: string }[]).map((o) => o.object_name),
        ['ping4'],
      );
      res = await call('PATCH', '/api/v1/commands/ping4', { properties: { timeout: '1m' } });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().properties.timeout, '60');
      assert.equal(res.json().properties.command, '/usr/lib/nagios/plugins/check_ping');

      res = await call('POST', '/api/v1/host-groups', {
        object_name: 'web',
        properties: { display_name: 'Web servers' },
      });
      assert.equal(res.statusCode, 201, res.body);
      res = await call('GET', '/api/v1/host-groups/web');
      assert.equal(res.json().properties.display_name, 'Web servers');
      await fails(
        await call('POST', '/api/v1/host-groups', { object_name: 'db', vars: { a: 1 } }),
        400,
        'config.invalid',
      );
      res = await call('POST', '/api/v1/host-groups', { object_name: 'gone' });
      assert.equal(res.statusCode, 201);
      res = await call('DELETE', '/api/v1/host-groups/gone');
      assert.equal(res.statusCode, 204);
      await fails(await call('GET', '/api/v1/host-groups/gone'), 404, 'config.not_found');
    });

    test('host templates: merge patch, replace, cycles, unknown imports, in use', async () => {
      let res = await call('POST', '/api/v1/host-templates', {
        object_name: 'base',
        imports: [],
        vars: { owner: 'ops', tier: 'bronze' },
        properties: { check_command: 'ping4', check_interval: '5m', enable_active_checks: 'y' },
      });
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json().object_type, 'template');
      assert.deepEqual(res.json().properties, {
        check_command: 'ping4',
        check_interval: '300',
        enable_active_checks: true,
      });
      res = await call('POST', '/api/v1/host-templates', {
        object_name: 'linux',
        imports: ['base'],
        vars: { os: 'Linux', tier: 'silver' },
      });
      assert.equal(res.statusCode, 201, res.body);
      // PATCH: each var on its own, null removes one; properties alike; imports untouched.
      res = await call('PATCH', '/api/v1/host-templates/linux', {
        vars: { tier: null, distro: 'Debian' },
        properties: { retry_interval: 30 },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().vars, { os: 'Linux', distro: 'Debian' });
      assert.deepEqual(res.json().imports, ['base']);
      assert.deepEqual(res.json().properties, { retry_interval: '30' });
      // The GET answer sent back as a PATCH changes nothing.
      const same = await call('PATCH', '/api/v1/host-templates/linux', res.json());
      assert.deepEqual(same.json(), res.json());
      // PUT: everything but the name and type is the body's.
      res = await call('PUT', '/api/v1/host-templates/linux', {
        imports: ['base'],
        vars: { os: 'Linux' },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().vars, { os: 'Linux' });
      assert.deepEqual(res.json().properties, {});
      // Bad input: 400 with the native envelope.
      await fails(
        await call('PATCH', '/api/v1/host-templates/base', { imports: ['linux'] }),
        400,
        'config.cycle',
      );
      await fails(
        await call('PATCH', '/api/v1/host-templates/linux', { imports: ['nope'] }),
        400,
        'config.unknown_import',
      );
      await fails(
        await call('PATCH', '/api/v1/host-templates/linux', { properties: { colour: 'red' } }),
        400,
        'config.invalid',
      );
      await fails(
        await call('PATCH', '/api/v1/host-templates/linux', { properties: { has_agent: 'maybe' } }),
        400,
        'config.invalid',
      );
      await fails(
        await call('PATCH', '/api/v1/host-templates/linux', { object_name: 'other' }),
        400,
        'config.invalid',
      );
      await fails(
        await call('PATCH', '/api/v1/host-templates/linux', { properties: { 'vars.x': 1 } }),
        400,
        'config.invalid',
      );
      await fails(
        await call('PATCH', '/api/v1/host-templates/linux', { surprise: 1 }),
        400,
        'validation_failed',
      );
      await fails(
        await call('PATCH', '/api/v1/host-templates/linux', {
          properties: { check_command: 'nope' },
        }),
        400,
        'config.unknown_reference',
      );
      await fails(
        await call('POST', '/api/v1/host-templates', { object_name: 'h', object_type: 'object' }),
        400,
        'config.invalid',
      );
      await fails(await call('POST', '/api/v1/host-templates', { object_name: '' }), 400);
      await fails(await call('POST', '/api/v1/host-templates', '{"object_name":'), 400);
      await fails(await call('GET', '/api/v1/host-templates/nope'), 404, 'config.not_found');
      // A template still imported cannot go.
      await fails(await call('DELETE', '/api/v1/host-templates/base'), 409, 'config.in_use');
      res = await call('GET', '/api/v1/host-templates');
      assert.deepEqual(
        (res.json().items as { object_name: string }[]).map((o) => o.object_name),
        ['base', 'linux'],
      );
    });

    test('services and service templates: host in the body, ?host= on items and lists', async () => {
      let res = await call('POST', '/api/v1/service-templates', {
        object_name: 'generic-service',
        properties: { check_interval: '1m', max_check_attempts: 3 },
      });
      assert.equal(res.statusCode, 201, res.body);
      // Attached to the host template: every host importing it runs it.
      res = await call('POST', '/api/v1/services', {
        object_name: 'ping',
        host: 'base',
        imports: ['generic-service'],
        properties: { check_command: 'ping4' },
      });
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json().host, 'base');
      await fails(
        await call('POST', '/api/v1/services', { object_name: 'nohost' }),
        400,
        'config.invalid',
      );
      await fails(
        await call('POST', '/api/v1/services', { object_name: 'x', host: 'nowhere' }),
        404,
        'config.not_found',
      );
      res = await call('GET', '/api/v1/services/ping?host=base');
      assert.equal(res.statusCode, 200);
      await fails(await call('GET', '/api/v1/services/ping'), 404, 'config.not_found');
      res = await call('GET', '/api/v1/services?host=base');
      assert.deepEqual(
        (res.json().items as { object_name: string }[]).map((o) => o.object_name),
        ['ping'],
      );
      res = await call('PATCH', '/api/v1/services/ping?host=base', { vars: { wrta: 50 } });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().vars, { wrta: 50 });
      res = await call('GET', '/api/v1/service-templates');
      assert.deepEqual(
        (res.json().items as { object_name: string }[]).map((o) => o.object_name),
        ['generic-service'],
      );
      // A service template is not a service, nor the other way round.
      await fails(await call('GET', '/api/v1/services/generic-service'), 404);
      await fails(await call('GET', '/api/v1/service-templates/ping?host=base'), 404);
    });

    test("a host's configuration, resolved with origins and services", async () => {
      // The host itself is created where hosts are; here through the object service.
      const created = await h.inject({
        method: 'POST',
        url: '/director/host',
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        payload: { object_name: 'web1', address: '192.0.2.10' },
      });
      assert.equal(created.statusCode, 201, created.body);
      const id = await hostId('web1');
      let res = await call('GET', `/api/v1/hosts/${id}/config`);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), {
        kind: 'host',
        object_type: 'object',
        object_name: 'web1',
        host: null,
        imports: [],
        vars: {},
        properties: { address: '192.0.2.10' },
        disabled: false,
      });
      res = await call('PATCH', `/api/v1/hosts/${id}/config`, {
        imports: ['linux'],
        vars: { role: 'web', owner: 'web-team' },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().properties, { address: '192.0.2.10' });
      res = await call('GET', `/api/v1/hosts/${id}/config/resolved`);
      assert.equal(res.statusCode, 200, res.body);
      const r = res.json();
      assert.deepEqual(r.vars, { os: 'Linux', owner: 'web-team', tier: 'bronze', role: 'web' });
      assert.deepEqual(r.origins.vars, { os: 'linux', owner: null, tier: 'base', role: null });
      assert.equal(r.properties.check_command, 'ping4');
      assert.equal(r.origins.properties.check_command, 'base');
      assert.equal(r.origins.properties.address, null);
      assert.deepEqual(
        (r.services as { service: { object_name: string }; from: string }[]).map((s) => [
          s.service.object_name,
          s.from,
        ]),
        [['ping', 'base']],
      );
      // PUT replaces: the address goes too.
      res = await call('PUT', `/api/v1/hosts/${id}/config`, { imports: ['base'] });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().properties, {});
      assert.deepEqual(res.json().vars, {});
      await fails(
        await call('PATCH', `/api/v1/hosts/${id}/config`, { host: 'x' }),
        400,
        'config.invalid',
      );
      await fails(await call('GET', '/api/v1/hosts/nope/config'), 404, 'host.not_found');
      await fails(await call('GET', '/api/v1/hosts/nope/config/resolved'), 404, 'host.not_found');
      await fails(await call('PATCH', '/api/v1/hosts/nope/config', {}), 404, 'host.not_found');
    });

    test('the preview resolves an unsaved object', async () => {
      let res = await call('POST', '/api/v1/config/preview', {
        kind: 'host',
        object: { object_name: 'draft', imports: ['linux'], vars: { tier: 'gold' } },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().vars, { owner: 'ops', os: 'Linux', tier: 'gold' });
      assert.deepEqual(res.json().origins.vars, { owner: 'base', os: 'linux', tier: null });
      assert.deepEqual(
        (res.json().services as { service: { object_name: string } }[]).map(
          (s) => s.service.object_name,
        ),
        ['ping'],
      );
      // Nothing was stored.
      await fails(await call('GET', '/api/v1/host-templates/draft'), 404);
      assert.equal(
        (
          await h.vigil.db.kysely
            .selectFrom('hosts')
            .select('id')
            .where('name', '=', 'draft')
            .execute()
        ).length,
        0,
      );
      await fails(
        await call('POST', '/api/v1/config/preview', {
          kind: 'host',
          object: { imports: ['nope'] },
        }),
        400,
        'config.unknown_import',
      );
      await fails(
        await call('POST', '/api/v1/config/preview', { kind: 'toaster', object: {} }),
        400,
        'validation_failed',
      );
      res = await call('POST', '/api/v1/config/preview', {
        kind: 'service',
        object: { imports: ['generic-service'], properties: { check_interval: 30 } },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().properties, { check_interval: '30', max_check_attempts: '3' });
      assert.deepEqual(res.json().services, []);
    });

    test('permissions: config:read reads, config:write changes', async () => {
      const viewer = await h.userWithRoles('cfgviewer', ['viewer']);
      assert.equal(
        (await call('GET', '/api/v1/host-templates', undefined, viewer)).statusCode,
        200,
      );
      assert.equal(
        (await call('POST', '/api/v1/config/preview', { kind: 'host', object: {} }, viewer))
          .statusCode,
        200,
      );
      await fails(
        await call('POST', '/api/v1/host-groups', { object_name: 'v' }, viewer),
        403,
        'auth.forbidden',
      );
      await fails(
        await call('PATCH', '/api/v1/host-templates/base', { vars: {} }, viewer),
        403,
        'auth.forbidden',
      );
      const anonymous = await h.inject({ url: '/api/v1/commands' });
      assert.equal(anonymous.statusCode, 401);
    });

    test('every change is audited', async () => {
      const events = await h.vigil.db.kysely
        .selectFrom('audit_events')
        .select(['action', 'resource_type'])
        .where('action', 'like', 'config.%')
        .execute();
      const has = (action: string, type: string) =>
        events.some((e) => e.action === action && e.resource_type === type);
      assert.ok(has('config.create', 'command'));
      assert.ok(has('config.update', 'command'));
      assert.ok(has('config.create', 'hostgroup'));
      assert.ok(has('config.delete', 'hostgroup'));
      assert.ok(has('config.create', 'host_template'));
      assert.ok(has('config.update', 'host_template'));
      assert.ok(has('config.create', 'service_template'));
      assert.ok(has('config.create', 'service'));
      assert.ok(has('config.update', 'service'));
      assert.ok(has('config.update', 'host'));
      // Refused changes leave no event: the failed cycle attempt wrote none.
      assert.equal(
        events.filter((e) => e.action === 'config.update' && e.resource_type === 'host_template')
          .length,
        2,
      );
    });
  });
}
