// The console's alert rules, notification channels and jobs screens, in Chromium against a real
// server with this machine's agent pushing: a threshold rule made in the editor, the server's
// refusal shown on its field, its preview against the agent's real memory figure, Tyto's global
// thresholds; a webhook channel whose Test reaches a receiver on loopback (signed with its
// secret, which the console never shows), one whose Test fails with the error; the job queue
// listing a dead job and retrying it; and a viewer who sees none of the controls that change.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import type { Page } from 'playwright-core';
import {
  browserMissing,
  captureScreen,
  CONSOLE_ADMIN_PASSWORD,
  signIn,
  startConsole,
  type ConsoleHarness,
} from '../support/console.js';
import { eventually } from '../support/https.js';
import { freePort } from '../support/postgres.js';

const skip = browserMissing();
const VIEWER_PASSWORD = 'viewer password for the rules screens';

/** A webhook receiver on loopback that keeps what it is sent. */
async function startReceiver(): Promise<{
  url: string;
  requests: { headers: IncomingHttpHeaders; body: string }[];
  server: Server;
}> {
  const requests: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, requests, server };
}

describe('web console: alert rules, notification channels and jobs', { skip }, () => {
  let h: ConsoleHarness;
  let page: Page;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  before(async () => {
    h = await startConsole({ agent: true });
    receiver = await startReceiver();
    page = await h.newPage();
    await signIn(page, 'admin', CONSOLE_ADMIN_PASSWORD);
  });
  after(async () => {
    receiver?.server.close();
    await h?.stop();
  });

  test('the rule list marks built-in rules and turns one off', async () => {
    await page.goto('/alerts/rules');
    const table = page.getByRole('table', { name: 'Alert rules' });
    const cpu = table.getByRole('row', { name: /builtin-cpu|CPU/i }).first();
    await cpu.waitFor();
    assert.match(await cpu.innerText(), /built-in/);
    const rules = (await h.api('/api/v1/alerts/rules')).body.items as {
      id: string;
      name: string;
      enabled: boolean;
    }[];
    const forecast = rules.find((r) => r.id === 'builtin-disk-forecast')!;
    assert.equal(forecast.enabled, true);
    await page.getByRole('checkbox', { name: `Enabled: ${forecast.name}` }).uncheck();
    await eventually('the rule turned off', async () => {
      const r = await h.api('/api/v1/alerts/rules/builtin-disk-forecast');
      return r.body.enabled === false ? true : undefined;
    });
    await captureScreen(page, 'alert-rules');
  });

  test('a built-in rule keeps its series: its levels and timing change, it cannot be deleted', async () => {
    await page.goto('/alerts/rules');
    await page
      .getByRole('table', { name: 'Alert rules' })
      .getByRole('link', { name: 'Disk usage' })
      .click();
    await page.getByRole('heading', { name: 'Alert rule Disk usage', level: 1 }).waitFor();
    assert.equal(
      await page.getByLabel('Metric', { exact: true }).inputValue(),
      'disk_usage_percent',
    );
    assert.equal(await page.getByLabel('Metric', { exact: true }).isEditable(), false);
    assert.equal(await page.getByRole('button', { name: 'Delete rule' }).count(), 0);
    // Its thresholds are empty: it reads the global disk thresholds.
    await page.getByText('Empty: the global disk warning.').waitFor();
    await page.getByLabel('For (seconds)', { exact: true }).fill('120');
    await page.getByLabel('Tags').fill('db, web');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByRole('heading', { name: 'Alert rules', level: 1 }).waitFor();
    const rule = (await h.api('/api/v1/alerts/rules/builtin-disk')).body;
    assert.equal(rule.for_seconds, 120);
    assert.deepEqual(rule.scope.tags, ['db', 'web']);
    assert.equal(rule.metric, 'disk_usage_percent');
    assert.equal(rule.warning, null);
  });

  test('a threshold rule: refused on its field, previewed against this machine, created', async () => {
    await page.goto('/alerts/rules');
    await page.getByRole('button', { name: 'Create rule' }).click();
    await page.getByRole('heading', { name: 'New alert rule', level: 1 }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Memory in use');
    await page.getByLabel('Metric', { exact: true }).fill('memory_usage_percent');
    await page.getByLabel('Warning threshold').fill('90');
    await page.getByLabel('Critical threshold').fill('80');
    await page.getByLabel('For (seconds)', { exact: true }).fill('0');
    await page.getByRole('button', { name: 'Create rule' }).click();
    // The server's refusal is shown on the field it names, and the field is marked invalid.
    const critical = page.getByLabel('Critical threshold');
    await page.getByText('must be at least as far past the warning threshold').waitFor();
    assert.equal(await critical.getAttribute('aria-invalid'), 'true');
    const described = await critical.getAttribute('aria-describedby');
    assert.ok(described);
    assert.match(
      await page.locator(`[id="${described}"]`).innerText(),
      /at least as far past the warning threshold/,
    );
    assert.equal(await page.getByLabel('Warning threshold').getAttribute('aria-invalid'), null);
    assert.equal(
      ((await h.api('/api/v1/alerts/rules')).body.items as { name: string }[]).some(
        (r) => r.name === 'Memory in use',
      ),
      false,
    );

    // Any memory use breaches 0 % as a warning and 1 % as critical.
    await page.getByLabel('Warning threshold').fill('0');
    await page.getByLabel('Critical threshold').fill('1');
    await page.getByRole('button', { name: 'Preview' }).click();
    const hits = page.getByRole('table', { name: 'Hosts that would fire' });
    await hits.waitFor();
    const host = await eventually('the agent host', async () => {
      const r = await h.api('/api/v1/hosts');
      return (r.body.items as { id: string; name: string }[])[0];
    });
    const row = hits.getByRole('row', { name: new RegExp(host.name) });
    await row.waitFor();
    const cells = await row.getByRole('cell').allInnerTexts();
    const value = Number(cells[2]);
    assert.ok(value > 1 && value <= 100, `memory use ${cells[2]}`);
    assert.match(cells[3]!, /critical/);
    assert.match(await page.getByText(/would fire now, of \d+ hosts evaluated/).innerText(), /1/);
    assert.equal(await critical.getAttribute('aria-invalid'), null);
    await captureScreen(page, 'alert-rule-editor');

    await page.getByRole('button', { name: 'Create rule' }).click();
    await page.getByRole('heading', { name: 'Alert rules', level: 1 }).waitFor();
    await page
      .getByRole('table', { name: 'Alert rules' })
      .getByRole('link', { name: 'Memory in use' })
      .waitFor();
    const created = (
      (await h.api('/api/v1/alerts/rules')).body.items as Record<string, unknown>[]
    ).find((r) => r.name === 'Memory in use')!;
    assert.equal(created.kind, 'threshold');
    assert.equal(created.metric, 'memory_usage_percent');
    assert.equal(created.comparator, '>');
    assert.equal(created.warning, 0);
    assert.equal(created.critical, 1);
    assert.equal(created.for_seconds, 0);
  });

  test('a log_count rule: its filter and line counts made, summarised, refused on a field, changed', async () => {
    await page.goto('/alerts/rules');
    await page.getByRole('button', { name: 'Create rule' }).click();
    await page.getByRole('heading', { name: 'New alert rule', level: 1 }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Request timeouts');
    await page.getByLabel('Kind').selectOption('log_count');
    // The filter takes the place of what the kind does not use: series, matchers, timing.
    await page.getByLabel('Query', { exact: true }).waitFor();
    for (const label of ['Metric', 'For (seconds)', 'Keep firing for (seconds)'])
      assert.equal(await page.getByLabel(label, { exact: true }).count(), 0, label);
    assert.equal(await page.getByRole('button', { name: 'Add matcher' }).count(), 0);
    // No preview for the kind: a note says so instead.
    assert.equal(await page.getByRole('button', { name: 'Preview' }).count(), 0);
    await page.getByText('Preview covers threshold rules only').waitFor();
    assert.equal(await page.getByLabel('Window (minutes)').inputValue(), '5');
    await page.getByLabel('Query', { exact: true }).fill('timeout');
    await page.getByRole('checkbox', { name: 'error', exact: true }).check();
    await page.getByRole('checkbox', { name: 'critical', exact: true }).check();
    await page.getByLabel('Window (minutes)').fill('10');
    await page.getByLabel('Warning at (lines)').fill('5');
    await page.getByLabel('Critical at (lines)').fill('20');
    await page
      .getByText('Warns at ≥ 5 lines in 10 min. Critical at ≥ 20 lines in 10 min.')
      .waitFor();
    const explore = page.getByRole('link', {
      name: 'Show the error or critical lines matching "timeout" in the logs explorer',
    });
    const href = new URL((await explore.getAttribute('href'))!, 'https://console.invalid');
    assert.equal(href.pathname, '/logs');
    assert.equal(href.searchParams.get('q'), 'timeout');
    assert.equal(href.searchParams.get('level'), 'error,critical');
    assert.equal(href.searchParams.get('range'), '15m');
    await captureScreen(page, 'alert-rule-log-editor');
    await page.getByRole('button', { name: 'Create rule' }).click();
    await page.getByRole('heading', { name: 'Alert rules', level: 1 }).waitFor();
    const row = page
      .getByRole('table', { name: 'Alert rules' })
      .getByRole('row', { name: /Request timeouts/ });
    await row.waitFor();
    assert.match(
      await row.innerText(),
      /Log lines matching a filter[\s\S]*error or critical lines matching "timeout" ≥ 5 \/ 20 in 10 min/,
    );
    const find = async () =>
      ((await h.api('/api/v1/alerts/rules')).body.items as Record<string, unknown>[]).find(
        (r) => r.name === 'Request timeouts',
      )!;
    const created = await find();
    assert.equal(created.kind, 'log_count');
    assert.equal(created.comparator, '>=');
    assert.equal(created.warning, 5);
    assert.equal(created.critical, 20);
    assert.equal(created.for_seconds, 0);
    assert.equal(created.metric, null);
    assert.deepEqual(created.params, {
      q: 'timeout',
      level: ['error', 'critical'],
      window_seconds: 600,
    });

    // Edited: the stored filter is read back; the server's refusals land on their fields.
    await row.getByRole('link', { name: 'Request timeouts', exact: true }).click();
    await page.getByRole('heading', { name: 'Alert rule Request timeouts', level: 1 }).waitFor();
    const query = page.getByLabel('Query', { exact: true });
    assert.equal(await query.inputValue(), 'timeout');
    assert.equal(
      await page.getByRole('checkbox', { name: 'error', exact: true }).isChecked(),
      true,
    );
    assert.equal(
      await page.getByRole('checkbox', { name: 'info', exact: true }).isChecked(),
      false,
    );
    assert.equal(await page.getByLabel('Window (minutes)').inputValue(), '10');
    await query.fill('--');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByText('has no word to search for').waitFor();
    assert.equal(await query.getAttribute('aria-invalid'), 'true');
    await query.fill('"connection reset"');
    const windowField = page.getByLabel('Window (minutes)');
    await windowField.fill('2000');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByText('an integer of seconds, 60 to 86400').waitFor();
    assert.equal(await windowField.getAttribute('aria-invalid'), 'true');
    assert.equal(await query.getAttribute('aria-invalid'), null);
    assert.deepEqual((await find()).params, created.params);

    await windowField.fill('60');
    await page.getByRole('checkbox', { name: 'critical', exact: true }).uncheck();
    await page.getByRole('combobox', { name: /^Source/ }).selectOption('journal');
    await page.getByLabel('Source name').fill('nginx.service');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByRole('heading', { name: 'Alert rules', level: 1 }).waitFor();
    // The list may show the rule as it was until its refetch lands: wait for the new summary.
    await row
      .filter({
        hasText:
          /error lines matching "connection reset" from journal nginx\.service ≥ 5 \/ 20 in 1 h/,
      })
      .waitFor();
    assert.deepEqual((await find()).params, {
      q: '"connection reset"',
      level: ['error'],
      source: 'journal',
      source_name: 'nginx.service',
      window_seconds: 3600,
    });
    // The list links to the same lines in the logs explorer.
    await page.getByRole('link', { name: 'Log lines of Request timeouts' }).click();
    await page.getByRole('search', { name: 'Log search' }).waitFor();
    assert.equal(
      await page.getByLabel('Search', { exact: true }).inputValue(),
      '"connection reset"',
    );
    const url = new URL(page.url());
    assert.equal(url.pathname, '/logs');
    assert.equal(url.searchParams.get('level'), 'error');
    assert.equal(url.searchParams.get('source'), 'journal');
    assert.equal(url.searchParams.get('source_name'), 'nginx.service');
    assert.equal(url.searchParams.get('range'), null);
  });

  test('the global thresholds: a refusal on its field, then saved', async () => {
    await page.goto('/alerts/rules');
    const warning = page.getByLabel('CPU warning (%)');
    await warning.fill('99');
    await page.getByLabel('CPU critical (%)').fill('95');
    await page.getByRole('button', { name: 'Save thresholds' }).click();
    await page.getByText('must not be above cpu.critical').waitFor();
    assert.equal(await warning.getAttribute('aria-invalid'), 'true');
    await warning.fill('70');
    await page.getByRole('button', { name: 'Save thresholds' }).click();
    await page.getByText('Thresholds saved.').waitFor();
    const config = (await h.api('/api/v1/alerts?limit=1')).body.config;
    assert.deepEqual(config.cpu, { warning: 70, critical: 95 });
  });

  test('a webhook channel: created, its Test delivered to the receiver, its secret never shown', async () => {
    await page.goto('/notifications');
    await page.getByRole('button', { name: 'Create channel' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create channel' });
    await dialog.getByLabel('Name', { exact: true }).fill('Loopback receiver');
    // Each type asks for its own settings.
    await dialog.getByLabel('Type').selectOption('email');
    await dialog.getByLabel('SMTP server').waitFor();
    assert.equal(await dialog.getByLabel('SMTP password').getAttribute('type'), 'password');
    await dialog.getByLabel('Type').selectOption('webhook');
    assert.equal(await dialog.getByLabel('SMTP server').count(), 0);
    assert.equal(
      await dialog.getByLabel('Name', { exact: true }).inputValue(),
      'Loopback receiver',
    );
    // A URL the server refuses is named on its field.
    await dialog.getByLabel('URL', { exact: true }).fill('ftp://127.0.0.1/hook');
    await dialog.getByLabel('Signing secret (HMAC-SHA256)').fill('webhook signing secret');
    await dialog.getByRole('checkbox', { name: 'critical' }).check();
    await dialog.getByRole('button', { name: 'Create channel' }).click();
    await dialog.getByText('must be http(s)').waitFor();
    assert.equal(
      await dialog.getByLabel('URL', { exact: true }).getAttribute('aria-invalid'),
      'true',
    );
    await dialog.getByLabel('URL', { exact: true }).fill(receiver.url);
    await dialog.getByRole('button', { name: 'Create channel' }).click();
    const row = page
      .getByRole('table', { name: 'Notification channels' })
      .getByRole('row', { name: /Loopback receiver/ });
    await row.waitFor();
    assert.match(await row.innerText(), /critical/);

    await page.getByRole('button', { name: 'Test channel Loopback receiver' }).click();
    await page.getByRole('status').filter({ hasText: 'Delivered' }).waitFor();
    assert.equal(receiver.requests.length, 1);
    assert.match(
      String(receiver.requests[0]!.headers['x-vigil-signature']),
      /^sha256=[0-9a-f]{64}$/,
    );

    // The secret is stored and never comes back: the editor says it is set, and offers a change.
    await page.getByRole('button', { name: 'Edit channel Loopback receiver' }).click();
    const edit = page.getByRole('dialog', { name: 'Change channel Loopback receiver' });
    await edit.getByText('Signing secret (HMAC-SHA256): set').waitFor();
    assert.equal(
      await edit.getByRole('button', { name: 'Change Signing secret (HMAC-SHA256)' }).count(),
      1,
    );
    assert.equal((await page.content()).includes('webhook signing secret'), false);
    await captureScreen(page, 'notification-channel-form');
    await edit.getByLabel('Group wait (seconds)').fill('5');
    await edit.getByRole('button', { name: 'Save channel' }).click();
    await edit.waitFor({ state: 'hidden' });
    const channels = (await h.api('/api/v1/notifications/channels')).body.items as Record<
      string,
      unknown
    >[];
    const saved = channels.find((c) => c.name === 'Loopback receiver')!;
    assert.equal(saved.group_wait_seconds, 5);
    assert.equal((saved.settings as Record<string, unknown>).has_secret, true);
    // Still signed after the change: the secret left alone was kept.
    await page.getByRole('button', { name: 'Test channel Loopback receiver' }).click();
    await eventually('the second test', async () =>
      receiver.requests.length === 2 ? true : undefined,
    );
    assert.match(String(receiver.requests[1]!.headers['x-vigil-signature']), /^sha256=/);
    await captureScreen(page, 'notifications');
  });

  test('a failing channel shows the error; turned off and deleted with confirmation', async () => {
    const closed = await freePort();
    const created = await h.api('/api/v1/notifications/channels', {
      name: 'Nobody listens',
      type: 'webhook',
      settings: { url: `http://127.0.0.1:${closed}/hook` },
    });
    assert.equal(created.status, 201, created.text);
    await page.goto('/notifications');
    await page.getByRole('button', { name: 'Test channel Nobody listens' }).click();
    const outcome = page.getByRole('status').filter({ hasText: 'Not delivered' });
    await outcome.waitFor();
    assert.match(await outcome.innerText(), /Nobody listens: .*(ECONNREFUSED|refused|connect)/i);

    await page.getByRole('checkbox', { name: 'Enabled: Nobody listens' }).uncheck();
    await eventually('the channel turned off', async () => {
      const r = await h.api(`/api/v1/notifications/channels/${created.body.id}`);
      return r.body.enabled === false ? true : undefined;
    });
    await page.getByRole('button', { name: 'Delete channel Nobody listens' }).click();
    await page
      .getByRole('dialog', { name: 'Delete channel Nobody listens?' })
      .getByRole('button', { name: 'Delete channel' })
      .click();
    await page
      .getByRole('table', { name: 'Notification channels' })
      .getByRole('row', { name: /Nobody listens/ })
      .waitFor({ state: 'detached' });
    assert.equal((await h.api(`/api/v1/notifications/channels/${created.body.id}`)).status, 404);
  });

  test('the job queue lists jobs and retries a dead one', async () => {
    // A job that used up its attempts, as the queue leaves one: dead, with its last error.
    const now = Date.now();
    const db = new SQLite(path.join(h.dataDir, 'vigil.db'));
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare(
        `insert into jobs (id, kind, payload, state, attempts, max_attempts, run_at, last_error,
           created_at, updated_at, finished_at)
         values (?, ?, ?, 'dead', 5, 5, ?, ?, ?, ?, ?)`,
      ).run(
        'e2e-dead-job',
        'e2e.example',
        '{}',
        now - 60_000,
        'the receiver answered 503 five times',
        now - 600_000,
        now - 60_000,
        now - 60_000,
      );
    } finally {
      db.close();
    }
    await page.goto('/admin/jobs');
    const table = page.getByRole('table', { name: 'Jobs' });
    const row = table.getByRole('row', { name: /e2e-dead-job/ });
    await row.waitFor();
    assert.match(
      await row.innerText(),
      /dead[\s\S]*5 \/ 5[\s\S]*the receiver answered 503 five times/,
    );
    await page.getByLabel('State').selectOption('dead');
    await row.waitFor();
    assert.equal(new URL(page.url()).searchParams.get('state'), 'dead');
    await captureScreen(page, 'jobs');
    await page.getByRole('button', { name: 'Retry job e2e-dead-job' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'e2e-dead-job (e2e.example) retried' })
      .waitFor();
    const job = await h.api('/api/v1/jobs/e2e-dead-job');
    assert.notEqual(job.body.state, 'dead');
    assert.ok(job.body.attempts <= 1, `attempts ${job.body.attempts}`);
    // Listed under its new state, no longer among the dead.
    await table.getByRole('row', { name: /e2e-dead-job/ }).waitFor({ state: 'detached' });
  });

  test('a viewer sees the screens without a control that changes anything', async () => {
    const created = await h.api('/api/v1/users', {
      username: 'viewer-rules',
      password: VIEWER_PASSWORD,
      roles: ['viewer'],
      must_change_password: false,
    });
    assert.equal(created.status, 201, created.text);
    const vp = await h.newPage();
    await signIn(vp, 'viewer-rules', VIEWER_PASSWORD);
    await vp.goto('/alerts/rules');
    await vp.getByRole('table', { name: 'Alert rules' }).waitFor();
    await vp.getByLabel('CPU warning (%)').waitFor();
    for (const name of ['Create rule', 'Save thresholds'])
      assert.equal(await vp.getByRole('button', { name }).count(), 0, name);
    assert.equal(await vp.getByRole('checkbox').count(), 0);
    await vp.getByRole('link', { name: 'Memory in use' }).click();
    await vp.getByRole('heading', { name: 'Alert rule Memory in use' }).waitFor();
    for (const name of ['Save rule', 'Delete rule'])
      assert.equal(await vp.getByRole('button', { name }).count(), 0, name);
    // Reading is allowed: the preview is a read.
    await vp.getByRole('button', { name: 'Preview' }).click();
    await vp.getByRole('table', { name: 'Hosts that would fire' }).waitFor();
    await vp.goto('/notifications');
    await vp
      .getByRole('table', { name: 'Notification channels' })
      .getByRole('row', { name: /Loopback receiver/ })
      .waitFor();
    for (const name of [/^Create channel/, /^Test channel/, /^Edit channel/, /^Delete channel/])
      assert.equal(await vp.getByRole('button', { name }).count(), 0, String(name));
    await vp.goto('/admin/jobs');
    await vp
      .getByRole('table', { name: 'Jobs' })
      .getByRole('row', { name: /e2e-dead-job/ })
      .waitFor();
    assert.equal(await vp.getByRole('button', { name: /^Retry/ }).count(), 0);
    assert.deepEqual(h.pageErrors, []);
  });
});
