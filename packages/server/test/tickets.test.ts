// Icinga 2 tickets: the computation against Icinga's own CLI, the salt setting, and native
// enrollment with a ticket for hosts configured with an agent.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildCsr } from '../../agent/src/serve/csr.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { loadConfig, maskedConfig } from '../src/config/config.js';
import { createHostService } from '../src/hosts/service.js';
import { createHostStore } from '../src/hosts/store.js';
import { icingaTicket } from '../src/secrets/ticket.js';
import { TICKET_SALT_FILE, ticketSalt } from '../src/secrets/ticket-salt.js';

const ICINGA2 = ['/usr/sbin/icinga2', '/usr/bin/icinga2'].find((f) => existsSync(f));
if (!ICINGA2 && process.env.CI === 'true')
  throw new Error("icinga2 is missing: install Debian's icinga2 package");

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

for (const [cn, salt, ticket] of [
  ['apitest', 'secret', '14e22de6b04d7579316e30f1d027c177009b55be'],
  [
    'icinga2-agent1.localdomain',
    '5a3d695b8aef8f18452fc494593056a4',
    'a1d641eacaa6de02daf7bf71f3206777873cc62a',
  ],
] as const)
  test(`icingaTicket(${cn}, ${salt})`, async () => {
    assert.equal(await icingaTicket(cn, salt), ticket);
  });

test(
  'icingaTicket equals `icinga2 pki ticket --cn X --salt Y`',
  { skip: !ICINGA2 && 'icinga2 not installed' },
  async () => {
    const cases = [
      ['apitest', 'secret'],
      ['web-01.example.com', randomBytes(16).toString('hex')],
      ['host with spaces', 'a salt with spaces and $ymbols!'],
      [`h-${randomUUID()}`, randomBytes(32).toString('base64')],
    ];
    for (const [cn, salt] of cases) {
      const cli = execFileSync(ICINGA2!, ['pki', 'ticket', '--cn', cn!, '--salt', salt!], {
        encoding: 'utf8',
        env: { ...process.env, LC_ALL: 'C' },
      }).trim();
      assert.match(cli, /^[0-9a-f]{40}$/);
      assert.equal(await icingaTicket(cn!, salt!), cli, `${cn} / ${salt}`);
    }
  },
);

test('the ticket salt: generated once into the data directory (0600), else the setting', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-salt-'));
  dirs.push(dir);
  const data = path.join(dir, 'data');
  const first = ticketSalt('', data);
  assert.match(first, /^[0-9a-f]{32}$/);
  const file = path.join(data, TICKET_SALT_FILE);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(ticketSalt('', data), first, 'stable across starts');
  assert.equal(ticketSalt('configured', data), 'configured');
  assert.equal(readFileSync(file, 'utf8').trim(), first);
  // A file left readable by others (an older copy, a lax umask) is narrowed at the next start.
  chmodSync(file, 0o644);
  assert.equal(ticketSalt('', data), first);
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('director.ticket_salt comes from VIGIL_DIRECTOR_TICKET_SALT and is masked', () => {
  const config = loadConfig({
    file: '/nonexistent/vigil.toml',
    fileRequired: false,
    env: { VIGIL_DIRECTOR_TICKET_SALT: 'very-secret-salt' },
  });
  assert.equal(config.director.ticket_salt, 'very-secret-salt');
  assert.equal(maskedConfig(config).director.ticket_salt, '****');
  assert.equal(
    loadConfig({ file: '/nonexistent/vigil.toml', fileRequired: false, env: {} }).director
      .ticket_salt,
    '',
  );
});

const csrFor = (name: string) => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return buildCsr(privateKey, name);
};

for (const kind of await databaseKinds()) {
  describe(`ticket enrollment on ${kind.name}`, () => {
    let h: Harness;
    let admin: string;
    const salt = randomBytes(16).toString('hex');
    const enroll = (hostname: string, body: Record<string, unknown>) =>
      h.inject({
        method: 'POST',
        url: '/api/v1/agents/enroll',
        payload: { csr: csrFor(hostname), hostname, ...body },
      });

    /**
     * A host (made through the hosts service) with configuration: its own properties and
     * imports. The configuration columns are written directly while no service writes them.
     */
    async function host(
      name: string,
      config: {
        properties?: object;
        imports?: readonly string[];
        disabled?: boolean;
        deleted?: boolean;
      },
    ): Promise<string> {
      const hosts = createHostService({ store: createHostStore(h.vigil.db.kysely) });
      const id = await hosts.hostFor(name, Date.now());
      await h.vigil.db.kysely
        .updateTable('hosts')
        .set({
          properties: JSON.stringify(config.properties ?? {}),
          imports: JSON.stringify(config.imports ?? []),
          disabled: config.disabled ? 1 : 0,
          deleted_at: config.deleted ? Date.now() : null,
        })
        .where('id', '=', id)
        .execute();
      return id;
    }
    async function template(name: string, properties: object, imports: string[] = []) {
      await h.vigil.db.kysely
        .insertInto('config_objects')
        .values({
          id: randomUUID(),
          kind: 'host',
          object_type: 'template',
          object_name: name,
          scope: '',
          imports: JSON.stringify(imports),
          vars: '{}',
          properties: JSON.stringify(properties),
          disabled: 0,
          api_key_hash: null,
          created_at: Date.now(),
          updated_at: Date.now(),
        })
        .execute();
    }

    before(async () => {
      h = await startHarness(kind, {
        env: { VIGIL_SERVER_TLS: 'auto', VIGIL_DIRECTOR_TICKET_SALT: salt },
      });
      admin = await h.login();
      await template('tpl-agent', { has_agent: true });
      await template('tpl-linux', {}, ['tpl-agent']);
      await template('tpl-no-agent', { has_agent: false });
      // Templates that import each other: each is read once along a chain.
      await template('tpl-cycle-a', {}, ['tpl-cycle-b']);
      await template('tpl-cycle-b', { has_agent: true }, ['tpl-cycle-a']);
    });
    after(() => h.close());

    test("the app's ticket service uses the configured salt", async () => {
      assert.equal(await h.vigil.tickets.ticketFor('apitest'), await icingaTicket('apitest', salt));
    });

    for (const [name, config] of [
      ['own-agent.example', { properties: { has_agent: true } }],
      ['director-flag.example', { properties: { has_agent: 'y' } }],
      ['inherited.example', { imports: ['tpl-linux'] }],
      ['later-wins.example', { imports: ['tpl-no-agent', 'tpl-agent'] }],
      ['cycle.example', { imports: ['tpl-cycle-a'] }],
    ] as const)
      test(`${name}: its ticket approves the enrollment at once (201)`, async () => {
        const hostId = await host(name, config);
        const ticket = await icingaTicket(name, salt);
        const res = await enroll(name, { ticket: ticket.toUpperCase() });
        assert.equal(res.statusCode, 201, res.body);
        const body = res.json();
        assert.equal(body.status, 'approved');
        assert.match(body.certificate, /BEGIN CERTIFICATE/);
        const agent = await h.inject({
          method: 'GET',
          url: `/api/v1/agents/${body.agent_id}`,
          headers: { authorization: `Bearer ${admin}` },
        });
        assert.equal(agent.statusCode, 200, agent.body);
        const row = await h.vigil.db.kysely
          .selectFrom('agents')
          .select(['host_id', 'approval'])
          .where('id', '=', body.agent_id)
          .executeTakeFirstOrThrow();
        assert.deepEqual(row, { host_id: hostId, approval: 'approved' });
        const events = await h.inject({
          method: 'GET',
          url: '/api/v1/audit/events?action=agent.enroll',
          headers: { authorization: `Bearer ${admin}` },
        });
        const ev = events
          .json()
          .items.find((e: { resource_id: string }) => e.resource_id === body.agent_id);
        assert.equal(ev.detail.with_ticket, true);
        assert.ok(!JSON.stringify(ev).includes(ticket), 'no ticket in the audit event');
      });

    for (const [name, config, why] of [
      ['no-flag.example', { properties: {} }, 'no_agent'],
      [
        'flag-off.example',
        { properties: { has_agent: false }, imports: ['tpl-agent'] },
        'no_agent',
      ],
      ['later-off.example', { imports: ['tpl-agent', 'tpl-no-agent'] }, 'no_agent'],
      ['disabled.example', { properties: { has_agent: true }, disabled: true }, 'unknown_host'],
      ['deleted.example', { properties: { has_agent: true }, deleted: true }, 'unknown_host'],
      ['never-created.example', undefined, 'unknown_host'],
    ] as const)
      test(`${name}: a correct ticket is refused (403), audited as ${why}`, async () => {
        if (config) await host(name, config);
        const res = await enroll(name, { ticket: await icingaTicket(name, salt) });
        assert.equal(res.statusCode, 403, res.body);
        assert.equal(res.json().error.code, 'agent.ticket_invalid');
        const events = await h.inject({
          method: 'GET',
          url: '/api/v1/audit/events?action=agent.enroll_refused',
          headers: { authorization: `Bearer ${admin}` },
        });
        const ev = events.json().items.find((e: { actor_label: string }) => e.actor_label === name);
        assert.ok(ev, 'the refusal is audited');
        assert.equal(ev.detail.reason, why);
      });

    test("a wrong ticket, another salt or another host's ticket: 403; both token and ticket: 400", async () => {
      const name = 'wrong-ticket.example';
      await host(name, { properties: { has_agent: true } });
      for (const ticket of [
        await icingaTicket(name, 'another salt'),
        await icingaTicket('own-agent.example', salt),
        'not a ticket',
      ]) {
        const res = await enroll(name, { ticket });
        assert.equal(res.statusCode, 403, res.body);
        assert.equal(res.json().error.code, 'agent.ticket_invalid');
      }
      const both = await enroll(name, {
        ticket: await icingaTicket(name, salt),
        token: 'vge_whatever',
      });
      assert.equal(both.statusCode, 400, both.body);
      assert.equal(both.json().error.code, 'agent.token_and_ticket');
      const count = await h.vigil.db.kysely
        .selectFrom('agents')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('hostname', '=', name)
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 0, 'no agent was added');
    });

    test('the salt is never logged', () => {
      assert.ok(h.logs.length > 0);
      assert.ok(!JSON.stringify(h.logs).includes(salt));
    });
  });
}
