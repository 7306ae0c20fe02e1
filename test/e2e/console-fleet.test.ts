// The fleet overview and the host screens, in Chromium against a real server with a real agent
// of this machine pushing every second: the host appears and moves live, the list filters and
// sorts, the host's charts draw and change range, processes sort and offer the signal dialog,
// and the checks, services, packages and facts tabs show what the agent reported.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
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

/** A custom check the agent runs: OK with one perfdata figure. */
const CHECKS = `[console_probe]
command = echo "PROBE OK - all fine | latency=3ms;5;10"
interval = 2
`;

/** The text of each row's cell `i` (rows with cells only: the header row has none). */
async function column(table: Locator, i: number): Promise<string[]> {
  const out: string[] = [];
  for (const row of await table.getByRole('row').all()) {
    const cells = row.getByRole('cell');
    if ((await cells.count()) > i) out.push((await cells.nth(i).innerText()).trim());
  }
  return out;
}

/** `12.5 %` → 12.5; `—` → NaN. */
const figure = (s: string) => Number.parseFloat(s.replace(/[^\d.]/g, ''));

describe('web console: fleet overview and host detail', { skip }, () => {
  let h: ConsoleHarness;
  let page: Page;
  let hostName: string;
  let hostId: string;

  before(async () => {
    h = await startConsole({ agent: true, agentChecks: CHECKS });
    const hosts = await eventually('the host listed', async () => {
      const r = await h.api('/api/v1/hosts');
      return r.body.items?.length === 1 ? r.body.items : undefined;
    });
    hostName = hosts[0].name;
    hostId = hosts[0].id;
    page = await h.newPage();
    await signIn(page, 'admin', CONSOLE_ADMIN_PASSWORD);
  });
  after(async () => {
    await h?.stop();
  });

  test('the fleet shows this host online, and its figures change live without a reload', async () => {
    const table = page.getByRole('table', { name: 'Hosts' });
    const row = table.getByRole('row').filter({ has: page.getByRole('link', { name: hostName }) });
    await row.getByText('online').waitFor({ timeout: 15_000 });
    await page.getByText('1 online', { exact: true }).waitFor();
    // Sparklines are labelled images; the figures beside them follow the stream.
    assert.equal(await row.getByRole('img', { name: 'CPU, last 30 minutes' }).count(), 1);
    const before = await row.innerText();
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    await eventually(
      'the row to change',
      async () => (await row.innerText()) !== before,
      20_000,
      250,
    );
    assert.deepEqual(navigations, [], 'no reload');
  });

  test('the fleet filters by name and status, and sorts by a column', async () => {
    const name = page.getByRole('searchbox', { name: 'Name' });
    await name.fill('no-such-host-anywhere');
    await page.getByText('No host matches these filters.').waitFor();
    assert.match(page.url(), /q=no-such-host-anywhere/);
    await name.fill(hostName.slice(0, 2));
    await page.getByRole('link', { name: hostName }).waitFor();
    await name.fill('');
    await page.getByLabel('Status').selectOption('offline');
    await page.getByText('No host matches these filters.').waitFor();
    await page.getByLabel('Status').selectOption('online');
    await page.getByRole('link', { name: hostName }).waitFor();
    await page.getByLabel('Status').selectOption('');
    // `/` jumps to the name filter from anywhere on the screen.
    await page.getByRole('heading', { name: 'Fleet', level: 1 }).click();
    await page.keyboard.press('/');
    await page.keyboard.type('web');
    assert.equal(await name.inputValue(), 'web', 'typing went to the filter');
    await name.fill('');

    const cpu = page.getByRole('columnheader', { name: 'CPU' });
    await cpu.getByRole('button').click();
    assert.equal(await cpu.getAttribute('aria-sort'), 'ascending');
    await cpu.getByRole('button').click();
    assert.equal(await cpu.getAttribute('aria-sort'), 'descending');
    assert.match(page.url(), /sort=cpu&dir=desc/);
    await captureScreen(page, 'fleet');
  });

  test('the host shows its charts, live, and switches to 24 hours', async () => {
    await page.getByRole('link', { name: hostName }).click();
    await page.getByRole('heading', { level: 1, name: hostName }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/hosts/${hostId}`);
    const cpu = page.getByRole('figure', { name: /^CPU$/ });
    await cpu.locator('canvas').first().waitFor();
    // The legend shows the newest figure (the cursor is off the chart).
    await eventually('a CPU figure in the legend', async () =>
      /Total:?\s*[\d.]+ %/.test(await cpu.innerText()),
    );
    for (const title of ['Load average', 'Memory and swap', 'Network per interface'])
      await page.getByRole('figure', { name: title }).locator('canvas').first().waitFor();
    assert.equal(
      await page.getByRole('button', { name: 'Live' }).getAttribute('aria-pressed'),
      'true',
    );
    await captureScreen(page, 'host-overview');

    await page.getByRole('button', { name: '24h' }).click();
    assert.equal(
      await page.getByRole('button', { name: '24h' }).getAttribute('aria-pressed'),
      'true',
    );
    assert.match(page.url(), /range=24h/);
    await eventually('the 24-hour CPU chart drawn', async () =>
      /Total:?\s*[\d.]+ %/.test(await cpu.innerText()),
    );
    assert.equal(await cpu.getByText('No data in this range').count(), 0);

    // Dragging across a chart zooms every chart to that span: a custom range.
    const box = (await cpu.locator('canvas').first().boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.4);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.4, { steps: 5 });
    await page.mouse.up();
    await page.waitForURL(/range=custom&from=\d+&to=\d+/);
    assert.equal(
      await page.getByRole('button', { name: 'Custom' }).getAttribute('aria-pressed'),
      'true',
    );
    // The inputs show the zoomed span (a span inside the day shown).
    await eventually('the custom range in the inputs', async () => {
      const from = Date.parse(await page.getByLabel('From').inputValue());
      const to = Date.parse(await page.getByLabel('To').inputValue());
      return to > from && to - from < 24 * 3_600_000 ? true : undefined;
    });
    await page.getByRole('button', { name: 'Live' }).click();
    await page.waitForURL((u) => !u.search.includes('range='));
  });

  test('processes sort by CPU and by name, and the signal dialog opens and cancels', async () => {
    await page.getByRole('tab', { name: 'Processes' }).click();
    const table = page.getByRole('table');
    await table.getByRole('row').nth(3).waitFor();
    const header = (name: string) => table.getByRole('columnheader', { name });

    // Busiest first by default.
    assert.equal(await header('CPU').getAttribute('aria-sort'), 'descending');
    const cpuDesc = (await column(table, 4)).map(figure).filter(Number.isFinite);
    assert.ok(cpuDesc.length > 3, 'processes listed');
    assert.deepEqual(
      cpuDesc,
      [...cpuDesc].sort((a, b) => b - a),
    );
    await header('CPU').getByRole('button').click();
    assert.equal(await header('CPU').getAttribute('aria-sort'), 'ascending');
    const cpuAsc = (await column(table, 4)).map(figure).filter(Number.isFinite);
    assert.deepEqual(
      cpuAsc,
      [...cpuAsc].sort((a, b) => a - b),
    );

    await header('Name').getByRole('button').click();
    assert.equal(await header('Name').getAttribute('aria-sort'), 'ascending');
    const names = await column(table, 1);
    assert.deepEqual(
      names,
      [...names].sort((a, b) =>
        a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' }),
      ),
    );

    const count = page.getByRole('status').filter({ hasText: /of \d+ processes/ });
    const [, all] = /of (\d+) processes/.exec(await count.innerText())!;
    await page.getByRole('searchbox', { name: 'Filter' }).fill(names[0]!);
    await eventually('the list filtered', async () => {
      const [, shown, total] = /(\d+) of (\d+) processes/.exec(await count.innerText())!;
      return Number(shown) >= 1 && Number(shown) < Number(total) ? true : undefined;
    });
    assert.ok(Number(all) > 3);
    await captureScreen(page, 'host-processes');

    await page
      .getByRole('button', { name: /^Send a signal to / })
      .first()
      .click();
    const dialog = page.getByRole('dialog', { name: 'Send a signal' });
    await dialog.waitFor();
    assert.ok(await dialog.getByRole('radio', { name: /SIGTERM/ }).isChecked());
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
  });

  test('checks show state, output and perfdata, and a check opens its history', async () => {
    await page.getByRole('tab', { name: 'Checks' }).click();
    const check = page.getByRole('listitem').filter({ hasText: 'console_probe' });
    await check.waitFor({ timeout: 20_000 });
    await check.getByText('OK', { exact: true }).waitFor();
    assert.match(await check.innerText(), /PROBE OK - all fine/);
    assert.match(await check.innerText(), /latency\s+3ms/);
    await check.getByRole('button', { name: /Show history/ }).click();
    await check.getByRole('table', { name: 'State changes of console_probe' }).waitFor();
    await captureScreen(page, 'host-checks');
  });

  test('services, containers, packages and facts tabs show what the agent reported', async () => {
    await page.getByRole('tab', { name: 'Services' }).click();
    await page
      .getByRole('region', { name: 'Services', exact: true })
      .or(page.getByText(/No services reported/))
      .waitFor();
    await captureScreen(page, 'host-services');

    await page.getByRole('tab', { name: 'Containers' }).click();
    await page
      .getByRole('region', { name: 'Containers', exact: true })
      .or(page.getByText(/No containers reported/))
      .waitFor();
    await captureScreen(page, 'host-containers');

    await page.getByRole('tab', { name: 'Packages' }).click();
    await page
      .getByRole('region', { name: 'Packages', exact: true })
      .or(page.getByText(/No package inventory reported/))
      .waitFor();
    await captureScreen(page, 'host-packages');

    await page.getByRole('tab', { name: 'System facts' }).click();
    const facts = page.getByRole('region', { name: 'System facts', exact: true });
    await facts.getByRole('heading', { name: 'General' }).waitFor();
    assert.match(await facts.innerText(), new RegExp(`Hostname\\s+${hostName}`));
    await captureScreen(page, 'host-facts');
  });

  test('a viewer sees the processes but not the signal action', async () => {
    const created = await h.api('/api/v1/users', {
      username: 'fleet-viewer',
      password: 'fleet viewer password',
      roles: ['viewer'],
    });
    assert.equal(created.status, 201, created.text);
    const viewer = await h.newPage();
    await signIn(viewer, 'fleet-viewer', 'fleet viewer password');
    await viewer.goto(`/hosts/${hostId}?tab=processes`);
    const table = viewer.getByRole('table');
    await table.getByRole('row').nth(3).waitFor();
    assert.equal(await viewer.getByRole('button', { name: /^Send a signal to / }).count(), 0);
  });

  test('a host whose agent stops turns offline in the open fleet, without a reload', async () => {
    await page.goto('/');
    const row = page
      .getByRole('table', { name: 'Hosts' })
      .getByRole('row')
      .filter({ has: page.getByRole('link', { name: hostName }) });
    await row.getByText('online').waitFor();
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    await h.stopAgent();
    // Three missed intervals and the server's next sweep: an `agent` event on the stream.
    await row.getByText('offline').waitFor({ timeout: 30_000 });
    assert.deepEqual(navigations, [], 'no reload');
    // The count filters the list to the offline hosts; the host says since when.
    await page.getByRole('button', { name: '1 offline' }).click();
    assert.match(page.url(), /status=offline/);
    await page.getByRole('link', { name: hostName }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Offline\. No report since / })
      .waitFor();
    await captureScreen(page, 'host-offline');
    assert.deepEqual(h.pageErrors, []);
  });
});

describe('web console: an empty fleet', { skip }, () => {
  let h: ConsoleHarness;

  before(async () => {
    h = await startConsole();
  });
  after(async () => {
    await h?.stop();
  });

  test('points to Add agent on the Agents screen', async () => {
    const page = await h.newPage();
    await signIn(page, 'admin', CONSOLE_ADMIN_PASSWORD);
    await page.getByRole('heading', { name: 'No hosts yet' }).waitFor();
    await page.getByText('Add agent').waitFor();
    await captureScreen(page, 'fleet-empty');
    await page.getByRole('main').getByRole('link', { name: 'Agents', exact: true }).first().click();
    await page.waitForURL(/\/agents$/);
    assert.deepEqual(h.pageErrors, []);
  });
});
