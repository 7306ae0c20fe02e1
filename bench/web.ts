// Benchmark: the web console with a large fleet. A built `vigil serve` (SQLite, temporary data
// directory) takes pushes from a simulated fleet of N hosts (openITCOCKPIT agent connector,
// auto-approved from loopback, the recorded Debian 12 document varied per host), one host gets
// 7 days of history bulk-loaded (bench/history-load.ts), and while the fleet keeps pushing (each
// host every 10 s), headless Chromium measures in the page itself:
//
// - fleet overview first render: navigation start → the visible rows drawn (target < 1 s);
// - a filter keystroke → the updated list drawn (the worst of several keystrokes, < 100 ms);
// - host detail, 7-day charts: choosing `7d` → every chart drawn with its data (< 500 ms); the
//   figure from a fresh navigation to `?range=7d` is printed beside it;
// - initial JavaScript: the gzip size of the scripts index.html loads (≤ 250 KB).
//
// Each figure is printed with PASS/FAIL; the exit status is 1 only when the run itself failed.
// Settings (environment): VIGIL_BENCH_WEB_HOSTS (default 1000), VIGIL_BENCH_WEB_DAYS (7),
// VIGIL_BENCH_WEB_SCREENSHOTS (a folder: the fleet, scrolled, and the host's 7 days are saved
// there as PNG).
// The page-side functions below run in Chromium: they are typed against the DOM.
/// <reference lib="dom" />
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { CHROMIUM, launchBrowser } from '../test/support/console.js';
import { freePort } from '../test/support/postgres.js';
import { loadSqlite } from './history-load.js';
import { request, startServer } from './server.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'checkdata', 'debian12.json');
const PASSWORD = 'web benchmark password';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer`);
  return v;
}
const HOSTS = intFromEnv('VIGIL_BENCH_WEB_HOSTS', 1000);
const DAYS = intFromEnv('VIGIL_BENCH_WEB_DAYS', 7);
const PUSH_EVERY_MS = 10_000;
const SCREENSHOTS = process.env.VIGIL_BENCH_WEB_SCREENSHOTS;

/** The simulated fleet: registered agents and a document each, pushed on demand. */
interface Fleet {
  push(i: number): Promise<void>;
  size: number;
}

async function registerFleet(agent: https.Agent, port: number): Promise<Fleet> {
  const template = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
  const bodies: ((at: number) => string)[] = [];
  const stamps = new Array<number>(HOSTS).fill(0);
  for (let i = 0; i < HOSTS; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, HOSTS - i) }, async (_, j) => {
        const n = i + j;
        const uuid = `00000000-0000-4000-9000-${String(n).padStart(12, '0')}`;
        const r = await request(
          agent,
          port,
          'POST',
          '/agentconnector/register_agent.json',
          JSON.stringify({ agentuuid: uuid, password: '', hostname: `web-${n}` }),
        );
        if (r.status !== 201) throw new Error(`register ${n}: ${r.status} ${r.text}`);
        const { password } = JSON.parse(r.text) as { password: string };
        const doc = structuredClone(template);
        const a = doc.agent as Record<string, unknown>;
        a.hostname = `web-${n}`;
        const cpu = doc.cpu as Record<string, unknown>;
        const mem = doc.memory as Record<string, unknown>;
        return (at: number) => {
          // Figures that move a little with every push, as a real host's do.
          cpu.cpu_total_percentage = (n * 13 + at) % 100;
          mem.percent = (n * 7 + at / 10) % 100;
          a.last_updated_timestamp = at;
          return JSON.stringify({ agentuuid: uuid, password, checkdata: doc });
        };
      }),
    );
    bodies.push(...batch);
  }
  return {
    size: HOSTS,
    async push(i: number) {
      stamps[i] = Math.max(stamps[i]! + 1, Math.floor(Date.now() / 1000));
      const r = await request(
        agent,
        port,
        'POST',
        '/agentconnector/submit_checkdata.json',
        bodies[i]!(stamps[i]!),
      );
      if (r.status !== 200) throw new Error(`push ${i}: ${r.status} ${r.text.slice(0, 200)}`);
    },
  };
}

/** Pushes every host once, 50 at a time. */
async function pushRound(fleet: Fleet): Promise<void> {
  for (let i = 0; i < fleet.size; i += 50)
    await Promise.all(
      Array.from({ length: Math.min(50, fleet.size - i) }, (_, j) => fleet.push(i + j)),
    );
}

/** Keeps the fleet pushing, each host every PUSH_EVERY_MS, until stopped. */
function keepPushing(fleet: Fleet): { stop(): Promise<void>; errors(): number } {
  let next = 0;
  let errors = 0;
  const pending = new Set<Promise<void>>();
  const perTick = Math.max(1, Math.round((fleet.size * 100) / PUSH_EVERY_MS));
  const timer = setInterval(() => {
    for (let k = 0; k < perTick; k++) {
      const p = fleet
        .push(next)
        .catch(() => void (errors += 1))
        .finally(() => pending.delete(p));
      pending.add(p);
      next = (next + 1) % fleet.size;
    }
  }, 100);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(pending);
    },
    errors: () => errors,
  };
}

/** What the page is waited for: the fleet's rows, or the host's charts all drawn. */
type Drawn = { kind: 'rows'; min: number } | { kind: 'charts' };

/**
 * Waits in the page, frame by frame, until `what` is drawn; returns the page's clock then
 * (milliseconds since its navigation started). A function, not a string: the console's CSP
 * forbids evaluating strings.
 */
async function drawnAt(page: Page, what: Drawn, timeoutMs = 30_000): Promise<number> {
  const handle = await page.waitForFunction(
    (w: Drawn) => {
      if (w.kind === 'rows') {
        const rows = document.querySelectorAll(
          '[role=table][aria-label=Hosts] [role=rowgroup]:nth-child(2) [role=row]',
        );
        return rows.length >= w.min ? performance.now() : false;
      }
      const figs = [...document.querySelectorAll('figure')];
      const done =
        figs.length > 0 &&
        figs.every((f) => f.getAttribute('aria-busy') === 'false' && f.querySelector('canvas'));
      return done ? performance.now() : false;
    },
    what,
    { polling: 'raf', timeout: timeoutMs },
  );
  return (await handle.jsonValue()) as number;
}

const ROWS: Drawn = { kind: 'rows', min: 10 };
const CHARTS: Drawn = { kind: 'charts' };

/** Median and worst of a list. */
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};

async function measure(port: number, hostId: string) {
  const browser = await launchBrowser();
  try {
    const ctx = await browser.newContext({
      ignoreHTTPSErrors: true,
      viewport: { width: 1440, height: 900 },
      baseURL: `https://127.0.0.1:${port}`,
    });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('/');
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();

    // Fleet first render, three times (the first also warms the server's caches); the median.
    const firstRender: number[] = [];
    let visibleRows = 0;
    for (let i = 0; i < 3; i++) {
      await page.goto('/', { waitUntil: 'commit' });
      firstRender.push(await drawnAt(page, ROWS));
      visibleRows = await page.getByRole('table', { name: 'Hosts' }).getByRole('row').count();
    }

    if (SCREENSHOTS) {
      await page.mouse.wheel(0, 2400);
      await page.waitForTimeout(300);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'bench-fleet.png') });
      await page.mouse.wheel(0, -2400);
    }

    // Filter keystrokes: each typed character until the list is drawn again (the next frame
    // after the DOM changed).
    const input = page.getByRole('searchbox', { name: 'Name' });
    await input.focus();
    const keystrokes: number[] = [];
    for (const text of ['w', 'we', 'web', 'web-', 'web-1', 'web-12', 'web-1', 'web-', '']) {
      const ms = await page.evaluate(
        (value) =>
          new Promise<number>((resolve) => {
            const input = document.querySelector<HTMLInputElement>('input[type=search]')!;
            const t0 = performance.now();
            const mo = new MutationObserver(() => {
              mo.disconnect();
              requestAnimationFrame(() => resolve(performance.now() - t0));
            });
            mo.observe(document.querySelector('main')!, {
              subtree: true,
              childList: true,
              characterData: true,
              attributes: true,
            });
            // As typing does: the value changes, then React hears the input event.
            const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
            set.call(input, value);
            input.dispatchEvent(new Event('input', { bubbles: true }));
          }),
        text,
      );
      keystrokes.push(ms);
    }

    // Host detail: a fresh navigation straight to 7 days, then switching live → 7d in place.
    await page.goto(`/hosts/${hostId}?range=7d`, { waitUntil: 'commit' });
    const navigation7d = await drawnAt(page, CHARTS);
    const charts = await page.getByRole('figure').count();
    if (SCREENSHOTS)
      await page.screenshot({ path: path.join(SCREENSHOTS, 'bench-host-7d.png'), fullPage: true });
    const switches: number[] = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(`/hosts/${hostId}`);
      await drawnAt(page, CHARTS);
      const t0 = await page.evaluate(() => {
        const seven = [...document.querySelectorAll('button')].find((b) => b.textContent === '7d')!;
        seven.click();
        return performance.now();
      });
      // The queries start on the click's render: wait for them to begin, then to be drawn.
      await page.waitForURL(/range=7d/);
      switches.push((await drawnAt(page, CHARTS)) - t0);
      // Next round asks the server again (a new range key).
      await page.waitForTimeout(1100);
    }
    return {
      firstRender,
      visibleRows,
      keystrokes,
      navigation7d,
      switches,
      charts: charts as number,
      errors,
    };
  } finally {
    await browser.close();
  }
}

/** The gzip size of the JavaScript index.html loads (its module script and preloads). */
async function initialJs(
  agent: https.Agent,
  port: number,
): Promise<{ files: number; bytes: number }> {
  const html = (await request(agent, port, 'GET', '/')).text;
  const srcs = [
    ...html.matchAll(/<script[^>]+src="([^"]+)"/g),
    ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g),
  ].map((m) => m[1]!);
  let bytes = 0;
  for (const src of new Set(srcs)) {
    const r = await request(agent, port, 'GET', src);
    if (r.status !== 200) throw new Error(`${src}: ${r.status}`);
    bytes += gzipSync(r.raw, { level: 9 }).length;
  }
  return { files: new Set(srcs).size, bytes };
}

const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

async function main() {
  readFileSync(CHROMIUM); // A missing browser fails here, before the fleet is built.
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-web-'));
  const port = await freePort();
  let server = await startServer({ dataDir, port, adminPassword: PASSWORD });
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 32,
    ca: readFileSync(path.join(dataDir, 'tls', 'ca.crt')),
  });
  try {
    process.stderr.write(`registering ${HOSTS} hosts…\n`);
    const fleet = await registerFleet(agent, port);
    for (let round = 0; round < 2; round++) await pushRound(fleet);
    await server.stop();
    process.stderr.write(`loading ${DAYS} days of history for one host…\n`);
    const loaded = loadSqlite(path.join(dataDir, 'vigil.db'), 1, DAYS);
    // The same connection pool goes on: the stopped server's connections closed with it.
    server = await startServer({ dataDir, port, adminPassword: PASSWORD });
    await pushRound(fleet);
    const pushing = keepPushing(fleet);
    process.stderr.write(`measuring in Chromium while ${HOSTS} hosts push every 10 s…\n`);
    let m: Awaited<ReturnType<typeof measure>>;
    try {
      m = await measure(port, loaded.hosts[0]!.id);
    } finally {
      await pushing.stop();
    }
    const js = await initialJs(agent, port);

    const first = stats(m.firstRender);
    const keys = stats(m.keystrokes);
    const sw = stats(m.switches);
    console.log(
      `web console, ${HOSTS} hosts pushing every 10 s (push errors: ${pushing.errors()})`,
    );
    console.log(
      `  fleet first render        ${first.median.toFixed(0)} ms median of 3 (${m.visibleRows} rows drawn; target < 1000 ms)  ${verdict(first.median < 1000)}`,
    );
    console.log(
      `  filter keystroke → list   ${keys.max.toFixed(1)} ms worst, ${keys.median.toFixed(1)} ms median of ${m.keystrokes.length} (target < 100 ms)  ${verdict(keys.max < 100)}`,
    );
    console.log(
      `  host 7-day charts drawn   ${sw.median.toFixed(0)} ms median of 3 after choosing 7d, ${m.charts} charts (target < 500 ms)  ${verdict(sw.median < 500)}`,
    );
    console.log(
      `                            ${m.navigation7d.toFixed(0)} ms from a fresh navigation to ?range=7d (page load included)`,
    );
    console.log(
      `  initial JavaScript        ${(js.bytes / 1024).toFixed(1)} KB gzipped in ${js.files} file(s) (target ≤ 250 KB)  ${verdict(js.bytes <= 250 * 1024)}`,
    );
    if (m.errors.length) console.log(`  page errors: ${m.errors.join('; ')}`);
  } finally {
    agent.destroy();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
