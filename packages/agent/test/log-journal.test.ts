import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  createJournalSource,
  journalAvailable,
  type JournalSourceOptions,
} from '../src/logs/journald.js';
import { FIXTURES } from './support.js';
import { collectingSink, sleep, tempDir, waitFor } from './log-support.js';

/** The recorded `journalctl --output=json --all` lines, in journal order. */
const RECORDED = readFileSync(path.join(FIXTURES, 'logs', 'journal.jsonl'), 'utf8')
  .trim()
  .split('\n');
const FAKE = path.join(FIXTURES, 'logs', 'fake-journalctl.mjs');
const messageOf = (i: number) => (JSON.parse(RECORDED[i]!) as { MESSAGE: unknown }).MESSAGE;

/**
 * A journal that grows as the test appends recorded entries to it, read through the stand-in
 * journalctl (node running fake-journalctl.mjs).
 */
function scripted(extra: string[] = []) {
  const dir = tempDir('journal');
  const journal = path.join(dir, 'journal.jsonl');
  const ready = path.join(dir, 'ready');
  writeFileSync(journal, '');
  let appended = 0;
  const opts = (over: Partial<JournalSourceOptions> = {}): JournalSourceOptions => ({
    stateDir: path.join(dir, 'state'),
    journalctl: process.execPath,
    args: [FAKE, `--journal-file=${journal}`, `--ready-file=${ready}`, ...extra],
    restartMs: 50,
    ...over,
  });
  return {
    dir,
    opts,
    /** Appends the next `n` recorded entries to the journal. */
    append(n: number) {
      for (let i = 0; i < n; i++) appendFileSync(journal, `${RECORDED[appended++]}\n`);
    },
    get appended() {
      return appended;
    },
    /** Waits until the stand-in took its starting point, and forgets that it did. */
    async started() {
      await waitFor(() => existsSync(ready), 'journalctl to start');
      rmSync(ready);
    },
  };
}

test('journal: no history at the first start; the recorded entries, parsed, in order', async () => {
  const j = scripted();
  j.append(3);
  const c = collectingSink();
  const src = createJournalSource(j.opts());
  src.start(c.sink);
  await j.started();
  j.append(5);
  await waitFor(() => c.lines.length === 5, 'five entries');
  await src.stop();
  assert.deepEqual(
    c.lines.map((l) => l.message),
    ['line one\nline two', 'container says hi', 'kernel: out of memory', 'tick 1', 'tick 2'],
  );
  assert.equal(messageOf(3), 'line one\nline two');
  assert.deepEqual(
    c.lines.map((l) => l.level),
    ['notice', 'debug', 'critical', 'info', 'info'],
  );
  const saved = JSON.parse(readFileSync(path.join(j.dir, 'state', 'journal.json'), 'utf8')) as {
    cursor: string;
  };
  assert.equal(saved.cursor, (JSON.parse(RECORDED[7]!) as { __CURSOR: string }).__CURSOR);
});

test('journal: a restart resumes after the saved cursor: no entry repeated or skipped', async () => {
  const j = scripted();
  const seen: string[] = [];
  const c1 = collectingSink();
  c1.delayMs = 20;
  const s1 = createJournalSource({ ...j.opts(), batchMax: 2 });
  s1.start(c1.sink);
  await j.started();
  j.append(8);
  await waitFor(() => c1.lines.length >= 3, 'some entries taken');
  await s1.stop();
  seen.push(...c1.lines.map((l) => l.message));
  assert.ok(seen.length < 8, 'stopped mid-stream');
  j.append(4);
  const c2 = collectingSink();
  const s2 = createJournalSource(j.opts());
  s2.start(c2.sink);
  await waitFor(() => seen.length + c2.lines.length >= 12, 'the rest');
  await sleep(100);
  await s2.stop();
  seen.push(...c2.lines.map((l) => l.message));
  assert.deepEqual(
    seen,
    RECORDED.slice(0, 12).map((l) => {
      const m = (JSON.parse(l) as { MESSAGE: string | number[] }).MESSAGE;
      return typeof m === 'string' ? m : Buffer.from(m).toString('utf8');
    }),
  );
});

test('journal: journalctl that exits is started again after the last entry it printed', async () => {
  const j = scripted(['--exit-after=3']);
  const logs: string[] = [];
  const c = collectingSink();
  const src = createJournalSource({ ...j.opts(), log: (m) => logs.push(m) });
  src.start(c.sink);
  await j.started();
  j.append(10);
  await waitFor(() => c.lines.length === 10, 'all ten entries across restarts', 10_000);
  await sleep(150);
  await src.stop();
  assert.equal(new Set(c.lines.map((l) => l.message)).size, 10);
  assert.ok(
    logs.some((m) => /journalctl exited \(code 0\); restarting/.test(m)),
    logs.join('\n'),
  );
});

test('journal: a rejected sink call saves no cursor; the entries are sent again', async () => {
  const j = scripted();
  const c = collectingSink();
  c.reject = true;
  const src = createJournalSource(j.opts());
  src.start(c.sink);
  await j.started();
  j.append(2);
  await waitFor(() => c.calls >= 1, 'a refused call');
  assert.equal(existsSync(path.join(j.dir, 'state', 'journal.json')), false);
  c.reject = false;
  await waitFor(() => c.lines.length === 2, 'the retried entries', 8_000);
  await src.stop();
  assert.deepEqual(
    c.lines.map((l) => l.source_name),
    ['systemd', 'nginx'],
  );
});

test('journal: a saved cursor journalctl cannot seek to is dropped; reading goes on from the end', async () => {
  const j = scripted();
  mkdirSync(path.join(j.dir, 'state'));
  writeFileSync(
    path.join(j.dir, 'state', 'journal.json'),
    JSON.stringify({ cursor: 's=unknown;i=1' }),
  );
  j.append(2);
  const logs: string[] = [];
  const c = collectingSink();
  const src = createJournalSource({ ...j.opts(), log: (m) => logs.push(m) });
  src.start(c.sink);
  await waitFor(() => logs.some((m) => /refused the cursor s=unknown;i=1/.test(m)), 'the refusal');
  await j.started();
  j.append(1);
  await waitFor(() => c.lines.length === 1, 'the entry after the restart');
  await src.stop();
  assert.equal(c.lines[0]!.message, 'binary \u0001 payload café');
});

test('journal: a program that cannot run is retried, and is not available', async () => {
  const logs: string[] = [];
  const dir = tempDir('journal');
  const src = createJournalSource({
    stateDir: dir,
    journalctl: path.join(dir, 'no-such-journalctl'),
    restartMs: 20,
    log: (m) => logs.push(m),
  });
  src.start(collectingSink().sink);
  await waitFor(() => logs.filter((m) => /could not run/.test(m)).length >= 2, 'two attempts');
  await src.stop();
  assert.equal(await journalAvailable(path.join(dir, 'no-such-journalctl')), false);
});

/** Whether a private journald can be started here (root, systemd-journald and journalctl present). */
const JOURNALD = '/lib/systemd/systemd-journald';
const canRunJournald =
  process.getuid?.() === 0 &&
  existsSync(JOURNALD) &&
  existsSync('/etc/machine-id') &&
  existsSync('/usr/bin/journalctl') &&
  existsSync('/usr/bin/logger');

/**
 * Writes a line to a journald namespace with `logger` over its syslog socket (a real client:
 * journald takes the identifier and priority from the syslog header).
 */
const journalWrite = (ns: string, line: string, priority = 'user.info'): void => {
  execFileSync('logger', [
    '-u',
    `/run/systemd/journal.${ns}/dev-log`,
    '-t',
    'vigil-test',
    '-p',
    priority,
    line,
  ]);
};

test(
  'journal: the real journalctl over a private journald namespace, resumed by cursor',
  { skip: !canRunJournald && 'needs root, systemd-journald, journalctl and logger' },
  async () => {
    const ns = `vigiltest${process.pid}`;
    const machine = readFileSync('/etc/machine-id', 'utf8').trim();
    const journald: ChildProcess = spawn(JOURNALD, [ns], { stdio: 'ignore' });
    const cleanup = async () => {
      if (journald.exitCode === null) {
        const gone = new Promise((r) => journald.once('close', r));
        journald.kill('SIGTERM');
        await gone;
      }
      for (const d of [
        `/var/log/journal/${machine}.${ns}`,
        `/run/log/journal/${machine}.${ns}`,
        `/run/systemd/journal.${ns}`,
      ])
        rmSync(d, { recursive: true, force: true });
    };
    try {
      await waitFor(() => existsSync(`/run/systemd/journal.${ns}/stdout`), 'journald to listen');
      const stateDir = tempDir('journal');
      const args = [`--namespace=${ns}`, 'SYSLOG_IDENTIFIER=vigil-test'];
      const c1 = collectingSink();
      const s1 = createJournalSource({ stateDir, args });
      s1.start(c1.sink);
      // Probes until journalctl follows (entries before it started are history, not read).
      let probes = 0;
      while (c1.lines.length === 0) {
        journalWrite(ns, `probe ${++probes}`);
        await sleep(100);
        if (probes > 100) throw new Error('journalctl never followed the journal');
      }
      await waitFor(() => c1.lines.some((l) => l.message === `probe ${probes}`), 'the last probe');
      const before = c1.lines.length;
      journalWrite(ns, 'disk failure on sda', 'user.err');
      journalWrite(ns, 'plain info line');
      await waitFor(() => c1.lines.length === before + 2, 'two entries');
      await s1.stop();
      const [failure, plain] = c1.lines.slice(before);
      assert.equal(failure!.message, 'disk failure on sda');
      assert.equal(failure!.level, 'error');
      assert.equal(failure!.source, 'journal');
      assert.equal(failure!.source_name, 'vigil-test');
      assert.equal(failure!.fields.SYSLOG_IDENTIFIER, 'vigil-test');
      assert.ok(Math.abs(failure!.timestamp - Date.now()) < 60_000);
      assert.equal(plain!.level, 'info');
      assert.equal(await journalAvailable('journalctl', [`--namespace=${ns}`]), true);
      // Written while no source runs: read after the saved cursor, nothing before it again.
      for (let i = 1; i <= 5; i++) journalWrite(ns, `while stopped ${i}`);
      const c2 = collectingSink();
      const s2 = createJournalSource({ stateDir, args });
      s2.start(c2.sink);
      await waitFor(() => c2.lines.length >= 5, 'the entries written while stopped');
      await sleep(300);
      await s2.stop();
      assert.deepEqual(
        c2.lines.map((l) => l.message),
        [1, 2, 3, 4, 5].map((i) => `while stopped ${i}`),
      );
    } finally {
      await cleanup();
    }
  },
);
