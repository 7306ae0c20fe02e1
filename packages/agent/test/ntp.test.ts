import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { runCollectors } from '../src/collect/collector.js';
import {
  askTimeDaemons,
  ntp,
  parseChronyTracking,
  parseNtpqRv,
  parseSystemdSpan,
  parseTimesyncd,
} from '../src/collect/ntp.js';
import type { ExecFn } from '../src/host.js';
import { FIXTURES, fixtureHost, schemaErrors } from './support.js';

const fixture = (name: string) => readFileSync(path.join(FIXTURES, 'ntp', name), 'utf8');

/**
 * Runs the time tools as recorded in `fixtures/ntp/`: `tools` names the fixture file of each
 * command line; a command without one is not installed (ENOENT), as on a machine without it.
 */
function recordedTools(tools: Record<string, string>): { exec: ExecFn; calls: string[] } {
  const calls: string[] = [];
  const exec: ExecFn = async (file, args) => {
    const line = [file, ...args].join(' ');
    calls.push(line);
    const name = tools[line];
    if (name === undefined)
      throw Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT' });
    return fixture(name);
  };
  return { exec, calls };
}

for (const [name, file, want] of [
  [
    'chronyd serving its local clock (recorded)',
    'chronyc-tracking-local.csv',
    { synced: true, offsetSeconds: 0, stratum: 10 },
  ],
  [
    'chronyd without a reachable source (recorded)',
    'chronyc-tracking-unsynchronised.csv',
    { synced: false, offsetSeconds: 0, stratum: 0 },
  ],
  [
    "chronyc manual's example, slow by 6.5 µs",
    'chronyc-tracking-manual.csv',
    { synced: true, offsetSeconds: 0.000006523, stratum: 3 },
  ],
] as const)
  test(`parseChronyTracking: ${name}`, () =>
    assert.deepEqual(parseChronyTracking(fixture(file)), want));

for (const [name, input] of [
  ['empty', ''],
  ['the human form', 'Reference ID    : 7F7F0101 ()\nStratum         : 10\n'],
  ['too few fields', '7F7F0101,,10,1796294747.9'],
  ['stratum not a number', '7F7F0101,,ten,1.0,0.0,0,0,0,0,0,0,0,0,Normal'],
  ['empty system time', '7F7F0101,,10,1.0,,0,0,0,0,0,0,0,0,Normal'],
  ['daemon down', '506 Cannot talk to daemon'],
] as const)
  test(`parseChronyTracking rejects ${name}`, () =>
    assert.throws(() => parseChronyTracking(input), /chronyc tracking/));

test('parseTimesyncd: synchronised, stratum from the NTP message, offset from timesync-status', () =>
  assert.deepEqual(
    parseTimesyncd(
      fixture('timedatectl-show.txt'),
      fixture('timedatectl-show-timesync.txt'),
      fixture('timedatectl-timesync-status.txt'),
    ),
    { synced: true, offsetSeconds: -0.001166, stratum: 2 },
  ));

test('parseTimesyncd: no answer yet, no status, not synchronised', () =>
  assert.deepEqual(
    parseTimesyncd(
      'NTP=yes\nNTPSynchronized=no\n',
      'ServerName=\nNTPMessage={}\nFrequency=0\n',
      '',
    ),
    { synced: false, offsetSeconds: 0, stratum: null },
  ));

for (const [name, show] of [
  ['empty', ''],
  ['no NTPSynchronized', 'Timezone=UTC\nNTP=yes\n'],
  ['a value other than yes or no', 'NTPSynchronized=maybe\n'],
] as const)
  test(`parseTimesyncd rejects ${name}`, () =>
    assert.throws(() => parseTimesyncd(show, '', ''), /NTPSynchronized/));

for (const [input, want] of [
  ['-166us', -0.000166],
  ['+1.5ms', 0.0015],
  ['2s', 2],
  ['12ns', 1.2e-8],
  ['1min', 60],
  ['', undefined],
  ['fast', undefined],
  ['1min 2s', undefined],
] as const)
  test(`parseSystemdSpan: "${input}"`, () => {
    const got = parseSystemdSpan(input);
    if (want === undefined) assert.equal(got, undefined);
    else assert.ok(Math.abs(got! - want) < 1e-12, `${got} ≈ ${want}`);
  });

test('parseNtpqRv: synchronised ntpd, offset in ms becomes seconds', () =>
  assert.deepEqual(parseNtpqRv(fixture('ntpq-rv-synchronised.txt')), {
    synced: true,
    offsetSeconds: -0.00231457,
    stratum: 3,
  }));

test('parseNtpqRv: a restarted ntpd (leap_alarm, sync_unspec, stratum 16) is not synchronised', () =>
  assert.deepEqual(parseNtpqRv(fixture('ntpq-rv-unsynchronised.txt')), {
    synced: false,
    offsetSeconds: 0,
    stratum: 16,
  }));

for (const [name, input, re] of [
  ['empty', '', /status word/],
  ['connection refused', 'ntpq: read: Connection refused\n', /status word/],
  ['no offset', 'associd=0 status=0615 leap_none, sync_ntp,\nstratum=2', /offset/],
  ['offset not a number', 'associd=0 status=0615 sync_ntp,\noffset=abc, stratum=2', /offset/],
] as const)
  test(`parseNtpqRv rejects ${name}`, () => assert.throws(() => parseNtpqRv(input), re));

test('askTimeDaemons: chrony first; timesyncd when chronyc is missing; ntpd last; none', async () => {
  const chrony = recordedTools({ 'chronyc -c tracking': 'chronyc-tracking-manual.csv' });
  assert.equal((await askTimeDaemons(chrony.exec))?.source, 'chrony');
  assert.deepEqual(chrony.calls, ['chronyc -c tracking']);

  const timesyncd = recordedTools({
    'timedatectl show': 'timedatectl-show.txt',
    'timedatectl show-timesync': 'timedatectl-show-timesync.txt',
    'timedatectl timesync-status': 'timedatectl-timesync-status.txt',
    'ntpq -c rv': 'ntpq-rv-synchronised.txt',
  });
  assert.deepEqual(await askTimeDaemons(timesyncd.exec), {
    source: 'timesyncd',
    state: { synced: true, offsetSeconds: -0.001166, stratum: 2 },
  });

  // timedatectl without timesyncd (show-timesync fails): ntpd answers.
  const ntpd = recordedTools({
    'timedatectl show': 'timedatectl-show.txt',
    'ntpq -c rv': 'ntpq-rv-synchronised.txt',
  });
  assert.equal((await askTimeDaemons(ntpd.exec))?.source, 'ntpd');

  // A tool that answers what the parser does not understand counts as absent.
  const broken = recordedTools({ 'chronyc -c tracking': 'timedatectl-show.txt' });
  assert.equal(await askTimeDaemons(broken.exec), undefined);
  assert.deepEqual(broken.calls, ['chronyc -c tracking', 'timedatectl show', 'ntpq -c rv']);
});

test('ntp collector: openITCOCKPIT fields; asks again only after the refresh time', async () => {
  const tools = recordedTools({ 'chronyc -c tracking': 'chronyc-tracking-manual.csv' });
  const host = fixtureHost('debian12-vm', tools.exec);
  const collector = ntp(60_000);
  const t0 = Date.UTC(2026, 11, 3, 10, 0, 0);
  const first = await runCollectors([collector], { host, nowMs: t0, intervalSeconds: 30 });
  assert.deepEqual(first.document.ntp, {
    Timestamp: t0 / 1000,
    TimestampMicro: t0 * 1000,
    SyncStatus: true,
    Offset: 0.000006523,
    Stratum: 3,
    Source: 'chrony',
  });
  assert.deepEqual(schemaErrors(first.document), []);
  const second = await runCollectors([collector], {
    host,
    nowMs: t0 + 30_000,
    intervalSeconds: 30,
  });
  assert.equal((second.document.ntp as { Timestamp: number }).Timestamp, t0 / 1000 + 30);
  assert.equal(tools.calls.length, 1, 'the cached answer serves the next cycle');
  // After the refresh time the daemons are asked again in the background: the cycle reports the
  // answer it has, and the next one the new answer.
  const third = await runCollectors([collector], { host, nowMs: t0 + 60_000, intervalSeconds: 30 });
  assert.equal(tools.calls.length, 2, 'asked again after the refresh time');
  assert.equal((third.document.ntp as { Source: string }).Source, 'chrony');
});

test('ntp collector: no time daemon leaves the key out, without an error', async () => {
  const { document, outcomes } = await runCollectors([ntp()], {
    host: fixtureHost('debian12-vm'),
    nowMs: Date.now(),
    intervalSeconds: 30,
  });
  assert.equal('ntp' in document, false);
  assert.deepEqual(
    outcomes.map((o) => [o.key, o.ok]),
    [['ntp', true]],
  );
});
