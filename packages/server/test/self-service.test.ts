import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { systemContext } from '../src/audit/service.js';
import { icingaTicket } from '../src/secrets/ticket.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

const ctx = systemContext('test');
const SALT = 'c0ffee-self-service-salt';
const ICINGA2 = '/usr/sbin/icinga2';

/** What `icinga2 pki ticket` prints for a name; undefined without icinga2 (an error under CI). */
function icinga2Ticket(cn: string): string | undefined {
  if (!existsSync(ICINGA2)) {
    if (process.env.CI === 'true') assert.fail(`${ICINGA2} is required under CI=true`);
    return undefined;
  }
  const run = spawnSync(ICINGA2, ['pki', 'ticket', '--cn', cn, '--salt', SALT], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.trim();
}

for (const kind of await databaseKinds()) {
  describe(`self-service on ${kind.name}`, () => {
    let h: Harness;
    let token: string;
    let agentsKey: string;
    let plainKey: string;

    /** A self-service request as the PowerShell module sends it (no user, JSON accepted). */
    const selfService = (
      method: 'GET' | 'POST',
      url: string,
      opts: { body?: unknown; text?: boolean; raw?: string } = {},
    ) =>
      h.inject({
        method,
        url: `/director/self-service/${url}`,
        headers: {
          accept: 'application/json',
          ...(opts.text ? { 'x-director-accept': 'text/plain' } : {}),
        },
        ...(opts.raw !== undefined
          ? { payload: opts.raw }
          : opts.body !== undefined
            ? { payload: JSON.stringify(opts.body) }
            : {}),
      });
    const register = (name: string, key: string, body: unknown = {}, text = false) =>
      selfService(
        'POST',
        `register-host?name=${encodeURIComponent(name)}&key=${encodeURIComponent(key)}`,
        { body, text },
      );
    const newTemplateKey = async (name: string) => {
      const res = await h.inject({
        method: 'POST',
        url: `/api/v1/host-templates/${name}/api-key`,
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { template: string; api_key: string };
    };

    before(async () => {
      h = await startHarness(kind, { env: { VIGIL_DIRECTOR_TICKET_SALT: SALT } });
      token = await h.login();
      const o = h.vigil.objects;
      await o.create(ctx, 'host', {
        object_name: 'agents',
        object_type: 'template',
        has_agent: 'y',
      });
      await o.create(ctx, 'host', {
        object_name: 'agents-eu',
        object_type: 'template',
        imports: ['agents'],
      });
      await o.create(ctx, 'host', { object_name: 'plain', object_type: 'template' });
      await o.create(ctx, 'host', {
        object_name: 'existing1',
        imports: ['agents-eu'],
        address: '192.0.2.1',
      });
      await o.create(ctx, 'host', { object_name: 'stranger', imports: ['plain'] });
      await o.create(ctx, 'host', { object_name: 'nonagent', address: '192.0.2.9' });
    });
    after(() => h.close());

    test('a template API key is shown once, replaced by the next, and audited', async () => {
      const firstKey = await newTemplateKey('agents-eu');
      assert.equal(firstKey.template, 'agents-eu');
      assert.match(firstKey.api_key, /^[0-9a-f]{40}$/);
      const second = await newTemplateKey('agents-eu');
      assert.notEqual(second.api_key, firstKey.api_key);
      agentsKey = second.api_key;
      plainKey = (await newTemplateKey('plain')).api_key;
      const stale = await register('someone', firstKey.api_key);
      assert.equal(stale.statusCode, 404);
      assert.equal(
        stale.body,
        `{\n    "error": "Got invalid API key \\"${firstKey.api_key}\\""\n}\n`,
      );
      const events = (
        await h.inject({
          method: 'GET',
          url: '/api/v1/audit/events?action=config.api_key',
          headers: { authorization: `Bearer ${token}` },
        })
      ).json();
      assert.equal(events.items.length, 3);
      assert.ok(!JSON.stringify(events).includes(agentsKey));
      // The database keeps only hashes.
      const rows = await h.vigil.db.kysely
        .selectFrom('config_objects')
        .select('api_key_hash')
        .execute();
      assert.ok(rows.every((r) => r.api_key_hash !== agentsKey));
      for (const name of ['nope', 'existing1']) {
        const res = await h.inject({
          method: 'POST',
          url: `/api/v1/host-templates/${name}/api-key`,
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(res.statusCode, 404, name);
      }
    });

    test('register-host: an unknown key, a host key, a template not for agents → 404', async () => {
      const unknown = await register('new1', 'f'.repeat(40), {}, true);
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.body, `ERROR: Got invalid API key "${'f'.repeat(40)}"`);
      const notAgents = await register('new1', plainKey);
      assert.equal(notAgents.statusCode, 404);
      assert.equal(
        notAgents.json().error,
        `Got valid API key "${plainKey}", but template is not for Agents`,
      );
    });

    let newHostKey: string;

    test('register-host: a new host is created importing the template, and gets a key', async () => {
      const res = await register('new1.example.com', agentsKey, {
        display_name: 'New one',
        address: '192.0.2.50',
        address6: '',
        ignored: 'x',
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.match(res.headers['content-type'] as string, /^application\/json/);
      newHostKey = res.json();
      assert.match(newHostKey, /^[0-9a-f]{40}$/);
      assert.equal(res.body, `"${newHostKey}"\n`);
      const host = await h.vigil.objects.get({ kind: 'host', name: 'new1.example.com' });
      assert.deepEqual(host.imports, ['agents-eu']);
      assert.deepEqual(host.properties, { display_name: 'New one', address: '192.0.2.50' });
    });

    test('register-host: a host already registered, a template name → 400', async () => {
      const again = await register('new1.example.com', agentsKey);
      assert.equal(again.statusCode, 400);
      assert.equal(again.json().error, 'The host "new1.example.com" has already been registered');
      const template = await register('plain', agentsKey, {}, true);
      assert.equal(template.statusCode, 400);
      assert.equal(template.body, 'ERROR: You are not allowed to create "plain"');
    });

    test('register-host: an existing host of the template gets its values and a key', async () => {
      const res = await register(
        'existing1',
        agentsKey,
        { display_name: 'Existing', address: '' },
        true,
      );
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /^[0-9a-f]{40}$/);
      const host = await h.vigil.objects.get({ kind: 'host', name: 'existing1' });
      // An empty value leaves the property as it was.
      assert.deepEqual(host.properties, { display_name: 'Existing', address: '192.0.2.1' });
    });

    test('register-host: two registrations of one new name at once: one wins', async () => {
      const both = await Promise.all([register('race1', agentsKey), register('race1', agentsKey)]);
      assert.deepEqual(both.map((r) => r.statusCode).sort(), [200, 400]);
      const lost = both.find((r) => r.statusCode === 400)!;
      assert.equal(lost.json().error, 'The host "race1" has already been registered');
    });

    test('register-host: an existing host that does not import the template → 403', async () => {
      const res = await register('stranger', agentsKey);
      assert.equal(res.statusCode, 403);
      assert.equal(
        res.json().error,
        'The host "stranger" does not import the template "agents-eu"',
      );
      assert.equal(
        (await h.vigil.objects.get({ kind: 'host', name: 'stranger' })).imports[0],
        'plain',
      );
    });

    test('register-host: missing parameters, bad JSON, no Accept header → 4xx', async () => {
      const noName = await selfService('POST', `register-host?key=${agentsKey}`, { body: {} });
      assert.equal(noName.statusCode, 400);
      assert.equal(noName.json().error, 'object_name is required');
      const nothing = await selfService('POST', 'register-host', { body: {} });
      assert.equal(nothing.json().error, 'Missing parameters: object_name, key');
      // The name and key may come in the body, as Director's form takes them.
      const inBody = await selfService('POST', 'register-host', {
        body: { object_name: 'new2', key: agentsKey },
      });
      assert.equal(inBody.statusCode, 200, inBody.body);
      const badJson = await selfService('POST', `register-host?name=new3&key=${agentsKey}`, {
        raw: '{"address": ',
      });
      assert.equal(badJson.statusCode, 400);
      assert.equal(badJson.json().error, 'Invalid JSON: Syntax error');
      const badValue = await register('new3', agentsKey, { address: ['x'] });
      assert.equal(badValue.statusCode, 400);
      const noAccept = await h.inject({
        method: 'POST',
        url: `/director/self-service/register-host?name=new3&key=${agentsKey}`,
      });
      assert.equal(noAccept.statusCode, 406);
    });

    test('ticket: the host key gives the Icinga 2 ticket, equal to icinga2 pki ticket', async () => {
      const expected = await icingaTicket('new1.example.com', SALT);
      const res = await selfService('GET', `ticket?key=${newHostKey}`);
      assert.equal(res.statusCode, 200);
      assert.equal(res.body, `"${expected}"\n`);
      const text = await selfService('GET', `ticket?key=${newHostKey}`, { text: true });
      assert.equal(text.body, expected);
      const cli = icinga2Ticket('new1.example.com');
      if (cli !== undefined) assert.equal(expected, cli);
      const byName = await h.inject({
        method: 'GET',
        url: '/icingaweb2/director/host/ticket?name=new1.example.com',
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      });
      assert.equal(byName.statusCode, 200);
      assert.equal(byName.body, `"${expected}"\n`);
    });

    test('ticket: a template key, a missing key, a host that is not an agent → 4xx', async () => {
      const template = await selfService('GET', `ticket?key=${agentsKey}`);
      assert.equal(template.statusCode, 404);
      assert.equal(template.json().error, `Got invalid API key "${agentsKey}"`);
      const missing = await selfService('GET', 'ticket', { text: true });
      assert.equal(missing.statusCode, 400);
      assert.equal(missing.body, "ERROR: Required parameter 'key' missing");
      const key = (await register('new4', agentsKey)).json() as string;
      await h.vigil.objects.modify(
        ctx,
        { kind: 'host', name: 'new4' },
        { has_agent: false },
        'merge',
      );
      const notAgent = await selfService('GET', `ticket?key=${key}`);
      assert.equal(notAgent.statusCode, 404);
      assert.equal(notAgent.json().error, 'The host "new4" is not an agent');
      const ask = (name: string, auth = true) =>
        h.inject({
          method: 'GET',
          url: `/director/host/ticket?name=${name}`,
          headers: {
            accept: 'application/json',
            ...(auth ? { authorization: `Bearer ${token}` } : {}),
          },
        });
      const unknown = await ask('nobody');
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.json().error, 'Failed to load icinga_host "nobody"');
      const nonAgent = await ask('nonagent');
      assert.equal(nonAgent.statusCode, 404);
      assert.equal(nonAgent.json().error, 'The host "nonagent" is not an agent');
      assert.equal((await ask('new1.example.com', false)).statusCode, 401);
    });

    test('api-version and powershell-parameters, in JSON and in text', async () => {
      const version = await selfService('GET', 'api-version');
      assert.equal(version.body, '"1.4.0"\n');
      assert.equal((await selfService('POST', 'api-version', { text: true })).body, '1.4.0');
      const params = await selfService('GET', `powershell-parameters?key=${agentsKey}`);
      assert.equal(params.statusCode, 200);
      assert.deepEqual(params.json(), {
        fetch_agent_name: false,
        fetch_agent_fqdn: false,
        transform_hostname: null,
        flush_api_directory: false,
        resolve_parent_host: null,
        install_framework_service: '0',
        install_framework_plugins: '0',
        director_host_object: '{"address":"&ipaddress&"}',
      });
      const text = await selfService('GET', `powershell-parameters?key=${newHostKey}`, {
        text: true,
      });
      assert.equal(
        text.body,
        [
          'fetch_agent_name: false',
          'fetch_agent_fqdn: false',
          'transform_hostname: ',
          'flush_api_directory: false',
          'resolve_parent_host: ',
          'install_framework_service: 0',
          'install_framework_plugins: 0',
          'director_host_object: {"address":"&ipaddress&"}',
          'agent_add_firewall_rule: false',
          'global_zones: director-global',
          'accept_config: false',
          '',
        ].join('\r\n'),
      );
      const unknown = await selfService('GET', `powershell-parameters?key=${'a'.repeat(40)}`);
      assert.equal(unknown.statusCode, 404);
      const missing = await selfService('GET', 'powershell-parameters');
      assert.equal(missing.statusCode, 400);
      const key = (await register('new5', agentsKey)).json() as string;
      await h.vigil.objects.modify(
        ctx,
        { kind: 'host', name: 'new5' },
        { has_agent: 'n' },
        'merge',
      );
      const forbidden = await selfService('GET', `powershell-parameters?key=${key}`);
      assert.equal(forbidden.statusCode, 403);
      assert.equal(forbidden.json().error, 'new5 is not configured for Icinga Agent usage');
    });
  });
}
