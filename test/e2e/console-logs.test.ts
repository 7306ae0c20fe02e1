// The logs explorer, in Chromium against a real server with a real agent of this machine: log
// lines go in through the agent's push route over its mutual TLS (its own certificate), then are
// searched by word, phrase and prefix with the matches marked (and markup in a message shown as
// text), filtered by level, source, host and agent through the address, expanded to their fields,
// paged with Load more, followed live (a line pushed while the tail is on appears without a
// reload; paused, it waits; a reader scrolled down keeps their place; after a server restart the
// tail comes back by itself), and read on the host's Logs tab. With no line stored, the explorer
// says how to send some.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually, httpsJson } from '../support/https.js';
import { databaseKinds } from '../support/databases.js';
import {
  browserMissing,
  captureScreen,
  CONSOLE_ADMIN_PASSWORD,
  signIn,
  startConsole,
  type ConsoleHarness,
} from '../support/console.js';

const skip = browserMissing();

/** A line as the agent pushes it. */
interface Line {
  timestamp: number;
  source: 'journal' | 'file' | 'docker';
  source_name: string;
  level: 'debug' | 'info' | 'notice' | 'warning' | 'error' | 'critical';
  message: string;
  fields?: Record<string, string>;
}

for (const kind of await databaseKinds())
  describe(`web console: logs (${kind.name})`, { skip }, () => {
    let database: { url?: string; drop(): Promise<void> } | undefined;
    let h: ConsoleHarness;
    let page: Page;
    let hostId: string;
    let hostName: string;
    let cert: string;
    let key: string;

    /** Pushes lines as the local agent, over its mutual TLS, and waits for them to be stored. */
    const push = async (entries: Line[], dropped?: unknown[]) => {
      const r = await httpsJson(`${h.base}/api/v1/agents/${h.agentId}/logs`, {
        ca: h.ca,
        cert,
        key,
        body: { batch_id: randomUUID(), entries, ...(dropped ? { dropped } : {}) },
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.accepted, entries.length, r.text);
    };

    /** The rows of the results: each has its toggle (an expanded row's fields are not one). */
    const rows = () =>
      page
        .getByRole('table', { name: 'Log entries' })
        .getByRole('row')
        .filter({ has: page.getByRole('button', { name: /^Fields of the entry at / }) });

    /** Screenshots (and axe) once, on SQLite: the screens do not differ by engine. */
    const shot = (name: string) =>
      kind.name === 'sqlite' ? captureScreen(page, name) : Promise.resolve();

    /** Runs a search from the search box (Enter) and waits for its count. */
    const searchFor = async (q: string, count: string) => {
      await page.getByLabel('Search', { exact: true }).fill(q);
      await page.getByLabel('Search', { exact: true }).press('Enter');
      await page.getByRole('status').filter({ hasText: count }).first().waitFor();
    };

    before(async () => {
      // The same explorer on either engine: their full-text indexes must match the same words.
      database = kind.name === 'postgres' ? await kind.create() : undefined;
      h = await startConsole({
        agent: true,
        env: database?.url ? { VIGIL_DATABASE_URL: database.url } : {},
      });
      const hosts = await eventually('the host listed', async () => {
        const r = await h.api('/api/v1/hosts');
        return r.body.items?.length === 1 ? r.body.items : undefined;
      });
      hostId = hosts[0].id;
      hostName = hosts[0].name;
      cert = readFileSync(path.join(h.agentDir, 'vigil-agent.crt'), 'utf8');
      key = readFileSync(path.join(h.agentDir, 'vigil-agent.key'), 'utf8');
      page = await h.newPage();
      await signIn(page, 'admin', CONSOLE_ADMIN_PASSWORD);
    });
    after(async () => {
      await h?.stop();
      await database?.drop();
    });

    test('with no line stored, the explorer says how to send some', async () => {
      await page.getByRole('link', { name: 'Logs' }).click();
      await page.getByRole('heading', { name: 'Logs', level: 1 }).waitFor();
      await page.getByText('No logs yet.').waitFor();
      await page.getByText('[logs]', { exact: true }).first().waitFor();
      await shot('logs-empty');
    });

    test('a search by word, phrase and prefix marks what matched', async () => {
      const now = Date.now();
      await push([
        {
          timestamp: now - 50_000,
          source: 'journal',
          source_name: 'nginx.service',
          level: 'info',
          message: 'GET /index.html 200 served in 3 ms',
        },
        {
          timestamp: now - 40_000,
          source: 'journal',
          source_name: 'nginx.service',
          level: 'error',
          message: 'upstream timed out: Connection refused by backend 10.0.0.7',
          fields: { _PID: '4242', _SYSTEMD_UNIT: 'nginx.service' },
        },
        {
          timestamp: now - 30_000,
          source: 'file',
          source_name: '/var/log/app/app.log',
          level: 'warning',
          message: 'disk almost full on /srv',
        },
        {
          timestamp: now - 20_000,
          source: 'file',
          source_name: '/var/log/app/app.log',
          level: 'error',
          message: 'payment failed: card <b>declined</b> <img src=x onerror=alert(1)>',
        },
        {
          timestamp: now - 10_000,
          source: 'docker',
          source_name: 'db',
          level: 'critical',
          message: 'database connection refused, shutting down',
        },
        {
          timestamp: now - 5_000,
          source: 'journal',
          source_name: 'cron.service',
          level: 'debug',
          message: 'session opened for user root',
        },
      ]);
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.getByRole('status').filter({ hasText: '6 matches' }).first().waitFor();
      assert.equal(await rows().count(), 6);
      // Newest first.
      assert.match(await rows().first().innerText(), /session opened/);

      await searchFor('refused', '2 matches');
      assert.match(page.url(), /[?&]q=refused/);
      assert.equal(await rows().count(), 2);
      const marks = await page
        .getByRole('table', { name: 'Log entries' })
        .locator('mark')
        .allInnerTexts();
      assert.deepEqual(
        marks.map((m) => m.toLowerCase()),
        ['refused', 'refused'],
      );

      await searchFor('"refused by backend"', '1 match');
      assert.deepEqual(
        await page.getByRole('table', { name: 'Log entries' }).locator('mark').allInnerTexts(),
        ['refused by backend'],
      );

      await searchFor('shut*', '1 match');
      assert.deepEqual(
        await page.getByRole('table', { name: 'Log entries' }).locator('mark').allInnerTexts(),
        ['shutting'],
      );

      // Markup in a message is text, never markup.
      await searchFor('declined', '1 match');
      assert.match(await rows().first().innerText(), /card <b>declined<\/b> <img src=x/);
      assert.equal(
        await page.getByRole('table', { name: 'Log entries' }).getByRole('img').count(),
        0,
      );

      await searchFor('nosuchwordanywhere', '0 matches');
      await page.getByText('No entry matches this search in this time range.').waitFor();

      // The search is in the address: a fresh load of it shows the same.
      await page.goto('/logs?q=refused&range=24h');
      await page.getByRole('status').filter({ hasText: '2 matches' }).first().waitFor();
      assert.equal(await page.getByLabel('Search', { exact: true }).inputValue(), 'refused');
      assert.equal(await page.getByRole('combobox', { name: /^Time range/ }).inputValue(), '24h');
      await page.getByRole('img', { name: /^2 matches from / }).waitFor();
      await shot('logs');
    });

    test('levels filter through the address, and a row expands to its fields', async () => {
      // An agent named in the address filters too, until its filter is removed.
      await page.goto('/logs?agent=no-such-agent');
      await page.getByRole('status').filter({ hasText: '0 matches' }).first().waitFor();
      await page.getByRole('button', { name: 'Remove the filter on agent no-such-agent' }).click();
      await page.getByRole('status').filter({ hasText: '6 matches' }).first().waitFor();
      assert.doesNotMatch(page.url(), /agent=/);
      await page.goto(`/logs?agent=${h.agentId}`);
      await page.getByRole('status').filter({ hasText: '6 matches' }).first().waitFor();
      await page.goto('/logs');
      await page.getByRole('status').filter({ hasText: '6 matches' }).first().waitFor();
      // The fleet's explorer filters by host and shows each line's host.
      await page.getByRole('combobox', { name: /^Host/ }).selectOption(hostId);
      assert.match(page.url(), new RegExp(`[?&]host=${hostId}`));
      await page.getByRole('status').filter({ hasText: '6 matches' }).first().waitFor();
      assert.equal(await page.getByRole('columnheader', { name: 'Host' }).count(), 1);
      assert.match(await rows().first().innerText(), new RegExp(hostName));
      await page.getByRole('checkbox', { name: 'error' }).check();
      await page.getByRole('status').filter({ hasText: '2 matches' }).first().waitFor();
      assert.match(page.url(), /[?&]level=error(&|$)/);
      await page.getByRole('checkbox', { name: 'critical' }).check();
      await page.getByRole('status').filter({ hasText: '3 matches' }).first().waitFor();
      assert.match(page.url(), /[?&]level=error%2Ccritical(&|$)/);
      for (const text of await rows().allInnerTexts()) assert.match(text, /error|critical/);

      await page.getByRole('combobox', { name: /^Source\b(?! name)/ }).selectOption('journal');
      await page.getByRole('status').filter({ hasText: '1 match' }).first().waitFor();
      assert.match(page.url(), /[?&]source=journal/);

      const row = rows().filter({ hasText: 'refused by backend' });
      const toggle = row.getByRole('button', { name: /^Fields of the entry at / });
      assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
      await toggle.click();
      assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
      const details = page.getByRole('row').filter({ hasText: 'Entry id' });
      await details.getByText('_PID').waitFor();
      assert.match(await details.innerText(), /_PID\s+4242/);
      assert.match(await details.innerText(), /_SYSTEMD_UNIT\s+nginx\.service/);
      await details.getByRole('link', { name: hostName }).waitFor();
      await shot('logs-expanded');
    });

    test('a custom time range narrows the search, and a reversed one is refused', async () => {
      /** A time as a datetime-local input takes it (the browser runs in this machine's zone). */
      const local = (ms: number) =>
        new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
      const now = Date.now();
      await page.goto('/logs');
      await page.getByRole('status').filter({ hasText: '6 matches' }).first().waitFor();
      await page.getByRole('combobox', { name: /^Time range/ }).selectOption('custom');
      assert.match(page.url(), /[?&]range=custom&from=[^&]+&to=[^&]+/);
      const from = page.getByLabel('From', { exact: true });
      const to = page.getByLabel('To', { exact: true });
      await from.fill(local(now - 2 * 3_600_000));
      await to.fill(local(now - 90 * 60_000));
      await to.press('Enter');
      await page.getByRole('status').filter({ hasText: '0 matches' }).first().waitFor();
      await from.fill(local(now));
      await to.fill(local(now - 3_600_000));
      await to.press('Enter');
      await page.getByRole('alert').filter({ hasText: '“From” must be before “To”.' }).waitFor();
      await from.fill(local(now - 10 * 60_000));
      await to.fill(local(now + 10 * 60_000));
      await to.press('Enter');
      await page.getByRole('status').filter({ hasText: '6 matches' }).first().waitFor();
      assert.equal(await page.getByRole('alert').count(), 0);
      // The range is in the address: a reload keeps it.
      await page.reload();
      await page.getByRole('status').filter({ hasText: '6 matches' }).first().waitFor();
      assert.equal(await from.inputValue(), local(now - 10 * 60_000));
    });

    test('live tail shows a new line without a reload, and holds lines while paused', async () => {
      await page.goto('/logs?q=tailword');
      await page.getByRole('status').filter({ hasText: '0 matches' }).first().waitFor();
      await page.getByRole('button', { name: 'Live tail' }).click();
      assert.equal(
        await page.getByRole('button', { name: 'Live tail' }).getAttribute('aria-pressed'),
        'true',
      );
      assert.match(page.url(), /[?&]live=1/);
      // The explorer's own state (the header's says Live for the console's stream).
      await page
        .getByRole('main')
        .getByRole('status')
        .filter({ hasText: /^Live$/ })
        .waitFor();
      // From here on the page is never reloaded (the address changes only with the search).
      const navigations: string[] = [];
      page.on('framenavigated', (f) => navigations.push(f.url()));
      // A line that does not match the search stays out; one that does comes in.
      await push([
        {
          timestamp: Date.now(),
          source: 'journal',
          source_name: 'sshd.service',
          level: 'info',
          message: 'unrelated line',
        },
        {
          timestamp: Date.now(),
          source: 'journal',
          source_name: 'sshd.service',
          level: 'notice',
          message: 'first tailword arrived',
        },
      ]);
      await rows().filter({ hasText: 'first tailword arrived' }).waitFor({ timeout: 15_000 });
      // The stream names the host by id; the row shows its name.
      assert.match(
        await rows().filter({ hasText: 'first tailword arrived' }).innerText(),
        new RegExp(`\\b${hostName}\\b`),
      );
      assert.equal(await rows().filter({ hasText: 'unrelated line' }).count(), 0);
      assert.deepEqual(
        await rows().filter({ hasText: 'first tailword' }).locator('mark').allInnerTexts(),
        ['tailword'],
      );

      await page.getByRole('button', { name: 'Pause' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: /^Paused/ })
        .waitFor();
      await push([
        {
          timestamp: Date.now(),
          source: 'journal',
          source_name: 'sshd.service',
          level: 'warning',
          message: 'second tailword waited',
        },
      ]);
      await page.getByRole('status').filter({ hasText: '1 new line waiting' }).waitFor();
      assert.equal(await rows().filter({ hasText: 'second tailword' }).count(), 0);
      await page.getByRole('button', { name: 'Resume' }).click();
      await rows().filter({ hasText: 'second tailword waited' }).waitFor();
      // Newest first.
      assert.match(await rows().first().innerText(), /second tailword/);

      // A reader scrolled down to older lines keeps their place while new ones come in on top.
      await push(
        Array.from({ length: 15 }, (_, i) => ({
          timestamp: Date.now(),
          source: 'file' as const,
          source_name: '/var/log/filler.log',
          level: 'info' as const,
          message: `filler tailword ${i}`,
        })),
      );
      await rows().filter({ hasText: 'filler tailword 14' }).waitFor();
      await page.setViewportSize({ width: 1280, height: 420 });
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      const oldest = rows().filter({ hasText: 'first tailword arrived' });
      const before = (await oldest.boundingBox())!.y;
      assert.ok((await page.evaluate(() => window.scrollY)) > 0, 'the page is scrolled down');
      await push([
        {
          timestamp: Date.now(),
          source: 'journal',
          source_name: 'sshd.service',
          level: 'info',
          message: 'third tailword on top',
        },
      ]);
      await rows().filter({ hasText: 'third tailword on top' }).waitFor({ state: 'attached' });
      await page.waitForTimeout(100);
      const after = (await oldest.boundingBox())!.y;
      assert.ok(
        Math.abs(after - before) <= 1,
        `the reader's line moved from ${before} to ${after}`,
      );
      await page.setViewportSize({ width: 1280, height: 860 });

      // A lost connection comes back by itself, resuming after the last line it showed.
      await h.restartServer();
      await push([
        {
          timestamp: Date.now(),
          source: 'journal',
          source_name: 'sshd.service',
          level: 'info',
          message: 'fourth tailword after a restart',
        },
      ]);
      await rows()
        .filter({ hasText: 'fourth tailword after a restart' })
        .waitFor({ state: 'attached', timeout: 60_000 });
      assert.equal(await rows().filter({ hasText: 'third tailword on top' }).count(), 1);
      assert.deepEqual(navigations, [], 'the lines arrived without a reload');
      await page.getByRole('button', { name: 'Live tail' }).click();
      assert.doesNotMatch(page.url(), /live=1/);
    });

    test('Load more reads the next page', async () => {
      const now = Date.now();
      await push(
        Array.from({ length: 130 }, (_, i) => ({
          timestamp: now - 60_000 + i * 100,
          source: 'file' as const,
          source_name: '/var/log/bulk.log',
          level: 'info' as const,
          message: `bulkword line ${i}`,
        })),
        [{ source: 'file', source_name: '/var/log/noisy.log', reason: 'rate_limited', count: 42 }],
      );
      await page.goto('/logs?q=bulkword');
      await page.getByRole('status').filter({ hasText: '130 matches' }).first().waitFor();
      // The histogram counts every match, not only the page loaded.
      await page.getByRole('img', { name: /^130 matches from / }).waitFor();
      assert.equal(await rows().count(), 100);
      assert.match(await rows().first().innerText(), /bulkword line 129/);
      await page.getByRole('button', { name: 'Load more' }).click();
      await rows()
        .filter({ hasText: /bulkword line 0$/ })
        .waitFor();
      assert.equal(await rows().count(), 130);
      assert.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0);
      await page.getByRole('img', { name: /^130 matches from / }).waitFor();

      // Its table holds the same counts; an interval's button narrows the range to it.
      await page.getByText('Counts as a table').click();
      const counts = page.getByRole('table', { name: 'Matches per interval' });
      assert.match(await counts.getByRole('row', { name: /^Total/ }).innerText(), /Total\s+130/);
      const first = counts
        .getByRole('row')
        .filter({ has: page.getByRole('button') })
        .first();
      const cells = await first.getByRole('cell').allInnerTexts();
      const inInterval = Number(cells[cells.length - 1]);
      assert.ok(inInterval > 0 && inInterval <= 130, cells.join(' '));
      await first.getByRole('button', { name: /^Show / }).click();
      await page.waitForURL(/range=custom/);
      const noun = inInterval === 1 ? 'match' : 'matches';
      await page
        .getByRole('status')
        .filter({ hasText: new RegExp(`^${inInterval} ${noun}`) })
        .first()
        .waitFor();
      await page.getByRole('img', { name: new RegExp(`^${inInterval} ${noun} from `) }).waitFor();
      await page.goto('/logs?q=bulkword');

      // What agents dropped before sending is told below the entries.
      await page.getByText('Agents dropped 42 lines before sending them').click();
      const dropped = page.getByRole('table', { name: 'Dropped lines by agent and source' });
      assert.match(await dropped.innerText(), /\/var\/log\/noisy\.log\s+over the rate limit\s+42/);
    });

    test('past 10,000 matches the count says "more than"', async () => {
      const now = Date.now();
      for (let batch = 0; batch < 3; batch++)
        await push(
          Array.from({ length: batch < 2 ? 5_000 : 1 }, (_, i) => ({
            timestamp: now - 30_000 + batch,
            source: 'file' as const,
            source_name: '/var/log/flood.log',
            level: 'info' as const,
            message: `floodword ${batch} ${i}`,
          })),
        );
      await page.goto('/logs?q=floodword');
      await page
        .getByRole('status')
        .filter({ hasText: 'More than 10,000 matches' })
        .first()
        .waitFor();
      await page.goto('/logs?q=floodword&source_name=/var/log/nowhere.log');
      await page.getByRole('status').filter({ hasText: '0 matches' }).first().waitFor();
    });

    test("a host's Logs tab shows the host's lines", async () => {
      await page.goto(`/hosts/${encodeURIComponent(hostId)}`);
      await page.getByRole('heading', { name: hostName, level: 1 }).waitFor();
      await page.getByRole('tab', { name: 'Logs' }).click();
      assert.match(page.url(), /[?&]tab=logs/);
      await page
        .getByRole('status')
        .filter({ hasText: /\d+ matches/ })
        .first()
        .waitFor();
      // The host is fixed: no host column and no host filter.
      assert.equal(await page.getByRole('columnheader', { name: 'Host' }).count(), 0);
      assert.equal(await page.getByRole('combobox', { name: /^Host/ }).count(), 0);
      await searchFor('refused', '2 matches');
      assert.match(page.url(), /[?&]tab=logs/);
      assert.match(page.url(), /[?&]q=refused/);
      await shot('host-logs');

      // The host's charts share the address's range: their live 15 minutes, and a custom range
      // in epoch milliseconds, are the explorer's too.
      const base = `/hosts/${encodeURIComponent(hostId)}?tab=logs`;
      await page.goto(`${base}&range=live`);
      await page.getByRole('status').filter({ hasText: 'matches' }).first().waitFor();
      assert.equal(await page.getByRole('combobox', { name: /^Time range/ }).inputValue(), '15m');
      const from = Date.now() - 3_600_000;
      await page.goto(`${base}&range=custom&from=${from}&to=${Date.now() + 60_000}`);
      await page.getByRole('status').filter({ hasText: 'matches' }).first().waitFor();
      const shown = await page.getByLabel('From', { exact: true }).inputValue();
      assert.equal(Date.parse(shown), Math.floor(from / 60_000) * 60_000);
      assert.deepEqual(h.pageErrors, []);
    });
  });
