// The alert screens, in Chromium against a real server with a real agent of this machine: a
// custom check whose exit code the test controls through a file goes CRITICAL, and after
// max_check_attempts runs the built-in check rule opens an alert that appears in the open list
// without a reload; it is acknowledged through the detail screen, resolves itself when the check
// returns to OK, is silenced through its dialog, shows on the fleet and the host; silences are
// created and deleted; a viewer sees no action.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually } from '../support/https.js';
import {
  browserMissing,
  captureScreen,
  CONSOLE_ADMIN_PASSWORD,
  signIn,
  startConsole,
  type ConsoleHarness,
} from '../support/console.js';

const skip = browserMissing();

describe('web console: alerts', { skip }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-console-alerts-'));
  const stateFile = path.join(dir, 'exit-code');
  const script = path.join(dir, 'flip.sh');
  /** Sets the exit code of the flipping check: 0 OK, 2 CRITICAL. */
  const flip = (code: 0 | 2) => writeFileSync(stateFile, `${code}\n`);
  let h: ConsoleHarness;
  let page: Page;
  let hostId: string;
  let hostName: string;
  let alertId: string;
  let silencedId: string;

  /** The open alert of the flipping check, once the server has one. */
  const openAlert = () =>
    eventually(
      'an open alert of the check',
      async () => {
        const r = await h.api(`/api/v1/alerts?host_id=${encodeURIComponent(hostId)}`);
        return (r.body.items as { id: string; labels: Record<string, string> }[]).find(
          (a) => a.labels.check === 'flip',
        );
      },
      60_000,
    );

  before(async () => {
    flip(0);
    writeFileSync(
      script,
      `code=$(cat ${stateFile})\nif [ "$code" = 0 ]; then echo "FLIP OK"; else echo "FLIP CRITICAL - broken"; fi\nexit "$code"\n`,
    );
    h = await startConsole({
      agent: true,
      agentChecks: `[flip]\ncommand = /bin/sh ${script}\ninterval = 1\n`,
    });
    const hosts = await eventually('the host listed', async () => {
      const r = await h.api('/api/v1/hosts');
      return r.body.items?.length === 1 ? r.body.items : undefined;
    });
    hostId = hosts[0].id;
    hostName = hosts[0].name;
    page = await h.newPage();
    await signIn(page, 'admin', CONSOLE_ADMIN_PASSWORD);
  });
  after(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a failing check opens an alert that appears in the list live', async () => {
    await page.goto('/alerts');
    await page.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
    await page.getByText('No open alerts: all is well.').waitFor();
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    flip(2);
    const table = page.getByRole('table', { name: 'Alerts' });
    const link = table.getByRole('link', { name: /FLIP CRITICAL/ });
    await link.waitFor({ timeout: 60_000 });
    assert.deepEqual(navigations, [], 'the alert arrived without a reload');
    const row = table
      .getByRole('row')
      .filter({ has: page.getByRole('link', { name: /FLIP CRITICAL/ }) });
    assert.match(await row.innerText(), /critical/);
    assert.match(await row.innerText(), /active/);
    await page.getByRole('button', { name: /1\s*open critical/ }).waitFor();
    alertId = (await openAlert()).id;

    // The filters live in the address: the severity count filters, and a resolved-only list
    // holds nothing yet.
    await page.getByRole('button', { name: /open warning/ }).click();
    await page.getByText('No alert matches these filters.').waitFor();
    assert.match(page.url(), /severity=warning/);
    await page.getByRole('button', { name: /open warning/ }).click();
    await link.waitFor();
    await page.getByLabel(/^State/).selectOption('resolved');
    await page.getByText('No alert matches these filters.').waitFor();
    assert.match(page.url(), /state=resolved/);
    await page.getByLabel(/^State/).selectOption('');
    await page.getByLabel(/^Host/).selectOption(hostId);
    await link.waitFor();
    assert.match(page.url(), new RegExp(`host=${hostId}`));
    await captureScreen(page, 'alerts');
  });

  test('the fleet and the host show the open alert', async () => {
    await page.goto('/');
    const badge = page.getByRole('link', { name: '1 open alert' });
    await badge.waitFor({ timeout: 15_000 });
    await captureScreen(page, 'fleet-alerts');
    await badge.click();
    await page.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor();
    assert.match(page.url(), new RegExp(`/alerts\\?host=${hostId}$`));
    await page.goto(`/hosts/${encodeURIComponent(hostId)}?tab=alerts`);
    await page.getByRole('heading', { name: hostName, level: 1 }).waitFor();
    const hostTable = page.getByRole('table', { name: 'Open alerts of this host' });
    await hostTable.getByRole('link', { name: /FLIP CRITICAL/ }).waitFor();
    await captureScreen(page, 'host-alerts');
  });

  test('the alert is acknowledged through its detail, then resolves itself', async () => {
    await page.goto('/alerts');
    await page
      .getByRole('table', { name: 'Alerts' })
      .getByRole('link', { name: /FLIP CRITICAL/ })
      .click();
    await page.getByRole('heading', { name: /FLIP CRITICAL/, level: 1 }).waitFor();
    assert.ok(page.url().endsWith(`/alerts/${alertId}`), page.url());
    for (const name of ['Acknowledge', 'Silence', 'Resolve', 'Dismiss'])
      await page.getByRole('button', { name, exact: true }).waitFor();
    await page.getByRole('button', { name: 'Acknowledge', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Acknowledge this alert' });
    await dialog.getByLabel('Reason (optional)').fill('looking into the flip');
    await dialog.getByRole('button', { name: 'Acknowledge' }).click();
    const history = page.getByRole('table', { name: 'History' });
    const ackRow = history.getByRole('row').filter({ hasText: 'looking into the flip' });
    await ackRow.waitFor();
    assert.match(await ackRow.innerText(), /active\s*→\s*acknowledged/);
    assert.match(await ackRow.innerText(), /admin/);
    const stored = await h.api(`/api/v1/alerts/${alertId}`);
    assert.equal(stored.body.state, 'acknowledged');
    // An acknowledged alert cannot be acknowledged again: the button goes; silencing stays.
    assert.equal(await page.getByRole('button', { name: 'Acknowledge', exact: true }).count(), 0);
    await page.getByRole('button', { name: 'Silence', exact: true }).waitFor();
    await page.getByRole('heading', { name: 'Around the alert' }).waitFor();
    // A check's alert draws the check's state around it.
    await page.getByRole('figure', { name: /State of the check flip/ }).waitFor();
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    await captureScreen(page, 'alert-detail');

    // The check returns to OK: Vigil resolves the alert, and the screen shows it live.
    flip(0);
    const resolved = history
      .getByRole('row')
      .filter({ hasText: 'Vigil' })
      .filter({
        hasText: /acknowledged\s*→\s*resolved/,
      });
    await resolved.waitFor({ timeout: 60_000 });
    for (const name of ['Acknowledge', 'Silence', 'Resolve', 'Dismiss'])
      assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, name);
    const after = await h.api(`/api/v1/alerts/${alertId}`);
    assert.equal(after.body.state, 'resolved');
    assert.notEqual(after.body.resolved_at, null);
  });

  test('a new alert of the check is silenced for a preset span through its dialog', async () => {
    flip(2);
    const next = await openAlert();
    assert.notEqual(next.id, alertId, 'a new alert, not the resolved one again');
    await page.goto(`/alerts/${next.id}`);
    await page.getByRole('button', { name: 'Silence', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Silence this alert' });
    await dialog.getByRole('button', { name: 'For 4 h' }).click();
    await dialog.getByLabel('Reason').fill('planned restart');
    await dialog.getByRole('button', { name: 'Silence', exact: true }).click();
    await page.getByRole('table', { name: 'History' }).getByText('planned restart').waitFor();
    const stored = await h.api(`/api/v1/alerts/${next.id}`);
    assert.equal(stored.body.state, 'silenced');
    const hours = (Date.parse(stored.body.silenced_until) - Date.now()) / 3_600_000;
    assert.ok(hours > 3.9 && hours <= 4, `silenced for ${hours} h`);
    silencedId = next.id;
  });

  test('silences are created and deleted', async () => {
    await page.goto('/alerts/silences');
    await page.getByRole('heading', { name: 'Silences', level: 1 }).waitFor();
    await page.getByText('No silence is active.').waitFor();
    await page.getByRole('button', { name: 'New silence' }).click();
    const dialog = page.getByRole('dialog', { name: 'New silence' });
    await dialog.getByRole('button', { name: 'Create silence' }).click();
    await dialog.getByText('a silence needs at least one').waitFor();
    await dialog.getByLabel(/^Host/).selectOption(hostId);
    await dialog.getByLabel('Labels (name=value, one a line)').fill('check=flip');
    await dialog.getByLabel('Reason').fill('maintenance of the flip');
    await dialog.getByRole('button', { name: 'For 24 h' }).click();
    await dialog.getByRole('button', { name: 'Create silence' }).click();
    const table = page.getByRole('table', { name: 'Active silences' });
    const row = table.getByRole('row').filter({ hasText: 'maintenance of the flip' });
    await row.waitFor();
    assert.match(await row.innerText(), /check=flip/);
    assert.match(await row.innerText(), new RegExp(`host ${hostName}`));
    const stored = await h.api('/api/v1/alerts/silences');
    assert.equal(stored.body.items.length, 1);
    assert.deepEqual(stored.body.items[0].matchers, { host_id: hostId, labels: { check: 'flip' } });
    await captureScreen(page, 'alert-silences');

    await row.getByRole('button', { name: /Delete silence/ }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete this silence?' });
    await confirm.getByRole('button', { name: 'Delete silence' }).click();
    await page.getByText('No silence is active.').waitFor();
    const gone = await h.api('/api/v1/alerts/silences');
    assert.equal(gone.body.items.length, 0);
  });

  test('a viewer reads alerts and silences but sees no action', async () => {
    const password = 'alerts viewer password';
    const user = await h.api('/api/v1/users', {
      username: 'alertviewer',
      password,
      roles: ['viewer'],
      must_change_password: false,
    });
    assert.equal(user.status, 201, user.text);
    const vp = await h.newPage();
    await signIn(vp, 'alertviewer', password);
    // The silenced alert is open: the admin may resolve or dismiss it, the viewer may not.
    await page.goto(`/alerts/${silencedId}`);
    await page.getByRole('button', { name: 'Resolve', exact: true }).waitFor();
    await vp.goto('/alerts');
    await vp
      .getByRole('table', { name: 'Alerts' })
      .getByRole('link', { name: /FLIP CRITICAL/ })
      .click();
    await vp.getByRole('table', { name: 'History' }).waitFor();
    assert.ok(vp.url().endsWith(`/alerts/${silencedId}`), vp.url());
    for (const name of ['Acknowledge', 'Silence', 'Resolve', 'Dismiss'])
      assert.equal(await vp.getByRole('button', { name, exact: true }).count(), 0, name);
    await vp.goto('/alerts/silences');
    await vp.getByRole('heading', { name: 'Silences', level: 1 }).waitFor();
    assert.equal(await vp.getByRole('button', { name: 'New silence' }).count(), 0);
    assert.deepEqual(h.pageErrors, []);
  });

  test('an action on an alert that changed meanwhile shows the refusal', async () => {
    await page.goto(`/alerts/${silencedId}`);
    await page.getByRole('button', { name: 'Resolve', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Resolve this alert' });
    await dialog.waitFor();
    // Someone else dismisses it first: the screen follows, the open dialog stays.
    const dismissed = await h.api(`/api/v1/alerts/${silencedId}:dismiss`, { reason: 'elsewhere' });
    assert.equal(dismissed.status, 200, dismissed.text);
    await page.getByRole('table', { name: 'History' }).getByText('elsewhere').waitFor();
    await dialog.getByRole('button', { name: 'Resolve' }).click();
    const refusal = dialog.getByRole('alert');
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /Conflict\./);
    assert.match(await refusal.innerText(), /transition\.invalid/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await h.api(`/api/v1/alerts/${silencedId}`)).body.state, 'dismissed');
  });

  test('a threshold alert shows its series around it', async () => {
    // Any CPU use breaches a warning threshold of 0, at once: the built-in CPU rule fires.
    const config = await h.api('/api/v1/alerts/config', { cpu: { warning: 0, critical: 100 } });
    assert.equal(config.status, 200, config.text);
    const rule = await h.api('/api/v1/alerts/rules/builtin-cpu', { for_seconds: 0 }, 'PATCH');
    assert.equal(rule.status, 200, rule.text);
    const cpu = await eventually(
      'an open CPU alert',
      async () => {
        const r = await h.api(`/api/v1/alerts?host_id=${encodeURIComponent(hostId)}`);
        return (r.body.items as { id: string; rule_id: string }[]).find(
          (a) => a.rule_id === 'builtin-cpu',
        );
      },
      90_000,
    );
    await page.goto(`/alerts/${cpu.id}`);
    const chart = page.getByRole('figure', { name: /cpu_usage_percent around the alert/ });
    await chart.waitFor();
    await eventually(
      'the chart drawn',
      async () => (await chart.getAttribute('aria-busy')) === 'false',
    );
    assert.doesNotMatch(await chart.innerText(), /No data in this range/);
    assert.deepEqual(h.pageErrors, []);
  });
});
