// The console's configuration screens, in Chromium against a real server: a command, host
// templates with custom variables (one importing another), a service template and a service
// applied through a template, a host group; a host added from the fleet that imports a template
// and whose inheritance preview names the template each value comes from; the pending diff,
// Deploy, and the history with the active deployment and its Icinga 2 rendering; a credential
// that shows its key's fingerprint and never its secret; maintenance, a connectivity check and
// the soft delete of a host; and a viewer without the write permissions who sees no controls.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  browserMissing,
  captureScreen,
  CONSOLE_ADMIN_PASSWORD,
  signIn,
  startConsole,
  type ConsoleHarness,
} from '../support/console.js';

const skip = browserMissing();

const HOST = 'web1.config.test';

/** A new ed25519 key from ssh-keygen: the private key's text and its `SHA256:` fingerprint. */
function newKey(): { privateKey: string; fingerprint: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-console-key-'));
  try {
    const file = path.join(dir, 'id');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'console', '-f', file]);
    const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', file]).toString().split(' ')[1]!;
    return { privateKey: readFileSync(file, 'utf8'), fingerprint };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Opens a configuration screen from the menu's Configuration group. */
async function openList(page: Page, screen: string, heading: string): Promise<void> {
  const link = page.getByRole('navigation', { name: 'Main' }).getByRole('link', {
    name: heading,
    exact: true,
  });
  await link.click();
  await page.waitForURL(`**/config/${screen}`);
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
}

/** The text of the row of `name` in the table labelled `table`. */
async function rowText(page: Page, table: string, name: string | RegExp): Promise<string> {
  const row = page.getByRole('table', { name: table }).getByRole('row', { name });
  await row.first().waitFor();
  return row.first().innerText();
}

describe('web console: configuration, deploy and credentials', { skip }, () => {
  let h: ConsoleHarness;
  let page: Page;
  let hostId: string;

  before(async () => {
    h = await startConsole();
    page = await h.newPage();
    await signIn(page, 'admin', CONSOLE_ADMIN_PASSWORD);
    // The base template the screens build on: vars and a check interval.
    const base = await h.api('/api/v1/host-templates', {
      object_name: 'base',
      vars: { os: 'linux', team: 'ops' },
      properties: { check_interval: '300' },
    });
    assert.equal(base.status, 201, base.text);
  });
  after(async () => {
    await h?.stop();
  });

  test('a command with arguments, from its editor', async () => {
    await openList(page, 'commands', 'Commands');
    await page.getByRole('link', { name: 'Create command' }).click();
    await page.getByRole('heading', { name: 'New command', level: 1 }).waitFor();
    // The preview of the empty object is there before a name is typed, without an error.
    await page.getByRole('table', { name: 'Resolved properties' }).waitFor();
    assert.equal(await page.getByRole('alert').count(), 0);
    await page.getByLabel('Name', { exact: true }).fill('ping4');
    await page.getByLabel('Command line').fill('/usr/lib/nagios/plugins/check_ping');
    await page.getByRole('button', { name: 'Add argument' }).click();
    await page.getByLabel('Argument 1', { exact: true }).fill('-H');
    await page.getByLabel('Value of argument -H').fill('$address$');
    await page.getByRole('button', { name: 'Create command' }).click();
    await page.getByRole('heading', { name: 'Command ping4', level: 1 }).waitFor();
    const saved = await h.api('/api/v1/commands/ping4');
    assert.equal(saved.status, 200, saved.text);
    assert.equal(saved.body.properties.command, '/usr/lib/nagios/plugins/check_ping');
    assert.deepEqual(saved.body.properties.arguments, { '-H': { value: '$address$' } });
    await captureScreen(page, 'config-command');
    await openList(page, 'commands', 'Commands');
    assert.match(await rowText(page, 'Commands', /ping4/), /check_ping/);
    await captureScreen(page, 'config-commands');
  });

  test('a host template importing another: vars, imports and the inheritance preview', async () => {
    await openList(page, 'host-templates', 'Host templates');
    await page.getByRole('link', { name: 'Create host template' }).click();
    await page.getByLabel('Name', { exact: true }).fill('linux-web');
    await page.getByLabel('Template to import').selectOption('base');
    await page.getByRole('button', { name: 'Add import' }).click();
    await page.getByLabel('Check command').selectOption('ping4');
    await page.getByRole('button', { name: 'Add variable' }).click();
    await page.getByLabel('Variable name 1').fill('role');
    await page.getByLabel('Value of role').fill('web');
    await page.getByRole('button', { name: 'Add variable' }).click();
    await page.getByLabel('Variable name 2').fill('ports');
    await page.getByLabel('Value of ports').fill('[80, 443]');
    // The preview follows the edit before anything is saved: `team` comes from `base`.
    const vars = page.getByRole('table', { name: 'Resolved variables' });
    await vars.getByRole('row', { name: /ports/ }).waitFor();
    assert.match(await vars.getByRole('row', { name: /team/ }).innerText(), /ops\s+from base/);
    assert.match(await vars.getByRole('row', { name: /role/ }).innerText(), /web\s+own/);
    const props = page.getByRole('table', { name: 'Resolved properties' });
    assert.match(
      await props.getByRole('row', { name: /check_interval/ }).innerText(),
      /300\s+from base/,
    );
    // A value the server refuses shows its message in the preview, and saving is refused too.
    await page.getByLabel('Check interval').fill('soon');
    const refusal = page
      .getByRole('alert')
      .filter({ hasText: 'check_interval is not an interval' });
    await refusal.first().waitFor();
    await page.getByRole('button', { name: 'Create host template' }).click();
    await refusal.nth(1).waitFor();
    assert.equal((await h.api('/api/v1/host-templates/linux-web')).status, 404);
    await page.getByLabel('Check interval').fill('');
    await page.getByRole('button', { name: 'Create host template' }).click();
    await page.getByRole('heading', { name: 'Host template linux-web', level: 1 }).waitFor();
    const saved = await h.api('/api/v1/host-templates/linux-web');
    assert.deepEqual(saved.body.imports, ['base']);
    assert.deepEqual(saved.body.vars, { role: 'web', ports: [80, 443] });
    assert.equal(saved.body.properties.check_command, 'ping4');
    // The template's self-service key is shown once.
    await page.getByRole('button', { name: 'New API key' }).click();
    await page
      .getByRole('dialog', { name: 'New API key for linux-web?' })
      .getByRole('button', { name: 'Create key' })
      .click();
    const apiKey = (await page.getByLabel('API key', { exact: true }).innerText()).trim();
    assert.match(apiKey, /^[0-9a-f]{40}$/);
    await captureScreen(page, 'config-host-template');
    await page.reload();
    await page.getByRole('heading', { name: 'Host template linux-web', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'New API key' }).waitFor();
    assert.ok(!(await page.content()).includes(apiKey));
    await openList(page, 'host-templates', 'Host templates');
    assert.match(await rowText(page, 'Host templates', /linux-web/), /base/);
    await page.getByLabel('Search').fill('linux');
    await page.getByRole('row', { name: /^base/ }).waitFor({ state: 'detached' });
    await captureScreen(page, 'config-host-templates');
  });

  test('a service template, a service applied through the host template, a host group', async () => {
    const st = await h.api('/api/v1/service-templates', {
      object_name: 'ping-service',
      properties: { check_command: 'ping4', check_interval: '60' },
    });
    assert.equal(st.status, 201, st.text);
    await openList(page, 'service-templates', 'Service templates');
    await rowText(page, 'Service templates', /ping-service/);
    await captureScreen(page, 'config-service-templates');

    await openList(page, 'services', 'Services');
    await page.getByRole('link', { name: 'Create service' }).click();
    await page.getByLabel('Name', { exact: true }).fill('ping');
    await page.getByLabel('Host or host template').fill('linux-web');
    await page.getByLabel('Template to import').selectOption('ping-service');
    await page.getByRole('button', { name: 'Add import' }).click();
    const props = page.getByRole('table', { name: 'Resolved properties' });
    assert.match(
      await props.getByRole('row', { name: /check_command/ }).innerText(),
      /ping4\s+from ping-service/,
    );
    await page.getByRole('button', { name: 'Create service' }).click();
    await page.getByRole('heading', { name: 'Service ping', level: 1 }).waitFor();
    await captureScreen(page, 'config-service');
    await openList(page, 'services', 'Services');
    assert.match(await rowText(page, 'Services', /ping/), /linux-web/);
    await captureScreen(page, 'config-services');

    await openList(page, 'host-groups', 'Host groups');
    await page.getByRole('link', { name: 'Create host group' }).click();
    await page.getByLabel('Name', { exact: true }).fill('web-servers');
    await page.getByLabel('Display name').fill('Web servers');
    await page.getByRole('button', { name: 'Create host group' }).click();
    await page.getByRole('heading', { name: 'Host group web-servers', level: 1 }).waitFor();
    await openList(page, 'host-groups', 'Host groups');
    assert.match(await rowText(page, 'Host groups', /web-servers/), /Web servers/);
    await captureScreen(page, 'config-host-groups');
  });

  test('a host added from the fleet imports the template; its preview names the origins', async () => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Add host' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add host' });
    await dialog.getByLabel('Host name').fill(HOST);
    await dialog.getByLabel('Address').fill('127.0.0.1');
    await dialog.getByLabel('Environment (optional)').fill('production');
    await dialog.getByLabel('Tags (comma-separated)').fill('web, eu');
    await dialog.getByRole('checkbox', { name: 'linux-web' }).check();
    await captureScreen(page, 'add-host');
    await dialog.getByRole('button', { name: 'Add host' }).click();
    await page.getByRole('heading', { name: HOST, level: 1 }).waitFor();
    await page.getByRole('tab', { name: 'Configuration', selected: true }).waitFor();

    const hosts = await h.api('/api/v1/hosts');
    const host = hosts.body.items.find((x: { name: string }) => x.name === HOST);
    hostId = host.id;
    assert.equal(host.environment, 'production');
    assert.deepEqual(host.tags, ['web', 'eu']);
    const config = await h.api(`/api/v1/hosts/${hostId}/config`);
    assert.deepEqual(config.body.imports, ['linux-web']);

    const vars = page.getByRole('table', { name: 'Resolved variables' });
    await vars.getByRole('row', { name: /role/ }).waitFor();
    assert.match(await vars.getByRole('row', { name: /role/ }).innerText(), /web\s+from linux-web/);
    assert.match(await vars.getByRole('row', { name: /os/ }).innerText(), /linux\s+from base/);
    const services = page.getByRole('table', { name: 'Services of the host' });
    assert.match(await services.getByRole('row', { name: /ping/ }).innerText(), /from linux-web/);
    // A var of its own overrides the template's, and the preview says so before saving.
    await page.getByRole('button', { name: 'Add variable' }).click();
    await page.getByLabel('Variable name 1').fill('team');
    await page.getByLabel('Value of team').fill('web-team');
    await vars.getByRole('row', { name: /team/ }).filter({ hasText: 'web-team' }).waitFor();
    assert.match(await vars.getByRole('row', { name: /team/ }).innerText(), /web-team\s+own/);
    await page.getByRole('button', { name: 'Save configuration' }).click();
    await page.getByText('Saved.').waitFor();
    const resolved = await h.api(`/api/v1/hosts/${hostId}/config/resolved`);
    assert.equal(resolved.body.vars.team, 'web-team');
    assert.equal(resolved.body.origins.vars.os, 'base');
    await captureScreen(page, 'host-configuration');
  });

  test('deploy: the pending diff, then the history with the active deployment', async () => {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Deploy', exact: true })
      .click();
    await page.getByRole('heading', { name: 'Deploy', level: 1 }).waitFor();
    const added = page.getByRole('region', { name: 'Added' });
    await added.getByText('linux-web', { exact: true }).waitFor();
    for (const name of ['base', 'ping4', 'ping-service', 'web-servers', HOST])
      await added.getByText(name, { exact: true }).waitFor();
    // The new host links to its page.
    assert.equal(
      await added.getByRole('link', { name: HOST }).getAttribute('href'),
      `/hosts/${encodeURIComponent(hostId)}`,
    );
    assert.match(await page.getByText('Nothing is deployed yet').innerText(), /everything is new/);
    await captureScreen(page, 'deploy-pending');

    // An invalid configuration is refused with the server's reasons, and nothing is deployed.
    const broken = await h.api('/api/v1/services', { object_name: 'broken', host: 'linux-web' });
    assert.equal(broken.status, 201, broken.text);
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'broken' }).waitFor();
    assert.equal((await h.api('/api/v1/deployments')).body.items.length, 0);
    const fixed = await h.api('/api/v1/services/broken?host=linux-web', undefined, 'DELETE');
    assert.equal(fixed.status, 204, fixed.text);

    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.getByText(/^Deployed:/).waitFor();
    await page.getByText(/nothing to deploy/).waitFor();
    const list = await h.api('/api/v1/deployments');
    assert.equal(list.body.items.length, 1);
    const active = list.body.items[0];
    assert.equal(active.active, true);
    const row = page
      .getByRole('table', { name: 'Deployments' })
      .getByRole('row', { name: new RegExp(active.checksum.slice(0, 12)) });
    assert.match(await row.innerText(), /active/);

    // A change shows as pending against the active deployment, key by key.
    const changed = await h.api(
      '/api/v1/host-templates/linux-web',
      { vars: { role: 'frontend' } },
      'PATCH',
    );
    assert.equal(changed.status, 200, changed.text);
    await page.reload();
    const pending = page.getByRole('region', { name: 'Changed' });
    await pending.getByText('vars.role').waitFor();
    await captureScreen(page, 'deploy');

    // Deployed, the change becomes the active deployment; the history says what it changed.
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.getByText(/nothing to deploy/).waitFor();
    const second = (await h.api('/api/v1/deployments')).body.items;
    assert.equal(second.length, 2);
    assert.equal(second[0].active, true);
    assert.equal(second[1].active, false);
    const newest = page
      .getByRole('table', { name: 'Deployments' })
      .getByRole('row', { name: new RegExp(second[0].checksum.slice(0, 12)) });
    assert.match(await newest.innerText(), /active/);
    assert.doesNotMatch(await row.innerText(), /active/);
    await newest.getByRole('button', { name: /Changes/ }).click();
    const changes = page.getByRole('dialog', { name: /Changes of/ });
    await changes.getByText('vars.role').waitFor();
    await changes.getByRole('button', { name: 'Close' }).click();

    await row.getByRole('button', { name: /Icinga 2/ }).click();
    const view = page.getByRole('dialog', { name: /Icinga 2 configuration/ });
    const text = await view.getByLabel('Icinga 2 configuration').innerText();
    assert.match(text, /template Host "linux-web"/);
    assert.match(text, new RegExp(`object Host "${HOST.replace(/\./g, '\\.')}"`));
    await view.getByRole('button', { name: 'Close' }).click();
  });

  test('a credential shows its fingerprint and never its secret', async () => {
    const key = newKey();
    await page.goto('/credentials');
    await page.getByRole('button', { name: 'Create credential' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create credential' });
    await dialog.getByLabel('Name', { exact: true }).fill('fleet-key');
    await dialog.getByLabel('User name').fill('monitor');
    await dialog.getByLabel(/^Private key/).fill(key.privateKey);
    await dialog.getByLabel('The default credential of its scope').check();
    await dialog.getByRole('button', { name: 'Create credential' }).click();
    const row = page.getByRole('table', { name: 'Credentials' }).getByRole('row', {
      name: /fleet-key/,
    });
    await row.waitFor();
    const text = await row.innerText();
    assert.ok(text.includes(key.fingerprint), `${text} lacks ${key.fingerprint}`);
    assert.match(text, /ED25519/i);
    const secretLine = key.privateKey.split('\n')[1]!;
    assert.ok(!(await page.content()).includes(secretLine));

    // Editing never fills the secret from the server.
    await page.getByRole('button', { name: 'Edit credential fleet-key' }).click();
    const edit = page.getByRole('dialog', { name: 'Change credential fleet-key' });
    assert.equal(await edit.getByLabel(/^Private key/).inputValue(), '');
    assert.match(await edit.innerText(), new RegExp(key.fingerprint.replace(/\+/g, '\\+')));
    assert.ok(!(await page.content()).includes(secretLine));
    await edit.getByRole('button', { name: 'Cancel' }).click();
    await captureScreen(page, 'credentials');

    // Clone to the host; its page names the credential that resolves.
    await page.getByRole('button', { name: 'Clone credential fleet-key' }).click();
    const clone = page.getByRole('dialog', { name: 'Clone credential fleet-key' });
    await clone.getByLabel(/^Host/).selectOption({ label: HOST });
    await clone.getByRole('button', { name: 'Clone' }).click();
    await page.getByRole('row', { name: /fleet-key \(copy\)/ }).waitFor();
    const all = await h.api('/api/v1/credentials');
    assert.equal(all.body.items.length, 2);
    assert.ok(!all.text.includes(secretLine));
  });

  test('maintenance, a connectivity check and the soft delete of a host', async () => {
    await page.goto(`/hosts/${hostId}?tab=configuration`);
    await page.getByRole('heading', { name: 'Credential' }).waitFor();
    await page.getByText(/fleet-key \(copy\)/).waitFor();
    await page.getByRole('button', { name: 'Edit host' }).click();
    const edit = page.getByRole('dialog', { name: `Edit host ${HOST}` });
    await edit.getByLabel('Environment').fill('staging');
    await edit.getByRole('button', { name: 'Save host' }).click();
    await edit.waitFor({ state: 'hidden' });
    assert.equal((await h.api(`/api/v1/hosts/${hostId}`)).body.environment, 'staging');
    await page.getByText('staging', { exact: true }).waitFor();
    await page.getByLabel('Reason').fill('kernel upgrade');
    await page.getByRole('button', { name: 'Start maintenance' }).click();
    await page.getByText(/in maintenance/).waitFor();
    // The header says so too.
    await page.getByRole('definition').filter({ hasText: 'maintenance' }).first().waitFor();
    const host = await h.api(`/api/v1/hosts/${hostId}`);
    assert.deepEqual(host.body.maintenance, {
      enabled: true,
      until: null,
      reason: 'kernel upgrade',
    });
    await page.getByRole('button', { name: 'Check now' }).click();
    await page.getByText(/^TCP 127\.0\.0\.1:22/).waitFor({ timeout: 30_000 });
    const probed = await h.api(`/api/v1/hosts/${hostId}`);
    assert.notEqual(probed.body.liveness.state, 'never_probed');

    await page.getByRole('button', { name: 'Delete host' }).click();
    const confirm = page.getByRole('dialog', { name: `Delete host ${HOST}?` });
    await confirm.getByRole('button', { name: 'Delete host' }).click();
    await page.getByRole('heading', { name: 'Fleet', level: 1 }).waitFor();
    const gone = await h.api(`/api/v1/hosts/${hostId}`);
    assert.equal(gone.status, 404, gone.text);
    assert.deepEqual(h.pageErrors, []);
  });

  test('a viewer sees the configuration but none of its controls', async () => {
    const password = 'config viewer password';
    const user = await h.api('/api/v1/users', {
      username: 'cfgviewer',
      password,
      roles: ['viewer'],
      must_change_password: false,
    });
    assert.equal(user.status, 201, user.text);
    const vp = await h.newPage();
    await signIn(vp, 'cfgviewer', password);
    // The viewer role holds `*:read`: the configuration is readable, nothing changes it.
    await vp.goto('/config/host-templates');
    await vp.getByRole('table', { name: 'Host templates' }).waitFor();
    assert.equal(await vp.getByRole('link', { name: 'Create host template' }).count(), 0);
    await vp.goto('/config/host-templates/linux-web');
    await vp.getByRole('table', { name: 'Resolved variables' }).waitFor();
    for (const name of ['Save host template', 'Delete host template', 'Add variable'])
      assert.equal(await vp.getByRole('button', { name }).count(), 0, name);
    await vp.goto('/deploy');
    await vp.getByRole('table', { name: 'Deployments' }).waitFor();
    assert.equal(await vp.getByRole('button', { name: 'Deploy', exact: true }).count(), 0);
    await vp.goto('/credentials');
    await vp.getByRole('table', { name: 'Credentials' }).waitFor();
    for (const name of [
      'Create credential',
      'Edit credential fleet-key',
      'Delete credential fleet-key',
    ])
      assert.equal(await vp.getByRole('button', { name }).count(), 0, name);
    await vp.goto('/');
    await vp.getByRole('heading', { name: 'Fleet', level: 1 }).waitFor();
    assert.equal(await vp.getByRole('button', { name: 'Add host' }).count(), 0);
    const other = await h.api('/api/v1/hosts', {
      hostname: 'db1.config.test',
      ip_address: '127.0.0.1',
    });
    assert.equal(other.status, 201, other.text);
    await vp.goto(`/hosts/${other.body.id}?tab=configuration`);
    await vp.getByRole('table', { name: 'Resolved variables' }).waitFor();
    await vp.getByRole('heading', { name: 'Connectivity' }).waitFor();
    for (const name of [
      'Edit host',
      'Delete host',
      'Start maintenance',
      'Check now',
      'Run discovery',
      'Save configuration',
    ])
      assert.equal(await vp.getByRole('button', { name }).count(), 0, name);
    assert.deepEqual(h.pageErrors, []);
  });
});
