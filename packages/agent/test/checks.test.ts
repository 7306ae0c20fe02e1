import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { CustomCheckResult } from '@vigil/protocol';
import { parseCustomChecks, type CustomCheck } from '../src/checks/config.js';
import { runCheck } from '../src/checks/runner.js';
import { startChecks } from '../src/checks/scheduler.js';

/** Debian's monitoring-plugins; `.ci/run` installs them. */
const PLUGINS = '/usr/lib/nagios/plugins';
const havePlugins = existsSync(path.join(PLUGINS, 'check_dummy'));
if (!havePlugins && process.env.CI === 'true')
  throw new Error(`${PLUGINS} is missing: install Debian's monitoring-plugins`);

/** A check from a `customchecks.ini` section. */
function check(name: string, body: string): CustomCheck {
  const c = parseCustomChecks(`[${name}]\n${body}\n`).checks[0];
  assert.ok(c);
  return c;
}

describe(
  'real Nagios plugins',
  { skip: !havePlugins && 'monitoring-plugins not installed' },
  () => {
    for (const [rc, state] of [
      [0, 'OK'],
      [1, 'WARNING'],
      [2, 'CRITICAL'],
      [3, 'UNKNOWN'],
    ] as const)
      test(`check_dummy ${rc} → ${state}`, async () => {
        const r = await runCheck(check('d', `command = ${PLUGINS}/check_dummy ${rc} "some text"`));
        assert.equal(r.rc, rc);
        assert.equal(r.state, state);
        assert.equal(r.output, `${state}: some text`);
        assert.ok(Value.Check(CustomCheckResult, r));
        assert.ok(Math.abs(r.execution_unix_timestamp_sec - Date.now() / 1000) < 5);
      });

    test('check_load: state and perfdata parsed into values', async () => {
      const r = await runCheck(
        check('load', `command = ${PLUGINS}/check_load -w 1000,1000,1000 -c 2000,2000,2000`),
      );
      assert.equal(r.rc, 0, r.stdout);
      assert.match(r.output!, /^LOAD OK/);
      const labels = r.perfdata!.map((p) => p.label);
      assert.deepEqual(labels, ['load1', 'load5', 'load15']);
      assert.equal(r.perfdata![0]!.warn, '1000.000');
      assert.equal(typeof r.perfdata![0]!.value, 'number');
    });

    test('check_disk: a threshold that cannot hold is CRITICAL, with bytes perfdata', async () => {
      const r = await runCheck(
        check('disk', `command = ${PLUGINS}/check_disk -w 100% -c 100% -p /`),
      );
      assert.equal(r.rc, 2, r.stdout);
      assert.equal(r.state, 'CRITICAL');
      const root = r.perfdata!.find((p) => p.label === '/');
      assert.ok(root, r.stdout);
      assert.equal(root.uom, 'B');
    });

    test("check_procs: counts this machine's processes", async () => {
      const r = await runCheck(
        check('procs', `command = ${PLUGINS}/check_procs -w 100000 -c 200000`),
      );
      assert.equal(r.rc, 0, r.stdout);
      assert.match(r.output!, /^PROCS OK: \d+ process/);
      assert.ok(r.perfdata!.some((p) => p.label === 'procs' && (p.value ?? 0) > 0));
    });
  },
);

describe('the plugin protocol at its edges', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-checks-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('an exit code outside 0–3 is UNKNOWN, and so is a signal', async () => {
    const five = await runCheck(check('x', 'command = sh -c "echo five; exit 5"'));
    assert.equal(five.rc, 3);
    assert.equal(five.state, 'UNKNOWN');
    assert.equal(five.stdout.trim(), 'five');
    const killed = await runCheck(check('y', 'command = sh -c "kill -KILL $$"'));
    assert.equal(killed.rc, 3);
    assert.match(killed.stdout, /killed by SIGKILL/);
  });

  test('a missing program is UNKNOWN with a clear message', async () => {
    const r = await runCheck(check('missing', 'command = /nonexistent/check_nothing -w 1'));
    assert.equal(r.rc, 3);
    assert.match(r.stdout, /cannot run \/nonexistent\/check_nothing: ENOENT/);
  });

  test('the timeout kills the whole process group and reports UNKNOWN', async () => {
    const marker = path.join(tmp, 'grandchild.pid');
    // The shell starts a grandchild that would outlive a kill of the shell alone.
    const c = check(
      'slow',
      `command = echo $$ > /dev/null; sleep 30 & echo $! > ${marker}; wait\nshell = /bin/sh\ninterval = 5\ntimeout = 1`,
    );
    const t0 = Date.now();
    const r = await runCheck(c);
    assert.ok(Date.now() - t0 < 4000, 'returned soon after the timeout');
    assert.equal(r.rc, 3);
    assert.equal(r.timed_out, true);
    assert.match(r.stdout, /timed out after 1 seconds/);
    const grandchild = Number(readFileSync(marker, 'utf8'));
    await new Promise((res) => setTimeout(res, 200));
    // Gone, or a zombie waiting for an init that is slow to reap it: either way, not running.
    let state = 'gone';
    try {
      const stat = readFileSync(`/proc/${grandchild}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch {
      // No such process.
    }
    assert.ok(state === 'gone' || state === 'Z', `the grandchild is not running (state ${state})`);
  });

  test('output beyond the cap is dropped and the result says so', async () => {
    const r = await runCheck(check('big', 'command = head -c 200000 /dev/zero\n'), {
      maxOutputBytes: 1024,
    });
    assert.equal(r.stdout.length, 1024);
    assert.equal(r.truncated, true);
  });

  test('a shell check runs through the named shell; a plain one does not', async () => {
    const viaShell = await runCheck(check('sh', 'command = echo $((40 + 2))\nshell = /bin/sh'));
    assert.equal(viaShell.stdout.trim(), '42');
    const direct = await runCheck(check('direct', 'command = echo $((40 + 2))'));
    assert.equal(direct.stdout.trim(), '$((40 + 2))');
  });
});

test('the scheduler runs each check on its own interval, at most `concurrency` at a time', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-sched-'));
  try {
    const log = path.join(tmp, 'log');
    const body = (n: string) =>
      `command = echo start ${n} $(date +%s%N) >> ${log}; sleep 0.4; echo end ${n} $(date +%s%N) >> ${log}; echo OK ${n}\nshell = /bin/sh\ninterval = 1\ntimeout = 1`;
    const cfg = parseCustomChecks(['a', 'b', 'c', 'd'].map((n) => `[${n}]\n${body(n)}\n`).join(''));
    const results: string[] = [];
    const s = startChecks(cfg.checks, { concurrency: 2, onResult: (n) => results.push(n) });
    await new Promise((r) => setTimeout(r, 2600));
    await s.stop();
    const events = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .map(([kind, name, ns]) => ({ kind: kind!, name: name!, t: Number(ns) }))
      .sort((x, y) => x.t - y.t);
    let running = 0;
    let most = 0;
    for (const e of events) {
      running += e.kind === 'start' ? 1 : -1;
      most = Math.max(most, running);
    }
    assert.equal(most, 2, 'never more than two at once');
    for (const n of ['a', 'b', 'c', 'd'])
      assert.ok(results.filter((x) => x === n).length >= 2, `${n} ran again after its interval`);
    assert.match(s.results().a!.stdout, /^OK a/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('stopping the scheduler kills a check in progress', async () => {
  const s = startChecks([check('long', 'command = sleep 30\ninterval = 60\ntimeout = 50')], {
    concurrency: 1,
  });
  await new Promise((r) => setTimeout(r, 200));
  const t0 = Date.now();
  await s.stop();
  assert.ok(Date.now() - t0 < 2000);
});

test('concurrency: max_worker_threads in customchecks.ini, else [vigil] check-concurrency', async () => {
  const { writeFileSync } = await import('node:fs');
  const { parseAgentConfig } = await import('../src/config.js');
  const { loadCustomChecks } = await import('../src/agent.js');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-conc-'));
  try {
    const config = parseAgentConfig(
      '[vigil]\ncheck-concurrency = 7\n',
      path.join(dir, 'config.ini'),
    );
    assert.equal(loadCustomChecks(config).concurrency, 7, 'no customchecks.ini');
    writeFileSync(path.join(dir, 'customchecks.ini'), '[a]\ncommand = /bin/true\n');
    assert.equal(loadCustomChecks(config).concurrency, 7, 'file without max_worker_threads');
    writeFileSync(
      path.join(dir, 'customchecks.ini'),
      '[default]\nmax_worker_threads = 3\n[a]\ncommand = /bin/true\n',
    );
    assert.equal(loadCustomChecks(config).concurrency, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
