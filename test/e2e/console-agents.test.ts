// The console's agents screen, in Chromium against a real server with a real agent of this
// machine: an openITCOCKPIT agent asking to register appears under Pending without a reload, is
// approved in the browser and moves to the enrolled agents; the Add agent dialog shows the exact
// enrollment command with a fresh token and the server's CA fingerprint; an agent is revoked.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
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
import { eventually, httpsJson } from '../support/https.js';

const skip = browserMissing();

describe('web console: agents', { skip }, () => {
  let h: ConsoleHarness;
  let page: Page;
  const pendingUuid = randomUUID();
  const pendingHost = 'pending-e2e.example.com';

  before(async () => {
    h = await startConsole({ agent: true });
    page = await h.newPage();
    await signIn(page, 'admin', CONSOLE_ADMIN_PASSWORD);
  });
  after(async () => {
    await h?.stop();
  });

  test('the enrolled agent of this machine is listed with its state', async () => {
    await page.goto('/agents');
    const table = page.getByRole('table', { name: 'Enrolled agents' });
    const row = table.getByRole('row').filter({ hasText: 'This machine' });
    await row.waitFor();
    assert.match(await row.innerText(), /online/);
    assert.match(await row.innerText(), /console-e2e/);
    assert.match(await row.innerText(), /\d+ d left/, 'the certificate expiry with its days left');
    await page.getByRole('heading', { name: 'Pending approval' }).waitFor();
    await page.getByText('No agent is waiting for approval.').waitFor();
  });

  test('an agent asking to register appears under Pending without a reload', async () => {
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor({ timeout: 15_000 });
    const reg = await httpsJson(`${h.base}/agentconnector/register_agent.json`, {
      ca: h.ca,
      body: { agentuuid: pendingUuid, password: '', hostname: pendingHost, ipaddress: '192.0.2.7' },
    });
    assert.equal(reg.status, 201, reg.text);
    const pending = page.getByRole('list', { name: 'Pending agents' });
    await pending.getByText(pendingHost).waitFor({ timeout: 15_000 });
    assert.match(await pending.innerText(), /192\.0\.2\.7/);
    await captureScreen(page, 'agents');
  });

  test('approving it in the browser moves it to the enrolled agents', async () => {
    await page.getByRole('button', { name: `Approve ${pendingHost}` }).click();
    await page.getByText('No agent is waiting for approval.').waitFor();
    const row = page
      .getByRole('table', { name: 'Enrolled agents' })
      .getByRole('row')
      .filter({ hasText: pendingUuid });
    await row.waitFor();
    const agent = await h.api(`/api/v1/agents/${pendingUuid}`);
    assert.equal(agent.body.approval, 'approved');
  });

  test('Add agent shows the enrollment command with a token and the CA fingerprint', async () => {
    await page.getByRole('button', { name: 'Add agent' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add agent' });
    await dialog.getByRole('tab', { name: 'Vigil agent' }).waitFor();
    await dialog.getByLabel('Name', { exact: true }).fill('web-e2e');
    await dialog.getByLabel('Id (optional)').fill('web-e2e');
    await dialog.getByRole('button', { name: 'Create enrollment command' }).click();
    const command = await dialog.getByLabel('Enrollment command').innerText();
    const m = /^vigil-agent enroll --server (\S+) --token (\S+) --ca-fingerprint (\S+)$/.exec(
      command.trim(),
    );
    assert.ok(m, command);
    assert.equal(m[1], h.base);
    assert.equal(m[3], h.fingerprint);
    assert.equal(await dialog.getByLabel('CA fingerprint').innerText(), h.fingerprint);
    // The token is the one the server issued: the agent exists and waits for it.
    const made = await h.api('/api/v1/agents/web-e2e');
    assert.equal(made.status, 200, made.text);
    assert.ok(m[2]!.length >= 20);
    await captureScreen(page, 'add-agent');
    await dialog.getByRole('tab', { name: 'openITCOCKPIT push' }).click();
    const block = await dialog.getByLabel('Configuration block').innerText();
    assert.match(block, /^\[oitc\]\nenabled = True\nurl = https:\/\/127\.0\.0\.1:\d+\n/);
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  test('revoking an agent asks first, then marks it revoked', async () => {
    await page.getByRole('button', { name: `Details of ${pendingHost}` }).click();
    const details = page.getByRole('dialog', { name: pendingHost });
    await details.getByRole('button', { name: 'Revoke' }).click();
    const confirm = page.getByRole('dialog', { name: `Revoke ${pendingHost}?` });
    await confirm.getByRole('button', { name: 'Revoke agent' }).click();
    await eventually('the agent revoked', async () => {
      const r = await h.api(`/api/v1/agents/${pendingUuid}`);
      return r.body.approval === 'revoked' ? true : undefined;
    });
    const row = page
      .getByRole('table', { name: 'Enrolled agents' })
      .getByRole('row')
      .filter({ hasText: pendingUuid });
    await row.getByText('revoked').waitFor();
  });

  test('no page errors', () => {
    assert.deepEqual(h.pageErrors, []);
  });
});
