import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { CheckData, PackageInventory } from '@vigil/protocol';
import { freePort } from '../support/postgres.js';
import { AGENT_BUNDLE, runAgent, startAgentRun, type AgentRun } from '../support/process.js';

const PLUGINS = '/usr/lib/nagios/plugins';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-e2e-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes a config.ini (and customchecks.ini) into a fresh folder and returns its path. */
function agentDir(name: string, config: string, checks?: string): string {
  const dir = path.join(tmp, name);
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(path.join(dir, 'config.ini'), config);
  if (checks !== undefined) writeFileSync(path.join(dir, 'customchecks.ini'), checks);
  return path.join(dir, 'config.ini');
}

test('vigil-agent --help and --version; an unknown command is exit 2', async () => {
  const help = await runAgent(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /collect --once/);
  const v = await runAgent(['--version']);
  assert.match(v.stdout.trim(), /^\d+\.\d+\.\d+/);
  const bad = await runAgent(['frobnicate']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown command "frobnicate"/);
});

test('check-config: OK for a valid pair of files, exit 1 naming the key otherwise', async () => {
  const good = agentDir('good', '[default]\ninterval = 10\n', '[c]\ncommand = /bin/true\n');
  const ok = await runAgent(['check-config', '--config', good]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /OK, 1 checks \(1 enabled\)/);
  const badKey = agentDir('bad-key', '[default]\nintervall = 10\n');
  const r1 = await runAgent(['check-config', '--config', badKey]);
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /\[default\] intervall \(line 2\): unknown key/);
  const badChecks = agentDir(
    'bad-checks',
    '[default]\n',
    '[c]\ncommand = x\ninterval = 5\ntimeout = 9\n',
  );
  const r2 = await runAgent(['check-config', '--config', badChecks]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /check \[c\].*timeout \(9 s\) is longer than the interval \(5 s\)/);
  const missing = await runAgent(['check-config', '--config', path.join(tmp, 'nope.ini')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read .*nope\.ini: ENOENT/);
});

test('collect --once prints one document that validates, with the custom checks run', async () => {
  const havePlugins = existsSync(`${PLUGINS}/check_dummy`);
  const cfg = agentDir(
    'once',
    '[default]\n',
    havePlugins
      ? `[dummy]\ncommand = ${PLUGINS}/check_dummy 1 "half way"\n`
      : '[dummy]\ncommand = /bin/echo hi\n',
  );
  const r = await runAgent(['collect', '--once', '--config', cfg]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(
    [...Value.Errors(CheckData, doc)].map((e) => `${e.path}: ${e.message}`),
    [],
  );
  for (const key of [
    'agent',
    'cpu',
    'system_load',
    'memory',
    'swap',
    'disks',
    'disk_io',
    'net_io',
    'processes',
  ])
    assert.ok(key in doc, key);
  if (havePlugins) assert.equal(doc.customchecks.dummy.state, 'WARNING');
});

test('the bundle runs on its own, without node_modules', async () => {
  const alone = path.join(tmp, 'alone');
  execFileSync('mkdir', ['-p', alone]);
  copyFileSync(AGENT_BUNDLE, path.join(alone, 'vigil-agent.js'));
  const r = await runAgent(
    ['collect', '--once', '--config', agentDir('alone-cfg', '[default]\n')],
    {
      bundle: path.join(alone, 'vigil-agent.js'),
      cwd: alone,
    },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.ok(JSON.parse(r.stdout).memory.total > 0);
});

describe('vigil-agent run', () => {
  let agent: AgentRun;
  before(async () => {
    const port = await freePort();
    const cfg = agentDir(
      'run',
      `[default]\naddress = 127.0.0.1\nport = ${port}\ninterval = 2\n[packagemanager]\nenable-update-check = False\n`,
      '[echo]\ncommand = /bin/echo "OK - from a plugin|x=1"\ninterval = 2\ntimeout = 1\n',
    );
    agent = await startAgentRun(['--config', cfg]);
  });
  after(async () => {
    if (agent) await agent.stop();
  });

  test('serves the latest document on GET /, refreshed every interval', async () => {
    const first = (await (await fetch(agent.url)).json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(first.agent.check_interval, 2);
    assert.equal(first.customchecks.echo.output, 'OK - from a plugin');
    assert.deepEqual(first.customchecks.echo.perfdata[0].label, 'x');
    assert.deepEqual(
      [...Value.Errors(CheckData, first)].map((e) => e.path),
      [],
    );
    await new Promise((r) => setTimeout(r, 2500));
    const second = (await (await fetch(agent.url)).json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.ok(second.agent.last_updated_timestamp > first.agent.last_updated_timestamp);
  });

  test('GET /packages lists the installed packages once the first scan is done', async () => {
    let inv: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (let i = 0; i < 100; i++) {
      inv = await (await fetch(`${agent.url}packages`)).json();
      if (!inv.Pending) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(Value.Check(PackageInventory, inv));
    assert.equal(inv.Pending, false);
    if (existsSync('/var/lib/dpkg/status')) {
      const installed = execFileSync('dpkg-query', ['-W', '-f', '${db:Status-Status}\\n'], {
        encoding: 'utf8',
      })
        .split('\n')
        .filter((s) => s === 'installed').length;
      assert.ok(inv.Stats);
      assert.equal(inv.Stats.InstalledPackages, installed);
      assert.equal(inv.Stats.PackageManager, 'apt');
      assert.ok(inv.LinuxPackages.some((p: { Name: string }) => p.Name === 'bash'));
      assert.ok(
        inv.LinuxPackages.every((p: { Description: string }) => p.Description.length <= 80),
      );
    }
  });

  test('SIGTERM stops it with exit 0', async () => {
    assert.equal(await agent.stop(), 0);
    agent = undefined as unknown as AgentRun;
  });
});

test(
  'as an unprivileged user, collect --once still produces a full document',
  { skip: process.getuid?.() !== 0 && 'needs root to switch user' },
  async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(
      'runuser',
      ['-u', 'nobody', '--', process.execPath, AGENT_BUNDLE, 'collect', '--once'],
      {
        encoding: 'utf8',
        cwd: '/',
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(
      [...Value.Errors(CheckData, doc)].map((e) => e.path),
      [],
    );
    assert.ok(doc.processes.length > 1);
    assert.ok(!('error' in doc.processes) && !('error' in doc.cpu) && !('error' in doc.disks));
  },
);

test('POST /config on a running agent applies new custom checks without a restart', async () => {
  const port = await freePort();
  const cfg = agentDir(
    'reload',
    `[default]\naddress = 127.0.0.1\nport = ${port}\ninterval = 1\nconfig-update-mode = True\n[packagemanager]\nenabled = False\n`,
    '[first]\ncommand = /bin/echo first\ninterval = 1\ntimeout = 1\n',
  );
  const agent = await startAgentRun(['--config', cfg]);
  try {
    const doc = async () =>
      (await (await fetch(agent.url)).json()) as { customchecks: Record<string, unknown> };
    assert.ok('first' in (await doc()).customchecks);
    const current = (await (await fetch(`${agent.url}config`)).json()) as { configuration: string };
    const res = await fetch(`${agent.url}config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        configuration: current.configuration,
        customcheck_configuration: Buffer.from(
          '[second]\ncommand = /bin/echo second\ninterval = 1\ntimeout = 1\n',
        ).toString('base64'),
      }),
    });
    assert.equal(res.status, 200, await res.text());
    let seen = false;
    for (let i = 0; i < 40 && !seen; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const checks = (await doc()).customchecks as Record<string, { stdout: string }>;
      seen = checks.second?.stdout.trim() === 'second';
    }
    assert.ok(seen, 'the new check ran and its result is served');
    assert.match(agent.stderr(), /configuration reloaded \(1 custom checks\)/);
  } finally {
    assert.equal(await agent.stop(), 0);
  }
});

test('POST /config with a new port moves the local web server there', async () => {
  const [a, b] = [await freePort(), await freePort()];
  const text = (port: number) =>
    `[default]\naddress = 127.0.0.1\nport = ${port}\ninterval = 5\nconfig-update-mode = True\n[packagemanager]\nenabled = False\n`;
  const agent = await startAgentRun(['--config', agentDir('move', text(a))]);
  try {
    const res = await fetch(`http://127.0.0.1:${a}/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ configuration: Buffer.from(text(b)).toString('base64') }),
    });
    assert.equal(res.status, 200, await res.text());
    let moved = false;
    for (let i = 0; i < 40 && !moved; i++) {
      await new Promise((r) => setTimeout(r, 100));
      moved = await fetch(`http://127.0.0.1:${b}/`).then(
        (r) => r.ok,
        () => false,
      );
    }
    assert.ok(moved, `listening on ${b}`);
    await assert.rejects(fetch(`http://127.0.0.1:${a}/`));
  } finally {
    assert.equal(await agent.stop(), 0);
  }
});

test('the single-executable build runs without a separate node', async () => {
  const { spawnSync } = await import('node:child_process');
  const root = path.resolve(import.meta.dirname, '..', '..');
  const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-agent-sea.mjs')], {
    encoding: 'utf8',
  });
  assert.equal(build.status, 0, build.stderr);
  const exe = path.join(root, 'dist', 'vigil-agent');
  const r = spawnSync(exe, ['collect', '--once', '--config', agentDir('sea', '[default]\n')], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin' },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    [...Value.Errors(CheckData, JSON.parse(r.stdout))].map((e) => e.path),
    [],
  );
  rmSync(exe, { force: true });
});
