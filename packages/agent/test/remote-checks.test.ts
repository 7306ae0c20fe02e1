import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { CustomCheckResult, type DeployedCheck } from '@vigil/protocol';
import { deployedSetOf } from '../src/checks/deployed.js';
import {
  DEPLOYED_CHECKS_FILE,
  startRemoteChecks,
  type RemoteChecks,
  type RemoteChecksSettings,
} from '../src/checks/remote.js';
import { AgentConfigError, parseAgentConfig } from '../src/config.js';

// Deployed checks run with real Nagios plugins, and only those the agent's policy allows.

/** Debian's monitoring-plugins; `.ci/run` installs them. */
const PLUGINS = '/usr/lib/nagios/plugins';
const DUMMY = path.join(PLUGINS, 'check_dummy');
const havePlugins = existsSync(DUMMY);
if (!havePlugins && process.env.CI === 'true')
  throw new Error(`${PLUGINS} is missing: install Debian's monitoring-plugins`);

const dirs: string[] = [];
const running: RemoteChecks[] = [];
after(async () => {
  for (const r of running) await r.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = (prefix: string) => {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
};

/**
 * A plugin directory of the test's own: `touch-plugin` creates the file named by its argument
 * (so a run leaves a trace), `not-executable` is mode 0644, `escape` is a symbolic link to
 * /bin/sh (outside every plugin directory), `inside` a link to check_dummy, `sub/` a directory.
 */
function pluginDir(): string {
  const d = tempDir('vigil-plugins-');
  writeFileSync(path.join(d, 'touch-plugin'), '#!/bin/sh\n: > "$1"\necho "OK - touched"\n', {
    mode: 0o755,
  });
  writeFileSync(path.join(d, 'not-executable'), '#!/bin/sh\necho OK\n', { mode: 0o644 });
  chmodSync(path.join(d, 'not-executable'), 0o644);
  symlinkSync('/bin/sh', path.join(d, 'escape'));
  symlinkSync(DUMMY, path.join(d, 'inside'));
  mkdirSync(path.join(d, 'sub'));
  return d;
}

const settings = (
  pluginDirs: string[],
  enabled = true,
  customNames: string[] = [],
): RemoteChecksSettings => ({
  policy: { enabled, pluginDirs },
  customNames: new Set(customNames),
  concurrency: 4,
  limits: { maxOutputBytes: 65536 },
});

function start(stateDir: string, s: RemoteChecksSettings): RemoteChecks {
  const r = startRemoteChecks({
    stateFile: path.join(stateDir, DEPLOYED_CHECKS_FILE),
    settings: s,
    log: () => undefined,
  });
  running.push(r);
  return r;
}

/** Waits until every named result is there (5 s at most), then returns the results. */
async function resultsOf(r: RemoteChecks, names: string[]) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const all = r.results();
    if (names.every((n) => all[n])) return all;
    if (Date.now() > deadline)
      assert.fail(`no result for ${names.filter((n) => !all[n]).join(', ')} within 5 s`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

const refusedFor = (r: CustomCheckResult | undefined, reason: RegExp) => {
  assert.ok(r, 'a result is reported');
  assert.equal(r.rc, 3);
  assert.equal(r.state, 'UNKNOWN');
  assert.match(r.output!, /^UNKNOWN - deployed check refused by the agent: /);
  assert.match(r.output!, reason);
  assert.ok(Value.Check(CustomCheckResult, r));
};

describe('deployed checks', { skip: !havePlugins && 'monitoring-plugins not installed' }, () => {
  test('run from the plugin directories; everything else is refused as UNKNOWN, saying why', async () => {
    const mine = pluginDir();
    const trace = path.join(tempDir('vigil-trace-'), 'shell-ran');
    const literal = `$(touch ${trace}); echo hi | cat > ${trace} \`touch ${trace}\` && true`;
    const checks: DeployedCheck[] = [
      { name: 'dummy_ok', command: [DUMMY, '0', 'all fine'] },
      { name: 'dummy_critical', command: [DUMMY, '2', 'broken'], interval_seconds: 30 },
      { name: 'metacharacters', command: [DUMMY, '1', literal] },
      { name: 'link_inside', command: [path.join(mine, 'inside'), '0', 'via a link'] },
      { name: 'outside', command: ['/bin/sh', '-c', `touch ${trace}`] },
      { name: 'relative', command: ['check_dummy', '0'] },
      { name: 'dotdot', command: [`${PLUGINS}/../plugins/check_dummy`, '0'] },
      { name: 'symlink_escape', command: [path.join(mine, 'escape'), '-c', `touch ${trace}`] },
      { name: 'not_executable', command: [path.join(mine, 'not-executable')] },
      { name: 'directory', command: [path.join(mine, 'sub')] },
      { name: 'missing', command: [path.join(mine, 'nothing-here')] },
      { name: 'custom_wins', command: [DUMMY, '2', 'deployed'] },
    ];
    const r = start(tempDir('vigil-state-'), settings([PLUGINS, mine], true, ['custom_wins']));
    await r.apply({ checksum: 'c1', checks });
    const all = await resultsOf(
      r,
      checks.filter((c) => c.name !== 'custom_wins').map((c) => c.name),
    );

    assert.equal(all.dummy_ok!.rc, 0);
    assert.equal(all.dummy_ok!.output, 'OK: all fine');
    assert.equal(all.dummy_critical!.state, 'CRITICAL');
    assert.equal(all.link_inside!.output, 'OK: via a link');
    // The argument reached the plugin as it was: no shell expanded, piped or ran anything.
    assert.equal(all.metacharacters!.state, 'WARNING');
    // (`|` separates perfdata in plugin output: the raw standard output is compared.)
    assert.equal(all.metacharacters!.stdout.trim(), `WARNING: ${literal}`);
    assert.ok(!existsSync(trace), 'no shell ran');

    refusedFor(all.outside, /\/bin\/sh( \(.*\))? is not inside the plugin directories/);
    refusedFor(all.relative, /must be an absolute path, got "check_dummy"/);
    refusedFor(all.dotdot, /contains "\.\."/);
    refusedFor(all.symlink_escape, /escape \(\/.*sh\) is not inside the plugin directories/);
    refusedFor(all.not_executable, /is not executable/);
    refusedFor(all.directory, /is not a regular file/);
    refusedFor(all.missing, /cannot resolve .*ENOENT/);
    assert.equal(all.custom_wins, undefined, 'a custom check of the same name wins');
    for (const res of Object.values(all)) assert.ok(Value.Check(CustomCheckResult, res));
  });

  test('with remote checks off nothing runs, and each check says so', async () => {
    const mine = pluginDir();
    const traceOff = path.join(tempDir('vigil-trace-'), 'ran');
    const off = start(tempDir('vigil-state-'), settings([mine], false));
    await off.apply({
      checksum: 'c1',
      checks: [{ name: 'touch', command: [path.join(mine, 'touch-plugin'), traceOff] }],
    });
    const res = await resultsOf(off, ['touch']);
    refusedFor(res.touch, /remote checks are off on this agent/);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!existsSync(traceOff), 'the plugin did not run');
    assert.deepEqual(off.results().touch, res.touch, 'the same result until its next interval');

    // The same check with remote checks on does run (the test can tell).
    const traceOn = path.join(tempDir('vigil-trace-'), 'ran');
    const on = start(tempDir('vigil-state-'), settings([mine], true));
    await on.apply({
      checksum: 'c1',
      checks: [{ name: 'touch', command: [path.join(mine, 'touch-plugin'), traceOn] }],
    });
    assert.equal((await resultsOf(on, ['touch'])).touch!.output, 'OK - touched');
    assert.ok(existsSync(traceOn));
  });

  test('the last set is kept (0600) and runs after a restart; an empty set stops them', async () => {
    const stateDir = tempDir('vigil-state-');
    const first = start(stateDir, settings([PLUGINS]));
    await first.apply({
      checksum: 'c7',
      checks: [{ name: 'kept', command: [DUMMY, '0', 'kept'] }],
    });
    await first.stop();
    const file = path.join(stateDir, DEPLOYED_CHECKS_FILE);
    assert.equal(statSync(file).mode & 0o777, 0o600);

    const second = start(stateDir, settings([PLUGINS]));
    assert.equal(second.checksum(), 'c7');
    assert.equal((await resultsOf(second, ['kept'])).kept!.output, 'OK: kept');

    await second.apply({ checksum: '', checks: [] });
    assert.deepEqual(second.results(), {});
    const third = start(stateDir, settings([PLUGINS]));
    assert.equal(third.checksum(), '');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(third.results(), {});
  });

  test('a refused check is reported again at each of its intervals, like a failing check', async () => {
    let clock = 1_700_000_000_000;
    const r = startRemoteChecks({
      stateFile: path.join(tempDir('vigil-state-'), DEPLOYED_CHECKS_FILE),
      settings: settings([PLUGINS], false),
      log: () => undefined,
      now: () => clock,
    });
    running.push(r);
    await r.apply({
      checksum: 'x',
      checks: [{ name: 'off', command: [DUMMY, '0'], interval_seconds: 30 }],
    });
    const at = () => r.results().off!.execution_unix_timestamp_sec;
    assert.equal(at(), 1_700_000_000);
    clock += 29_000;
    assert.equal(at(), 1_700_000_000);
    clock += 1_000;
    assert.equal(at(), 1_700_000_030);
    clock += 65_000;
    assert.equal(at(), 1_700_000_090);
  });

  test('a new set replaces the running one; the same checksum changes nothing', async () => {
    const r = start(tempDir('vigil-state-'), settings([PLUGINS]));
    await r.apply({ checksum: 'a', checks: [{ name: 'one', command: [DUMMY, '0', 'one'] }] });
    await resultsOf(r, ['one']);
    await r.apply({ checksum: 'a', checks: [{ name: 'two', command: [DUMMY, '0', 'two'] }] });
    assert.ok(r.results().one, 'same checksum: the running set stays');
    await r.apply({ checksum: 'b', checks: [{ name: 'two', command: [DUMMY, '0', 'two'] }] });
    const all = await resultsOf(r, ['two']);
    assert.equal(all.one, undefined);
  });
});

for (const [name, answer, expected] of [
  ['no fields (an older server)', { commands: [] }, undefined],
  ['checks without a checksum', { checks: [] }, undefined],
  ['not an object', 'x', undefined],
  ['empty set', { checks: [], checks_checksum: '' }, { checksum: '', checks: [] }],
  [
    'bad entries left out, bad intervals dropped',
    {
      checks_checksum: 'k',
      checks: [
        { name: 'ok', command: ['/x', 'a'], interval_seconds: 5, timeout_seconds: 0 },
        { name: '', command: ['/x'] },
        { name: 'no command', command: [] },
        { name: 'not strings', command: ['/x', 3] },
        null,
      ],
    },
    { checksum: 'k', checks: [{ name: 'ok', command: ['/x', 'a'], interval_seconds: 5 }] },
  ],
] as const)
  test(`deployedSetOf: ${name}`, () => assert.deepEqual(deployedSetOf(answer), expected));

test('[vigil] remote-checks and plugin-dirs: defaults, values, and bad paths refused', () => {
  const def = parseAgentConfig('', undefined);
  assert.equal(def.vigil.remoteChecks, false);
  assert.deepEqual(def.vigil.pluginDirs, ['/usr/lib/nagios/plugins']);
  const set = parseAgentConfig(
    '[vigil]\nremote-checks = true\nplugin-dirs = /opt/plugins, /usr/lib/nagios/plugins\n',
    undefined,
  );
  assert.equal(set.vigil.remoteChecks, true);
  assert.deepEqual(set.vigil.pluginDirs, ['/opt/plugins', '/usr/lib/nagios/plugins']);
  assert.throws(
    () => parseAgentConfig('[vigil]\nplugin-dirs = plugins\n', undefined),
    (e: unknown) =>
      e instanceof AgentConfigError && /plugin-dirs.*not an absolute path/.test(e.message),
  );
  assert.throws(
    () => parseAgentConfig('[vigil]\nplugin-dirs = /opt/../bin\n', undefined),
    AgentConfigError,
  );
  assert.throws(
    () => parseAgentConfig('[vigil]\nremote-checks = maybe\n', undefined),
    AgentConfigError,
  );
});
