import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { systemContext } from '../src/audit/service.js';
import { VigilError } from '../src/errors.js';
import type { ObjectService } from '../src/objects/service.js';
import { createObjectStore } from '../src/objects/store.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

const ctx = systemContext('test');

/** Runs `fn` and returns the VigilError it throws. */
async function failure(fn: () => Promise<unknown>): Promise<VigilError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof VigilError, String(err));
    return err;
  }
  assert.fail('expected an error');
}

for (const kind of await databaseKinds()) {
  describe(`configuration objects on ${kind.name}`, () => {
    let h: Harness;
    let objects: ObjectService;

    before(async () => {
      h = await startHarness(kind);
      objects = h.vigil.objects;
      await objects.create(ctx, 'command', {
        object_name: 'ping4',
        object_type: 'object',
        command: '/usr/lib/nagios/plugins/check_ping',
        arguments: { '-H': '$address$', '-w': { value: '$ping_wrta$,$ping_wpl$%' } },
      });
      // Three levels: base <- linux <- web, and a second line: monitored.
      await objects.create(ctx, 'host', {
        object_name: 'base',
        object_type: 'template',
        check_command: 'ping4',
        check_interval: '5m',
        vars: { owner: 'ops', tier: 'bronze', contact: 'base' },
      });
      await objects.create(ctx, 'host', {
        object_name: 'linux',
        object_type: 'template',
        imports: ['base'],
        vars: { os: 'Linux', tier: 'silver' },
      });
      await objects.create(ctx, 'host', {
        object_name: 'monitored',
        object_type: 'template',
        has_agent: 'y',
        vars: { contact: 'monitored' },
      });
      await objects.create(ctx, 'host', {
        object_name: 'web',
        object_type: 'template',
        imports: ['linux'],
        retry_interval: 30,
        vars: { role: 'web', tier: 'gold' },
      });
    });
    after(() => h.close());

    test('a host resolves three levels of templates, vars merged key by key', async () => {
      const host = await objects.create(ctx, 'host', {
        object_name: 'web1',
        object_type: 'object',
        address: '192.0.2.10',
        imports: ['web', 'monitored'],
        vars: { role: 'frontend' },
      });
      assert.deepEqual(host.imports, ['web', 'monitored']);
      const r = await objects.resolved(host);
      assert.deepEqual(r.vars, {
        owner: 'ops',
        os: 'Linux',
        tier: 'gold',
        contact: 'monitored',
        role: 'frontend',
      });
      assert.deepEqual(r.origins.vars, {
        owner: 'base',
        os: 'linux',
        tier: 'web',
        contact: 'monitored',
        role: null,
      });
      assert.equal(r.properties.check_command, 'ping4');
      assert.equal(r.origins.properties.check_command, 'base');
      assert.equal(r.properties.check_interval, '300');
      assert.equal(r.properties.retry_interval, '30');
      assert.equal(r.properties.has_agent, true);
      assert.equal(r.properties.address, '192.0.2.10');
      assert.equal(r.origins.properties.address, null);
    });

    test('an import loop, or an import of no template, is refused', async () => {
      const loop = await failure(() =>
        objects.modify(ctx, { kind: 'host', name: 'base' }, { imports: ['web'] }, 'merge'),
      );
      assert.equal(loop.code, 'config.cycle');
      assert.match(loop.message, /base -> web -> linux -> base/);
      const self = await failure(() =>
        objects.modify(ctx, { kind: 'host', name: 'linux' }, { imports: ['linux'] }, 'merge'),
      );
      assert.equal(self.code, 'config.cycle');
      const missing = await failure(() =>
        objects.create(ctx, 'host', { object_name: 'x', imports: ['nope'] }),
      );
      assert.equal(missing.code, 'config.unknown_import');
      const notCommand = await failure(() =>
        objects.create(ctx, 'host', { object_name: 'y', check_command: 'nope' }),
      );
      assert.equal(notCommand.code, 'config.unknown_reference');
      const badKey = await failure(() =>
        objects.create(ctx, 'host', { object_name: 'z', colour: 'red' }),
      );
      assert.equal(badKey.message, 'Trying to set invalid key "colour"');
      assert.equal(badKey.kind, 'bad_data');
    });

    test('create twice, merge, replace, no-change and delete', async () => {
      await objects.create(ctx, 'host', { object_name: 'apitest', address: '127.0.0.1' });
      const again = await failure(() =>
        objects.create(ctx, 'host', { object_name: 'apitest', address: '127.0.0.1' }),
      );
      assert.equal(again.message, 'Trying to recreate icinga_host (apitest)');
      assert.equal(again.code, 'config.exists');
      const clash = await failure(() =>
        objects.create(ctx, 'host', { object_name: 'linux', object_type: 'object' }),
      );
      assert.equal(clash.code, 'config.exists');

      const ref = { kind: 'host' as const, name: 'apitest' };
      let c = await objects.modify(ctx, ref, { vars: { location: 'Berlin' } }, 'merge');
      assert.equal(c.changed, true);
      c = await objects.modify(ctx, ref, { 'vars.event': 'Icinga CAMP' }, 'merge');
      assert.deepEqual(c.object.vars, { location: 'Berlin', event: 'Icinga CAMP' });
      c = await objects.modify(ctx, ref, { 'vars.event': 'Icinga CAMP' }, 'merge');
      assert.equal(c.changed, false);
      c = await objects.modify(ctx, ref, { vars: { event: ['Icinga', 'Camp'] } }, 'replace');
      assert.equal(c.changed, true);
      assert.deepEqual(c.object.properties, {});
      assert.deepEqual(c.object.vars, { event: ['Icinga', 'Camp'] });
      c = await objects.modify(ctx, ref, { vars: { event: ['Icinga', 'Camp'] } }, 'replace');
      assert.equal(c.changed, false);
      const gone = await objects.remove(ctx, ref);
      assert.deepEqual(gone.vars, { event: ['Icinga', 'Camp'] });
      const missing = await failure(() => objects.get(ref));
      assert.equal(missing.message, 'Failed to load icinga_host "apitest"');
      // A deleted host's name is free again, and comes back with a fresh configuration.
      const back = await objects.create(ctx, 'host', { object_name: 'apitest' });
      assert.deepEqual(back.vars, {});
      const audit = await h.vigil.db.kysely
        .selectFrom('audit_events')
        .select(['action', 'resource_type'])
        .where('action', 'like', 'config.%')
        .execute();
      assert.ok(audit.some((a) => a.action === 'config.delete' && a.resource_type === 'host'));
      assert.ok(audit.filter((a) => a.action === 'config.update').length >= 3);
    });

    test('objects of one name created at once: one is created, the others get config.exists', async () => {
      for (const [kind, type] of [
        ['host', 'object'],
        ['service', 'template'],
      ] as const) {
        const tries = await Promise.allSettled(
          Array.from({ length: 6 }, () =>
            objects.create(ctx, kind, { object_name: `race-${kind}`, object_type: type }),
          ),
        );
        assert.equal(tries.filter((t) => t.status === 'fulfilled').length, 1, kind);
        for (const t of tries)
          if (t.status === 'rejected') assert.equal((t.reason as VigilError).code, 'config.exists');
      }
      // The store never overwrites a live host of the name, nor clears its key.
      const store = createObjectStore(h.vigil.db.kysely);
      const row = (await store.hostByName('race-host'))!;
      assert.ok(await store.claimHostKey(row.id, 'hash-of-key', Date.now()));
      const again = { ...(await objects.get({ kind: 'host', name: 'race-host' })) };
      assert.equal(await store.insertHost(again, Date.now()), undefined);
      assert.equal((await store.hostByName('race-host'))!.api_key_hash, 'hash-of-key');
    });

    test('a template still imported, a command still run, a group with members stay', async () => {
      const err = await failure(() => objects.remove(ctx, { kind: 'host', name: 'linux' }));
      assert.equal(err.code, 'config.in_use');
      assert.match(err.message, /web/);
      const command = await failure(() => objects.remove(ctx, { kind: 'command', name: 'ping4' }));
      assert.equal(command.code, 'config.in_use');
      assert.match(command.message, /base/);
      await objects.create(ctx, 'hostgroup', { object_name: 'linux-servers' });
      await objects.create(ctx, 'host', { object_name: 'member', groups: 'linux-servers' });
      const group = await failure(() =>
        objects.remove(ctx, { kind: 'hostgroup', name: 'linux-servers' }),
      );
      assert.equal(group.code, 'config.in_use');
      await objects.remove(ctx, { kind: 'host', name: 'member' });
      await objects.remove(ctx, { kind: 'hostgroup', name: 'linux-servers' });
    });

    test('services attached to templates apply to the hosts importing them', async () => {
      await objects.create(ctx, 'service', {
        object_name: 'generic-service',
        object_type: 'template',
        check_interval: 60,
      });
      await objects.create(ctx, 'service', {
        object_name: 'ping',
        object_type: 'object',
        host: 'base',
        imports: ['generic-service'],
        check_command: 'ping4',
      });
      await objects.create(ctx, 'service', {
        object_name: 'http',
        host: 'web',
        check_command: 'ping4',
      });
      await objects.create(ctx, 'service', {
        object_name: 'ping',
        host: 'web1',
        check_command: 'ping4',
        vars: { own: true },
      });
      const web1 = await objects.get({ kind: 'host', name: 'web1' });
      const services = await objects.servicesOf(web1);
      assert.deepEqual(
        services.map((s) => [s.service.object_name, s.from]),
        [
          ['http', 'web'],
          ['ping', null],
        ],
      );
      const listed = await objects.list('service', { host: 'base' });
      assert.deepEqual(
        listed.map((s) => [s.object_name, s.host]),
        [['ping', 'base']],
      );
      const ping = await objects.get({ kind: 'service', name: 'ping', host: 'base' });
      const r = await objects.resolved(ping);
      assert.equal(r.properties.check_interval, '60');
      assert.equal(r.origins.properties.check_interval, 'generic-service');
    });

    test('lists filter by type and search every word', async () => {
      const templates = await objects.list('host', { type: 'template' });
      assert.deepEqual(
        templates.map((t) => t.object_name),
        ['base', 'linux', 'monitored', 'web'],
      );
      const found = await objects.list('host', { q: 'web1 192.0' });
      assert.deepEqual(
        found.map((t) => t.object_name),
        ['web1'],
      );
      assert.deepEqual(await objects.list('host', { q: 'web1 nothing' }), []);
      const commands = await objects.list('command', { q: 'check_ping' });
      assert.deepEqual(
        commands.map((c) => c.object_name),
        ['ping4'],
      );
    });
  });
}
