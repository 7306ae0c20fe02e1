// The console's administration and profile screens, in Chromium against a real server: a user
// created with the viewer role, a password reset that forces the change at the next sign-in, a
// viewer who sees no mutation controls (and whom the API refuses anyway), a custom role from the
// permission picker, an API client whose once-shown secret gets a token, the audit log and its
// filters, the collection interval with the API's validation, and TOTP enrolment in the profile
// followed by a sign-in with the TOTP step.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as OTPAuth from 'otpauth';
import type { Page } from 'playwright-core';
import {
  browserMissing,
  captureScreen,
  CONSOLE_ADMIN_PASSWORD,
  signIn,
  startConsole,
  type ConsoleHarness,
} from '../support/console.js';
import { httpsJson } from '../support/https.js';

const skip = browserMissing();

const VIEWER_PASSWORD = 'viewer password for the console';
const VIEWER_NEW_PASSWORD = 'a brand new viewer password';

describe('web console: administration and profile', { skip }, () => {
  let h: ConsoleHarness;
  let page: Page;

  before(async () => {
    h = await startConsole();
    page = await h.newPage();
    await signIn(page, 'admin', CONSOLE_ADMIN_PASSWORD);
  });
  after(async () => {
    await h?.stop();
  });

  test('create a user with the viewer role', async () => {
    await page.goto('/admin/users');
    await page.getByRole('button', { name: 'Create user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create user' });
    await dialog.getByLabel('User name').fill('viewer1');
    await dialog.getByLabel('E-mail (optional)').fill('viewer1@example.com');
    await dialog.getByLabel('Password', { exact: true }).fill(VIEWER_PASSWORD);
    await dialog.getByLabel('Must choose a new password at the first sign-in').uncheck();
    await dialog.getByRole('checkbox', { name: /^viewer/ }).check();
    await dialog.getByRole('button', { name: 'Create user' }).click();
    const row = page.getByRole('table', { name: 'Users' }).getByRole('row', { name: /viewer1/ });
    await row.waitFor();
    assert.match(await row.innerText(), /viewer1@example\.com/);
    const users = await h.api('/api/v1/users');
    const v = users.body.users.find((u: { username: string }) => u.username === 'viewer1');
    assert.deepEqual(v.roles, ['viewer']);
    await captureScreen(page, 'users');
  });

  test('a viewer sees no mutation controls, and the API refuses them anyway', async () => {
    const vp = await h.newPage();
    await signIn(vp, 'viewer1', VIEWER_PASSWORD);
    await vp.goto('/agents');
    await vp.getByRole('heading', { name: 'Agents', level: 1 }).waitFor();
    await vp.getByRole('table', { name: 'Enrolled agents' }).waitFor();
    for (const name of ['Add agent', 'Approve', 'Revoke'])
      assert.equal(await vp.getByRole('button', { name }).count(), 0, name);
    await vp.goto('/admin/users');
    await vp.getByRole('table', { name: 'Users' }).waitFor();
    for (const name of ['Create user', 'Reset password', 'Disable'])
      assert.equal(await vp.getByRole('button', { name }).count(), 0, name);
    await vp.goto('/admin/roles');
    await vp.getByRole('table', { name: 'Roles' }).waitFor();
    assert.equal(await vp.getByRole('button', { name: 'Create role' }).count(), 0);
    await vp.goto('/admin/settings');
    await vp.getByRole('heading', { name: 'Collection interval' }).waitFor();
    assert.equal(await vp.getByRole('button', { name: 'Save interval' }).count(), 0);
    // Audit and API clients are not in the viewer's menu.
    const nav = vp.getByRole('navigation', { name: 'Main' });
    assert.equal(await nav.getByRole('link', { name: 'Audit log' }).count(), 0);

    const login = await httpsJson(`${h.base}/api/v1/auth/login`, {
      ca: h.ca,
      body: { username: 'viewer1', password: VIEWER_PASSWORD },
    });
    assert.equal(login.status, 200, login.text);
    const refused = await httpsJson(`${h.base}/api/v1/agents`, {
      ca: h.ca,
      token: login.body.access_token,
      body: { name: 'not allowed' },
    });
    assert.equal(refused.status, 403, refused.text);
  });

  test('a password reset shows the temporary password once; the user must change it', async () => {
    await page.getByRole('button', { name: 'Reset password of viewer1' }).click();
    await page.getByRole('button', { name: 'Reset password', exact: true }).click();
    const shown = page.getByRole('dialog', { name: 'New password of viewer1' });
    const temporary = (await shown.getByLabel('Temporary password').innerText()).trim();
    assert.ok(temporary.length >= 12, temporary);
    await shown.getByRole('button', { name: 'Done' }).click();

    const vp = await h.newPage();
    await vp.goto('/');
    await vp.getByLabel('User name').fill('viewer1');
    await vp.getByLabel('Password').fill(temporary);
    await vp.getByRole('button', { name: 'Sign in' }).click();
    await vp.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await captureScreen(vp, 'password-change');
    await vp.getByLabel('Current password').fill(temporary);
    await vp.getByLabel('New password', { exact: true }).fill(VIEWER_NEW_PASSWORD);
    await vp.getByLabel('New password again').fill(VIEWER_NEW_PASSWORD);
    await vp.getByRole('button', { name: 'Change password and continue' }).click();
    await vp.getByRole('navigation', { name: 'Main' }).waitFor();
    await vp.getByRole('link', { name: 'Profile of viewer1' }).waitFor();
  });

  test('a custom role from the permission picker', async () => {
    await page.goto('/admin/roles');
    await page.getByRole('button', { name: 'Create role' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create role' });
    await dialog.getByLabel('Name', { exact: true }).fill('agent-keeper');
    await dialog
      .getByLabel('Description', { exact: true })
      .fill('Reads everything, manages agents.');
    await dialog.getByRole('checkbox', { name: /^\*:read/ }).check();
    // A permission the pattern grants shows as granted and cannot be unticked on its own.
    assert.ok(await dialog.getByRole('checkbox', { name: /^agents:read/ }).isDisabled());
    await dialog.getByRole('checkbox', { name: /^agents:write/ }).check();
    await dialog.getByRole('button', { name: 'Create role' }).click();
    const row = page
      .getByRole('table', { name: 'Roles' })
      .getByRole('row', { name: /agent-keeper/ });
    await row.waitFor();
    const role = await h.api('/api/v1/roles/agent-keeper');
    assert.deepEqual([...role.body.permissions].sort(), ['*:read', 'agents:write']);
    await captureScreen(page, 'roles');
  });

  test('an API client: the secret is shown once and gets a token', async () => {
    await page.goto('/admin/clients');
    await page.getByRole('button', { name: 'Create API client' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create API client' });
    await dialog.getByLabel('Client id').fill('e2e-machine');
    await dialog.getByLabel('Description').fill('A script');
    await dialog.getByRole('checkbox', { name: /^viewer/ }).check();
    await dialog.getByRole('button', { name: 'Create client' }).click();
    const secret = (await dialog.getByLabel('Client secret').innerText()).trim();
    assert.ok(secret.length >= 16);
    await captureScreen(page, 'clients');
    await dialog.getByRole('button', { name: 'I have stored the secret' }).click();
    await page
      .getByRole('table', { name: 'API clients' })
      .getByRole('row', { name: /e2e-machine/ })
      .waitFor();
    const token = await page.request.post(`${h.base}/oauth/token`, {
      form: { grant_type: 'client_credentials', client_id: 'e2e-machine', client_secret: secret },
    });
    assert.equal(token.status(), 200, await token.text());
    assert.ok(((await token.json()) as { access_token?: string }).access_token);

    await page.getByRole('button', { name: 'Edit client e2e-machine' }).click();
    const edit = page.getByRole('dialog', { name: 'Change API client e2e-machine' });
    await edit.getByLabel('Description').fill('The nightly report script');
    await edit.getByRole('button', { name: 'Save client' }).click();
    await page
      .getByRole('table', { name: 'API clients' })
      .getByText('The nightly report script')
      .waitFor();
  });

  test('the audit log lists the changes, filters them and expands one', async () => {
    await page.goto('/admin/audit');
    const table = page.getByRole('table', { name: 'Audit events' });
    await table
      .getByRole('row', { name: /user\.create/ })
      .first()
      .waitFor();
    await page.getByLabel('Action', { exact: true }).fill('user.create');
    await page.waitForURL(/action=user\.create/);
    await table.getByRole('row', { name: /role\.create/ }).waitFor({ state: 'detached' });
    for (const text of await table.locator('tbody > tr').allInnerTexts())
      assert.match(text, /user\.create/);
    await table.getByRole('button', { name: 'Details of user.create' }).first().click();
    assert.match(await table.locator('pre').innerText(), /"source_address"/);
    await captureScreen(page, 'audit');
  });

  test('the audit log pages with the cursor: Load more brings the older events', async () => {
    for (let i = 0; i < 60; i++) {
      const r = await h.api('/api/v1/settings/refresh', { interval: 30 + (i % 5) });
      assert.equal(r.status, 200, r.text);
    }
    await page.goto('/admin/audit?action=settings.refresh');
    const rows = page.getByRole('table', { name: 'Audit events' }).locator('tbody > tr');
    await page.getByText('50 events shown').waitFor();
    assert.equal(await rows.count(), 50);
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.getByText('60 events shown, no older ones').waitFor();
    assert.equal(await rows.count(), 60);
    assert.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0);
  });

  test('the collection interval: a bad value gets the API message, a good one is saved', async () => {
    await page.goto('/admin/settings');
    const input = page.getByLabel('Interval in seconds (1 to 3600)');
    await input.fill('0');
    await page.getByRole('button', { name: 'Save interval' }).click();
    // The API's own message and code, not only its status.
    const alert = page.getByRole('alert');
    await alert.getByText('settings.interval_invalid').waitFor();
    assert.match(await alert.innerText(), /interval must be whole seconds from 1 to 3600/);
    await input.fill('20');
    await page.getByRole('button', { name: 'Save interval' }).click();
    await page.getByText('Saved: agents collect every 20 s').waitFor();
    assert.equal((await h.api('/api/v1/settings/refresh')).body.interval, 20);
    await captureScreen(page, 'settings');
  });

  test('TOTP enrolment in the profile, then a sign-in with the TOTP step', async () => {
    const created = await h.api('/api/v1/users', {
      username: 'admin2',
      password: CONSOLE_ADMIN_PASSWORD,
      roles: ['admin'],
      must_change_password: false,
    });
    assert.equal(created.status, 201, created.text);
    const ap = await h.newPage();
    await signIn(ap, 'admin2', CONSOLE_ADMIN_PASSWORD);
    await ap.goto('/profile');
    await ap.getByText('Status: off').waitFor();
    await ap.getByRole('button', { name: 'Set up an authenticator' }).click();
    const secret = (await ap.getByLabel('Secret').innerText()).trim();
    await ap.getByRole('img', { name: 'QR code of the authenticator secret' }).waitFor();
    await captureScreen(ap, 'profile');
    const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) });
    const enrolledStep = Math.floor(Date.now() / 30_000);
    await ap.getByLabel('Code from the app').fill(totp.generate());
    await ap.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    await ap.getByText('Two-factor sign-in is on').waitFor();
    const me = await h.api('/api/v1/users');
    assert.equal(
      me.body.users.find((u: { username: string }) => u.username === 'admin2').mfa_enabled,
      true,
    );

    await ap.getByRole('button', { name: 'Sign out' }).click();
    await ap.getByLabel('User name').fill('admin2');
    await ap.getByLabel('Password').fill(CONSOLE_ADMIN_PASSWORD);
    await ap.getByRole('button', { name: 'Sign in' }).click();
    await ap.getByLabel('Authentication code').waitFor();
    await captureScreen(ap, 'login-totp');
    // A code is accepted once: the sign-in needs the next step's.
    while (Math.floor(Date.now() / 30_000) <= enrolledStep) await ap.waitForTimeout(500);
    await ap.getByLabel('Authentication code').fill(totp.generate());
    await ap.getByRole('button', { name: 'Verify' }).click();
    await ap.getByRole('navigation', { name: 'Main' }).waitFor();
  });

  test('no page errors', () => {
    assert.deepEqual(h.pageErrors, []);
  });
});
