import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { systemContext } from '../src/audit/service.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

const ctx = systemContext('test');
const ICINGA2 = '/usr/sbin/icinga2';

/**
 * Validates Icinga 2 configuration with `icinga2 daemon -C`: a temporary directory holds a
 * minimal icinga2.conf (the ITL, the plugin commands, then `config`) and every directory the
 * daemon writes to, so nothing is left behind. Returns the exit status and output; undefined
 * when icinga2 is not installed (an error under CI=true).
 */
function icinga2Validate(config: string): { status: number | null; output: string } | undefined {
  if (!existsSync(ICINGA2)) {
    if (process.env.CI === 'true') assert.fail(`${ICINGA2} is required under CI=true`);
    return undefined;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-icinga2-'));
  try {
    const dirs = Object.fromEntries(
      ['CacheDir', 'DataDir', 'LogDir', 'SpoolDir', 'InitRunDir'].map((c) => {
        const d = path.join(dir, c);
        mkdirSync(d);
        return [c, d];
      }),
    );
    writeFileSync(path.join(dir, 'vigil.conf'), config);
    writeFileSync(
      path.join(dir, 'icinga2.conf'),
      [
        'const PluginDir = "/usr/lib/nagios/plugins"',
        'include <itl>',
        'include <plugins>',
        'include "vigil.conf"',
        '',
      ].join('\n'),
    );
    const run = spawnSync(
      ICINGA2,
      [
        'daemon',
        '-C',
        '-c',
        path.join(dir, 'icinga2.conf'),
        ...Object.entries(dirs).flatMap(([c, d]) => ['--define', `Configuration.${c}=${d}`]),
      ],
      {
        encoding: 'utf8',
        // The daemon drops privileges to its user unless told to stay as who runs it.
        env: { ...process.env, ICINGA2_USER: os.userInfo().username, ICINGA2_GROUP: 'root' },
      },
    );
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const kind of await databaseKinds()) {
  describe(`deployments on ${kind.name}`, () => {
    let h: Harness;
    let token: string;
    const api = (method: 'GET' | 'POST', url: string) =>
      h.inject({ method, url, headers: { authorization: `Bearer ${token}` } });
    const director = (method: 'GET' | 'POST', url: string) =>
      h.inject({
        method,
        url: `/director/${url}`,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      });

    before(async () => {
      h = await startHarness(kind);
      token = await h.login();
      const o = h.vigil.objects;
      await o.create(ctx, 'command', {
        object_name: 'vigil-ping',
        command: 'check_ping',
        timeout: '30',
        arguments: {
          '-H': '$address$',
          '-w': { value: '$ping_wrta$,$ping_wpl$%', order: 1 },
          '-c': { value: '$ping_crta$,$ping_cpl$%', order: 2 },
          '-4': { set_if: '$ping_v4$' },
        },
        vars: { ping_wrta: 100, ping_wpl: 5, ping_crta: 200, ping_cpl: 15 },
      });
      await o.create(ctx, 'command', {
        object_name: 'vigil-disk',
        command: '/usr/lib/nagios/plugins/check_disk',
        arguments: { '-p': { value: '$disk_partitions$', repeat_key: true }, '-w': '$disk_w$' },
        vars: { disk_w: '20%' },
      });
      await o.create(ctx, 'hostgroup', {
        object_name: 'web-servers',
        display_name: 'Web "servers"',
      });
      await o.create(ctx, 'host', {
        object_name: 'vigil-base',
        object_type: 'template',
        check_command: 'vigil-ping',
        check_interval: '5m',
        vars: { tier: 'bronze' },
      });
      await o.create(ctx, 'host', {
        object_name: 'vigil-linux',
        object_type: 'template',
        imports: ['vigil-base'],
        has_agent: 'y',
        vars: { os: 'Linux', tier: 'silver' },
      });
      await o.create(ctx, 'service', {
        object_name: 'generic-service',
        object_type: 'template',
        check_interval: 60,
        retry_interval: 30,
      });
      await o.create(ctx, 'host', {
        object_name: 'web1',
        imports: ['vigil-linux'],
        address: '192.0.2.10',
        groups: ['web-servers'],
        vars: { disk_partitions: ['/', '/var'] },
      });
      // No check command anywhere: Icinga's default applies.
      await o.create(ctx, 'host', { object_name: 'printer1', address: '192.0.2.99' });
      await o.create(ctx, 'host', { object_name: 'old1', imports: ['vigil-linux'], disabled: 'y' });
      // Applied to every importer of vigil-linux; web1 replaces ping with its own.
      await o.create(ctx, 'service', {
        object_name: 'ping',
        host: 'vigil-linux',
        imports: ['generic-service'],
        check_command: 'vigil-ping',
        vars: { ping_v4: true },
      });
      await o.create(ctx, 'service', {
        object_name: 'disk',
        // Two levels up from web1: apply rules follow imports at every level.
        host: 'vigil-base',
        imports: ['generic-service'],
        check_command: 'vigil-disk',
      });
      await o.create(ctx, 'service', {
        object_name: 'ping',
        host: 'web1',
        check_command: 'vigil-ping',
        vars: { ping_wrta: 50 },
      });
      await o.create(ctx, 'service', {
        object_name: 'printer-ping',
        host: 'printer1',
        check_command: 'vigil-ping',
      });
    });
    after(() => h.close());

    let first: { id: string; checksum: string };

    test('before the first deploy: nothing active, everything pending', async () => {
      const pending = (await api('GET', '/api/v1/deployments/pending-diff')).json();
      assert.equal(pending.from, null);
      assert.equal(pending.removed.length, 0);
      assert.equal(pending.changed.length, 0);
      assert.ok(
        pending.added.some(
          (a: { name: string; host: string | null }) => a.name === 'ping' && a.host === 'web1',
        ),
      );
      assert.ok(!pending.added.some((a: { name: string }) => a.name === 'old1'));
      const status = await director('GET', 'config/deployment-status');
      assert.equal(status.statusCode, 200);
      assert.equal(status.body, '{\n    "active_configuration": {}\n}\n');
      assert.equal(await h.vigil.deployments.checksFor('no-such-host'), null);
      const none = await api('GET', '/api/v1/deployments/active');
      assert.equal(none.statusCode, 404);
      assert.equal(none.json().error.human_message, 'there is no active deployment yet');
    });

    test('a deploy snapshots the configuration; the same configuration deploys to the same row', async () => {
      const res = await api('POST', '/api/v1/deployments');
      assert.equal(res.statusCode, 200, res.body);
      const d = res.json();
      assert.match(d.checksum, /^[0-9a-f]{40}$/);
      assert.equal(d.created, true);
      assert.equal(d.active, true);
      assert.deepEqual(d.counts, {
        commands: 2,
        hostgroups: 1,
        host_templates: 2,
        hosts: 2,
        service_templates: 1,
        services: 4,
      });
      first = d;
      const again = (await api('POST', '/api/v1/deployments')).json();
      assert.equal(again.checksum, d.checksum);
      assert.equal(again.id, d.id);
      assert.equal(again.created, false);
      const list = (await api('GET', '/api/v1/deployments')).json();
      assert.equal(list.items.length, 1);
      assert.equal(list.items[0].active, true);
      const pending = (await api('GET', '/api/v1/deployments/pending-diff')).json();
      assert.deepEqual(pending, {
        from: d.checksum,
        to: d.checksum,
        added: [],
        removed: [],
        changed: [],
      });
      const audit = (
        await api('GET', `/api/v1/audit/events?action=config.deploy&resource_id=${d.id}`)
      ).json();
      assert.equal(audit.items.length, 2);
      assert.equal(audit.items[0].detail.checksum, d.checksum);
    });

    test('a change shows as pending, deploys to a new active row, and going back reactivates the old', async () => {
      await h.vigil.objects.modify(
        ctx,
        { kind: 'host', name: 'web1' },
        { 'vars.rack': 'r1' },
        'merge',
      );
      const pending = (await api('GET', '/api/v1/deployments/pending-diff')).json();
      assert.deepEqual(pending.added, []);
      assert.deepEqual(pending.changed, [
        { kind: 'host', object_type: 'object', name: 'web1', host: null, keys: ['vars.rack'] },
      ]);
      const second = (await api('POST', '/api/v1/deployments')).json();
      assert.notEqual(second.checksum, first.checksum);
      assert.equal(second.created, true);
      const list = (await api('GET', '/api/v1/deployments?limit=1')).json();
      assert.equal(list.items[0].id, second.id);
      assert.equal(list.items[0].active, true);
      assert.ok(list.next_cursor);
      const older = (
        await api(
          'GET',
          `/api/v1/deployments?limit=1&cursor=${encodeURIComponent(list.next_cursor)}`,
        )
      ).json();
      assert.equal(older.items[0].id, first.id);
      assert.equal(older.items[0].active, false);
      assert.equal(older.next_cursor, null);
      const diff = (
        await api('GET', `/api/v1/deployments/${second.id}/diff?against=${first.id}`)
      ).json();
      assert.equal(diff.from, first.checksum);
      assert.equal(diff.changed[0].keys[0], 'vars.rack');
      const detail = (await api('GET', `/api/v1/deployments/${first.id}`)).json();
      assert.equal(detail.counts.services, 4);
      assert.equal(detail.active, false);

      await h.vigil.objects.modify(
        ctx,
        { kind: 'host', name: 'web1' },
        { 'vars.rack': null },
        'merge',
      );
      const back = await director('POST', 'config/deploy');
      assert.equal(back.statusCode, 200);
      assert.equal(back.body, `{\n    "checksum": "${first.checksum}"\n}\n`);
      const active = (await api('GET', `/api/v1/deployments/${first.id}`)).json();
      assert.equal(active.active, true);
      assert.equal((await api('GET', '/api/v1/deployments')).json().items.length, 2);
      const status = (
        await director(
          'GET',
          `config/deployment-status?configs=${first.checksum},${second.checksum},${'0'.repeat(40)}`,
        )
      ).json();
      assert.deepEqual(status, {
        active_configuration: {
          stage_name: first.id,
          config: first.checksum,
          activity: first.checksum,
        },
        configs: {
          [first.checksum]: 'active',
          [second.checksum]: 'deployed',
          ['0'.repeat(40)]: 'unknown',
        },
      });
    });

    test('Director deploys a stored configuration again by its checksum', async () => {
      const list = (await api('GET', '/api/v1/deployments')).json();
      const second = list.items.find((d: { id: string }) => d.id !== first.id);
      const res = await director('POST', `config/deploy?checksum=${second.checksum}`);
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().checksum, second.checksum);
      assert.equal((await api('GET', `/api/v1/deployments/${second.id}`)).json().active, true);
      const unknown = await director('POST', `config/deploy?checksum=${'0'.repeat(40)}`);
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.json().error, `no deployment has the checksum ${'0'.repeat(40)}`);
      const back = await director('POST', `config/deploy?checksum=${first.checksum}`);
      assert.equal(back.json().checksum, first.checksum);
    });

    test('Director answers GET on config/deploy as Icinga Web does', async () => {
      const res = await director('GET', 'config/deploy');
      assert.equal(res.statusCode, 500);
      assert.equal(res.body, '{"status":"error","message":"Unsupported method: GET"}');
    });

    test('an invalid configuration is refused with every problem listed', async () => {
      await h.vigil.objects.create(ctx, 'service', { object_name: 'nothing', host: 'printer1' });
      await h.vigil.objects.create(ctx, 'service', { object_name: 'nothing2', host: 'web1' });
      const res = await api('POST', '/api/v1/deployments');
      assert.equal(res.statusCode, 400);
      const { error } = res.json();
      assert.equal(error.code, 'deployment.invalid');
      assert.match(error.human_message, /service "nothing" on printer1: has no check_command/);
      assert.match(error.human_message, /service "nothing2" on web1: has no check_command/);
      const viaDirector = await director('POST', 'config/deploy');
      assert.equal(viaDirector.statusCode, 400);
      assert.match(viaDirector.json().error, /has no check_command/);
      await h.vigil.objects.remove(ctx, { kind: 'service', name: 'nothing', host: 'printer1' });
      await h.vigil.objects.remove(ctx, { kind: 'service', name: 'nothing2', host: 'web1' });
    });

    test('two deploys of one new configuration at once store it once', async () => {
      await h.vigil.objects.modify(
        ctx,
        { kind: 'host', name: 'printer1' },
        { 'vars.floor': 2 },
        'merge',
      );
      const both = await Promise.all([
        api('POST', '/api/v1/deployments'),
        api('POST', '/api/v1/deployments'),
      ]);
      assert.deepEqual(
        both.map((r) => r.statusCode),
        [200, 200],
        both[1]!.body,
      );
      const [a, b] = both.map((r) => r.json());
      assert.equal(a.checksum, b.checksum);
      assert.deepEqual([a.created, b.created].sort(), [false, true]);
      await h.vigil.objects.modify(
        ctx,
        { kind: 'host', name: 'printer1' },
        { 'vars.floor': null },
        'merge',
      );
      const back = (await api('POST', '/api/v1/deployments')).json();
      assert.equal(back.checksum, first.checksum);
    });

    test('unknown deployments are 404; the deploy needs config:deploy', async () => {
      assert.equal((await api('GET', '/api/v1/deployments/nope')).statusCode, 404);
      assert.equal((await api('GET', '/api/v1/deployments/nope/icinga2')).statusCode, 404);
      assert.equal(
        (await api('GET', `/api/v1/deployments/${first.id}/diff?against=nope`)).statusCode,
        404,
      );
      const viewer = await h.userWithRoles(`viewer-${kind.name}`, ['viewer']);
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/deployments',
        headers: { authorization: `Bearer ${viewer}` },
      });
      assert.equal(res.statusCode, 403);
    });

    test('the active deployment gives agents their host’s checks', async () => {
      const row = await h.vigil.db.kysely
        .selectFrom('hosts')
        .select('id')
        .where('name', '=', 'web1')
        .executeTakeFirstOrThrow();
      const checks = await h.vigil.deployments.checksFor(row.id);
      assert.ok(checks);
      assert.deepEqual(checks.checks, [
        {
          name: 'disk',
          command: ['/usr/lib/nagios/plugins/check_disk', '-p', '/', '-p', '/var', '-w', '20%'],
          interval_seconds: 60,
        },
        {
          name: 'ping',
          command: [
            '/usr/lib/nagios/plugins/check_ping',
            '-H',
            '192.0.2.10',
            '-w',
            '50,5%',
            '-c',
            '200,15%',
          ],
          timeout_seconds: 30,
        },
      ]);
    });

    test('a deployment renders as Icinga 2 configuration that icinga2 daemon -C accepts', async (t) => {
      assert.equal((await api('GET', '/api/v1/deployments/active')).json().id, first.id);
      const res = await api('GET', '/api/v1/deployments/active/icinga2');
      assert.equal(res.statusCode, 200);
      assert.match(res.headers['content-type'] as string, /^text\/plain/);
      const text = res.body;
      for (const expected of [
        'object CheckCommand "vigil-ping" {',
        '    command = [ PluginDir + "/check_ping" ]',
        'object HostGroup "web-servers" {',
        '    display_name = "Web \\"servers\\""',
        'template Host "vigil-linux" {',
        '    import "vigil-base"',
        'object Host "web1" {',
        '    groups = [ "web-servers" ]',
        'object Host "printer1" {',
        '    check_command = "hostalive"',
        'template Service "generic-service" {',
        'object Service "ping" {',
        '    host_name = "web1"',
        'apply Service "ping" {',
        '    assign where "vigil-linux" in host.templates',
        '    ignore where host.name in [ "web1" ]',
        '    assign where "vigil-base" in host.templates',
      ])
        assert.ok(text.includes(expected), `missing: ${expected}\n${text}`);
      assert.ok(!text.includes('old1'));
      if (kind.name !== 'sqlite') return;
      const result = icinga2Validate(text);
      if (!result) return t.skip('icinga2 is not installed');
      assert.equal(result.status, 0, result.output);
      assert.match(result.output, /Instantiated 3 Services/);
    });
  });
}
