// The web console's frame, in Chromium against a real server: sign-in and its failures, deep
// links through the SPA fallback, the Content-Security-Policy, the live stream's visible state
// across a server restart, the theme, sign-out.
import assert from 'node:assert/strict';
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

describe('web console: frame, sign-in, stream state', { skip }, () => {
  let h: ConsoleHarness;
  let page: Page;
  const cspViolations: string[] = [];

  before(async () => {
    h = await startConsole();
    page = await h.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  });
  after(async () => {
    await h?.stop();
  });

  test('the console is served at / with a strict policy and no inline script', async () => {
    const res = await page.goto('/');
    assert.equal(res?.status(), 200);
    const headers = res!.headers();
    assert.match(headers['content-security-policy'] ?? '', /script-src 'self'(;|$)/);
    assert.doesNotMatch(headers['content-security-policy'] ?? '', /unsafe-eval/);
    assert.equal(headers['cache-control'], 'no-cache');
    const html = await res!.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    await page.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor();
    await captureScreen(page, 'login');
  });

  test('a wrong password is refused with the server message and correlation id', async () => {
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const text = await alert.innerText();
    // The server's own words and error code, not a generic status line.
    assert.match(text, /invalid username or password/);
    assert.match(text, /code auth\.invalid_credentials/);
    assert.match(text, /Correlation id: \S+/);
  });

  test('a deep link survives sign-in and a reload; an unknown path shows Not found', async () => {
    await page.goto('/admin/users');
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill(CONSOLE_ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/admin/users');
    await page.reload();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    assert.equal(
      await page.getByRole('link', { name: 'Users' }).getAttribute('aria-current'),
      'page',
    );
    await page.goto('/no/such/screen');
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
  });

  test('the stream state is visible: live, reconnecting while the server is down, live again', async () => {
    await page.goto('/');
    const state = page.getByRole('status').filter({ hasText: /Live|Connecting|Reconnecting/ });
    await state.filter({ hasText: 'Live' }).waitFor({ timeout: 15_000 });
    await h.restartServer();
    // The drop is seen, then the console comes back on its own (the session cookie still holds).
    await state.filter({ hasText: 'Live' }).waitFor({ timeout: 60_000 });
    assert.ok(!(await page.getByRole('heading', { name: 'Sign in to Vigil' }).isVisible()));
  });

  test('the theme follows the system and can be switched, and the choice is kept', async () => {
    const theme = page.getByLabel('Theme');
    await theme.selectOption('dark');
    assert.equal(await page.evaluate('document.documentElement.dataset.theme'), 'dark');
    await page.reload();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    assert.equal(await page.evaluate('document.documentElement.dataset.theme'), 'dark');
    await page.getByLabel('Theme').selectOption('system');
    assert.equal(await page.evaluate('document.documentElement.dataset.theme'), undefined);
  });

  test('sign-out ends the session: the API refuses the old cookie', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor();
    const status = await page.evaluate(async () => (await fetch('/api/v1/auth/me')).status);
    assert.equal(status, 401);
  });

  test('signIn helper works and no page error or CSP violation happened', async () => {
    await signIn(page, 'admin', CONSOLE_ADMIN_PASSWORD);
    assert.deepEqual(h.pageErrors, []);
    assert.deepEqual(cspViolations, []);
  });
});
