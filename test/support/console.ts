// The web console's end-to-end harness: a real `vigil serve` (TLS on, its own CA), optionally a
// real agent of this machine enrolled with a token and pushing every second, and Debian's Chromium
// driven by playwright-core.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { eventually, httpsJson, type JsonAnswer } from './https.js';
import { freePort } from './postgres.js';
import {
  ROOT,
  runAgent,
  startAgentRun,
  startServe,
  type AgentRun,
  type Served,
} from './process.js';

/** The password of the `admin` user of every console test server. */
export const CONSOLE_ADMIN_PASSWORD = 'console end to end password';

/** Where screenshots of the console's screens are kept (a test artefact, not committed). */
export const SCREENSHOT_DIR = path.join(ROOT, 'test-output', 'screens');

/** Debian's Chromium, which the tests drive (never a browser a tool downloads). */
export const CHROMIUM = process.env.VIGIL_TEST_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Why browser tests cannot run here, or undefined when they can. Under `CI=true` a missing
 * browser is a failure (the caller asserts), elsewhere the browser tests are skipped with this
 * reason.
 */
export function browserMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const why = `${CHROMIUM} is missing (apt-get install chromium)`;
  if (process.env.CI === 'true')
    throw new Error(`browser tests need Chromium under CI=true: ${why}`);
  return why;
}

/** Launches headless Chromium with the flags this machine's closed network needs. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A running console: server, optional agent, browser, and an admin API session. */
export interface ConsoleHarness {
  readonly base: string;
  readonly ca: string;
  readonly dataDir: string;
  readonly fingerprint: string;
  /** The running server (replaced by `restartServer`). */
  readonly server: Served;
  readonly browser: Browser;
  /** The enrolled local agent's id (when started with `agent: true`). */
  readonly agentId: string | undefined;
  /**
   * The local agent's directory: its config.ini and what enrolling wrote beside it (its client
   * certificate `vigil-agent.crt` and key `vigil-agent.key`, with which a test pushes as it).
   */
  readonly agentDir: string;
  /** Uncaught errors of the console's pages so far (a test asserts there are none). */
  readonly pageErrors: string[];
  /** Calls the API as `admin` (bearer token). */
  api(p: string, body?: unknown, method?: string): Promise<JsonAnswer>;
  /** A new browser context (its own cookies) and page on the console, HTTPS errors accepted. */
  newPage(opts?: { width?: number; height?: number; dark?: boolean }): Promise<Page>;
  /** Stops the server and starts it again on the same port and data (the stream drops meanwhile). */
  restartServer(): Promise<void>;
  /** Stops the local agent only (its host then goes offline); the rest keeps running. */
  stopAgent(): Promise<void>;
  /** Stops the agent, the browser and the server, and removes their files. */
  stop(): Promise<void>;
}

/**
 * Starts a server (and, with `agent`, enrolls and runs a local agent that pushes every second,
 * running the custom checks of `agentChecks`, a customchecks.ini) and a browser. `env` adds
 * `VIGIL_*` settings.
 */
export async function startConsole(
  opts: { agent?: boolean; agentChecks?: string; env?: Record<string, string> } = {},
): Promise<ConsoleHarness> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-console-e2e-'));
  const agentDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-console-agent-'));
  const port = await freePort();
  const base = `https://127.0.0.1:${port}`;
  let server: Served | undefined;
  let agent: AgentRun | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  const stop = async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await agent?.stop();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(agentDir, { recursive: true, force: true });
  };
  const serverEnv = {
    VIGIL_STORAGE_DATA_DIR: dataDir,
    VIGIL_SERVER_LISTEN: `127.0.0.1:${port}`,
    VIGIL_ADMIN_PASSWORD: CONSOLE_ADMIN_PASSWORD,
    ...opts.env,
  };
  try {
    server = await startServe(serverEnv);
    const ca = readFileSync(path.join(dataDir, 'tls', 'ca.crt'), 'utf8');
    const fingerprint = /CA SHA-256 fingerprint: ([0-9A-F:]{95})/.exec(server.stderr())![1]!;
    const login = await httpsJson(`${base}/api/v1/auth/login`, {
      ca,
      body: { username: 'admin', password: CONSOLE_ADMIN_PASSWORD },
    });
    assert.equal(login.status, 200, login.text);
    const token = login.body.access_token as string;
    const api = (p: string, body?: unknown, method?: string) =>
      httpsJson(`${base}${p}`, { ca, token, body, method });

    let agentId: string | undefined;
    if (opts.agent) {
      agentId = 'console-e2e';
      const config = path.join(agentDir, 'config.ini');
      // With `agentChecks`, the agent runs those custom checks (customchecks.ini's content).
      const checks = path.join(agentDir, 'customchecks.ini');
      if (opts.agentChecks) writeFileSync(checks, opts.agentChecks);
      writeFileSync(
        config,
        `[default]\ninterval = 1\naddress = 127.0.0.1\nport = ${await freePort()}\n${
          opts.agentChecks ? `customchecks = ${checks}\n` : ''
        }\n[packagemanager]\nenabled = false\n`,
      );
      const created = await api('/api/v1/agents', { id: agentId, name: 'This machine' });
      assert.equal(created.status, 201, created.text);
      const enrolled = await runAgent([
        'enroll',
        '--server',
        base,
        '--token',
        created.body.enrollment_token,
        '--ca-fingerprint',
        fingerprint,
        '--config',
        config,
      ]);
      assert.equal(enrolled.code, 0, enrolled.stderr);
      agent = await startAgentRun(['--config', config]);
      await eventually('the agent online', async () => {
        const r = await api(`/api/v1/agents/${agentId}`);
        return r.body.status === 'online' ? true : undefined;
      });
    }

    browser = await launchBrowser();
    const b = browser;
    return {
      base,
      ca,
      dataDir,
      fingerprint,
      get server() {
        return server!;
      },
      async restartServer() {
        await server?.stop();
        server = await startServe(serverEnv);
      },
      browser,
      agentId,
      agentDir,
      pageErrors,
      api,
      async stopAgent() {
        await agent?.stop();
      },
      async newPage(o = {}) {
        const ctx = await b.newContext({
          ignoreHTTPSErrors: true,
          viewport: { width: o.width ?? 1280, height: o.height ?? 860 },
          colorScheme: o.dark ? 'dark' : 'light',
          baseURL: base,
        });
        contexts.push(ctx);
        const page = await ctx.newPage();
        page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.stack ?? e.message}`));
        return page;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Signs in through the sign-in screen (with the TOTP step when `otp` is given). */
export async function signIn(
  page: Page,
  username: string,
  password: string,
  otp?: () => Promise<string> | string,
): Promise<void> {
  await page.goto('/');
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (otp) {
    await page.getByLabel('Authentication code').fill(await otp());
    await page.getByRole('button', { name: 'Verify' }).click();
  }
  // The menu is folded away on phones; the sign-out button is there at every width.
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

const AXE = readFileSync(path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/**
 * Runs axe-core in the page and fails on any serious or critical violation, listing each rule
 * with the elements it found.
 */
export async function assertAccessible(page: Page, screen: string): Promise<void> {
  // Injected as a script the page evaluates (the console's CSP governs the page's own scripts,
  // not what the test driver evaluates).
  await page.evaluate(AXE);
  const results = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] })`)) as {
    violations: {
      id: string;
      impact: string | null;
      help: string;
      nodes: { target: string[] }[];
    }[];
  };
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    ),
    [],
    `axe-core violations on ${screen}`,
  );
}

/**
 * Saves screenshots of the current screen, light and dark, at phone (360 px) and wide (1280 px)
 * widths, as `<name>-<light|dark>-<360|1280>.png` under SCREENSHOT_DIR; checks accessibility in
 * each (colour contrast differs by theme). Restores the page's size and scheme after.
 */
export async function captureScreen(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const size = page.viewportSize() ?? { width: 1280, height: 860 };
  for (const scheme of ['light', 'dark'] as const)
    for (const width of [1280, 360]) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width, height: width === 360 ? 780 : 860 });
      // Let charts and virtual lists lay out for the new size.
      await page.waitForTimeout(250);
      await assertAccessible(page, `${name} (${scheme}, ${width} px)`);
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-${scheme}-${width}.png`) });
    }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize(size);
}
