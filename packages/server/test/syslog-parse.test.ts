// The syslog parser against lines real devices send (Cisco IOS and ASA, Juniper, rsyslog, util-linux
// `logger`) and malformed ones; the RFC 6587 frame decoder; the `[syslog] listen` check; the host
// index.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createFrameDecoder } from '../src/logs/syslog/framing.js';
import { createSyslogHostMatcher, indexHosts } from '../src/logs/syslog/hosts.js';
import { checkSyslogListen, syslogAddresses } from '../src/logs/syslog/listen.js';
import { parseSyslog, type SyslogMessage } from '../src/logs/syslog/parse.js';

/**
 * When the lines are received: 2026-12-05 02:05 UTC, a day after the BSD lines' local times, so
 * that they are behind it (and believed) in every time zone.
 */
const RECEIVED = Date.UTC(2026, 11, 5, 2, 5, 0);
/** A BSD timestamp has no zone: it is read in the server's local zone. */
const local = (mon: number, d: number, h: number, mi: number, s: number, ms = 0, y = 2026) =>
  new Date(y, mon, d, h, mi, s, ms).getTime();

type Expected = Partial<SyslogMessage>;

const CASES: [string, string, Expected][] = [
  [
    'Cisco IOS, clock not set (`*`), sequence number',
    '<189>53: *Mar  1 00:12:14.831: %SYS-5-CONFIG_I: Configured from console by console',
    {
      format: 'rfc3164',
      priority: 189,
      level: 'notice',
      timestamp: RECEIVED,
      hostname: null,
      app: 'SYS',
      message: '%SYS-5-CONFIG_I: Configured from console by console',
      fields: { facility: 'local7', sequence: '53', mnemonic: 'SYS-5-CONFIG_I' },
    },
  ],
  [
    'Cisco IOS, synced clock in UTC with milliseconds',
    '<187>120: Dec  4 01:59:12.345 UTC: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down',
    {
      priority: 187,
      level: 'error',
      timestamp: Date.UTC(2026, 11, 4, 1, 59, 12, 345),
      hostname: null,
      app: 'LINK',
      message: '%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down',
      fields: { facility: 'local7', sequence: '120', mnemonic: 'LINK-3-UPDOWN' },
    },
  ],
  [
    'Cisco IOS with origin-id hostname',
    '<189>54: sw-core-1: *Mar  1 00:15:02.001: %SYS-5-RESTART: System restarted',
    {
      hostname: 'sw-core-1',
      app: 'SYS',
      timestamp: RECEIVED,
      fields: { facility: 'local7', sequence: '54', mnemonic: 'SYS-5-RESTART' },
    },
  ],
  [
    'Cisco IOS relayed: a relay header before the device header',
    '<189>Dec  4 02:03:08 10.0.0.1 45: *Mar  1 00:04:22.123: %LINEPROTO-5-UPDOWN: Line protocol on Interface Gi0/1, changed state to up',
    {
      hostname: '10.0.0.1',
      app: 'LINEPROTO',
      timestamp: RECEIVED,
      message: '%LINEPROTO-5-UPDOWN: Line protocol on Interface Gi0/1, changed state to up',
      fields: { facility: 'local7', sequence: '45', mnemonic: 'LINEPROTO-5-UPDOWN' },
    },
  ],
  [
    'Cisco ASA: year in the timestamp, no host name',
    '<166>Dec 04 2026 02:03:08: %ASA-6-302013: Built outbound TCP connection 1234 for outside:203.0.113.7/443 to inside:192.168.1.10/51234',
    {
      priority: 166,
      level: 'info',
      timestamp: local(11, 4, 2, 3, 8),
      hostname: null,
      app: 'ASA',
      fields: { facility: 'local4', mnemonic: 'ASA-6-302013' },
    },
  ],
  [
    'Juniper Junos, BSD format',
    '<28>Dec  3 10:15:42 router1 mib2d[1234]: SNMP_TRAP_LINK_DOWN: ifIndex 526, ifAdminStatus up(1), ifOperStatus down(2), ifName ge-0/0/1',
    {
      format: 'rfc3164',
      priority: 28,
      level: 'warning',
      timestamp: local(11, 3, 10, 15, 42),
      hostname: 'router1',
      app: 'mib2d',
      pid: '1234',
      message:
        'SNMP_TRAP_LINK_DOWN: ifIndex 526, ifAdminStatus up(1), ifOperStatus down(2), ifName ge-0/0/1',
      fields: { facility: 'daemon' },
    },
  ],
  [
    'Juniper Junos, structured-data format (RFC 5424)',
    `<165>1 2026-12-03T09:17:15.719Z router1 mgd 3046 UI_DBASE_LOGOUT_EVENT [junos@2636.1.1.1.2.18 username="regress"] User 'regress' exiting configuration mode`,
    {
      format: 'rfc5424',
      priority: 165,
      level: 'notice',
      timestamp: Date.UTC(2026, 11, 3, 9, 17, 15, 719),
      hostname: 'router1',
      app: 'mgd',
      pid: '3046',
      msgid: 'UI_DBASE_LOGOUT_EVENT',
      message: "User 'regress' exiting configuration mode",
      fields: { facility: 'local4', 'junos@2636.1.1.1.2.18.username': 'regress' },
    },
  ],
  [
    'RFC 5424 example with structured data and a BOM before MSG',
    '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] \uFEFFAn application event log entry...',
    {
      format: 'rfc5424',
      // Years behind its receipt: the receipt time, the sender's kept.
      timestamp: RECEIVED,
      hostname: 'mymachine.example.com',
      app: 'evntslog',
      pid: null,
      msgid: 'ID47',
      message: 'An application event log entry...',
      fields: {
        facility: 'local4',
        'exampleSDID@32473.iut': '3',
        'exampleSDID@32473.eventSource': 'Application',
        'exampleSDID@32473.eventID': '1011',
        device_time: '2003-10-11T22:14:15.003Z',
      },
    },
  ],
  [
    'RFC 5424: two SD elements, no MSG',
    '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"][examplePriority@32473 class="high"]',
    {
      message: '',
      fields: {
        facility: 'local4',
        'exampleSDID@32473.iut': '3',
        'examplePriority@32473.class': 'high',
        device_time: '2003-10-11T22:14:15.003Z',
      },
    },
  ],
  [
    'RFC 5424: escaped quote, backslash and bracket in SD values; an element without params',
    '<14>1 2026-12-04T02:03:08+02:00 h app 1 - [x@1 a="say \\"hi\\"" b="c:\\\\temp" c="\\]" d="a\\b"][flag@1] text ] with bracket',
    {
      timestamp: Date.UTC(2026, 11, 4, 0, 3, 8),
      message: 'text ] with bracket',
      fields: {
        facility: 'user',
        'x@1.a': 'say "hi"',
        'x@1.b': 'c:\\temp',
        'x@1.c': ']',
        'x@1.d': 'a\\b',
        'flag@1': '',
      },
    },
  ],
  [
    'rsyslog RFC 5424 with timeQuality and microseconds (util-linux logger --rfc5424)',
    '<13>1 2026-12-04T02:03:08.123456+01:00 web1 alice 4242 - [timeQuality tzKnown="1" isSynced="1" syncAccuracy="181000"] hello from logger',
    {
      format: 'rfc5424',
      level: 'notice',
      timestamp: Date.UTC(2026, 11, 4, 1, 3, 8, 123),
      hostname: 'web1',
      app: 'alice',
      pid: '4242',
      msgid: null,
      message: 'hello from logger',
      fields: {
        facility: 'user',
        'timeQuality.tzKnown': '1',
        'timeQuality.isSynced': '1',
        'timeQuality.syncAccuracy': '181000',
      },
    },
  ],
  [
    'RFC 5424 with every header field NIL',
    '<14>1 - - - - - -',
    {
      format: 'rfc5424',
      timestamp: RECEIVED,
      hostname: null,
      app: null,
      pid: null,
      msgid: null,
      message: '',
    },
  ],
  [
    'RFC 5424 with malformed structured data: kept in the message',
    '<11>1 2026-12-04T02:03:08Z h app - - [broken sd',
    { format: 'rfc5424', level: 'error', hostname: 'h', message: '[broken sd' },
  ],
  [
    'RFC 5424 with an impossible timestamp: read as a BSD line, kept whole',
    '<14>1 2026-13-45T99:00:00Z h app - - - text',
    {
      format: 'rfc3164',
      timestamp: RECEIVED,
      message: '1 2026-13-45T99:00:00Z h app - - - text',
    },
  ],
  [
    'util-linux logger --rfc3164',
    '<13>Dec  4 02:03:08 web1 alice: hello world',
    {
      format: 'rfc3164',
      level: 'notice',
      timestamp: local(11, 4, 2, 3, 8),
      hostname: 'web1',
      app: 'alice',
      pid: null,
      message: 'hello world',
      fields: { facility: 'user' },
    },
  ],
  [
    'BSD line without a host name: the tag follows the time',
    '<86>Dec  4 02:03:08 sshd[812]: Accepted publickey for root',
    { hostname: null, app: 'sshd', pid: '812', message: 'Accepted publickey for root' },
  ],
  [
    'a tag with a slash (postfix)',
    '<22>Dec  4 02:03:08 mail postfix/smtpd[4321]: connect from unknown[10.0.0.9]',
    {
      hostname: 'mail',
      app: 'postfix/smtpd',
      pid: '4321',
      level: 'info',
      fields: { facility: 'mail' },
    },
  ],
  [
    'rsyslog forwarding format: RFC 3339 time in a BSD line',
    '<30>2026-12-04T02:03:08.123+00:00 web1 systemd[1]: Started Daily apt upgrade.',
    {
      format: 'rfc3164',
      timestamp: Date.UTC(2026, 11, 4, 2, 3, 8, 123),
      hostname: 'web1',
      app: 'systemd',
      pid: '1',
      message: 'Started Daily apt upgrade.',
      fields: { facility: 'daemon' },
    },
  ],
  [
    'a PRI and a tag only (no time, no host)',
    '<30>dhcpd: DHCPACK on 10.0.0.5 to 00:11:22:33:44:55 via eth0',
    {
      timestamp: RECEIVED,
      hostname: null,
      app: 'dhcpd',
      message: 'DHCPACK on 10.0.0.5 to 00:11:22:33:44:55 via eth0',
    },
  ],
  [
    'a PRI and bare text',
    '<0>kernel panic - not syncing',
    { level: 'critical', hostname: null, app: null, message: 'kernel panic - not syncing' },
  ],
  ['severity 7 is debug', '<15>x', { level: 'debug', message: 'x' }],
  [
    'no PRI: notice, kept whole',
    'just some text from a misconfigured sender',
    {
      format: 'raw',
      priority: null,
      level: 'notice',
      message: 'just some text from a misconfigured sender',
      fields: {},
    },
  ],
  [
    'a PRI over 191 is no PRI',
    '<999>oops',
    { format: 'raw', priority: null, level: 'notice', message: '<999>oops', fields: {} },
  ],
  [
    'a PRI with a leading zero is no PRI',
    '<013>x',
    { format: 'raw', priority: null, message: '<013>x' },
  ],
  [
    'trailing CR, LF and NUL are removed',
    '<13>Dec  4 02:03:08 web1 app: line\r\n\0',
    { message: 'line' },
  ],
  [
    'an invalid BSD date (day 32) is no date',
    '<13>Dec 32 02:03:08 web1 app: x',
    { timestamp: RECEIVED, hostname: null, app: null, message: 'Dec 32 02:03:08 web1 app: x' },
  ],
];

describe('parseSyslog', () => {
  for (const [name, line, expected] of CASES)
    test(name, () => {
      const m = parseSyslog(line, RECEIVED);
      assert.ok(m, 'parsed');
      for (const [k, v] of Object.entries(expected))
        assert.deepEqual(m[k as keyof SyslogMessage], v, `${k} of ${JSON.stringify(line)}`);
    });

  test('a BSD time later than its receipt belongs to the year before', () => {
    const received = new Date(2027, 0, 1, 0, 0, 10).getTime();
    const m = parseSyslog('<13>Dec 31 23:59:59 h app: x', received)!;
    assert.equal(m.timestamp, new Date(2026, 11, 31, 23, 59, 59).getTime());
    // A sender clock slightly ahead stays in the current year.
    const ahead = parseSyslog('<13>Jan  1 00:01:00 h app: x', received)!;
    assert.equal(ahead.timestamp, new Date(2027, 0, 1, 0, 1, 0).getTime());
  });

  test('a sender time far from the receipt is not believed', () => {
    const ahead = parseSyslog('<13>1 2026-12-05T03:06:00Z h a - - - x', RECEIVED)!;
    assert.equal(ahead.timestamp, RECEIVED);
    assert.equal(ahead.fields.device_time, '2026-12-05T03:06:00.000Z');
    const near = parseSyslog('<13>1 2026-12-05T03:04:00Z h a - - - x', RECEIVED)!;
    assert.equal(near.timestamp, Date.UTC(2026, 11, 5, 3, 4));
    assert.equal(near.fields.device_time, undefined);
    const old = parseSyslog('<13>1 2026-11-27T02:04:00Z h a - - - x', RECEIVED)!;
    assert.equal(old.timestamp, RECEIVED);
    const held = parseSyslog('<13>1 2026-11-29T02:04:00Z h a - - - x', RECEIVED)!;
    assert.equal(held.timestamp, Date.UTC(2026, 10, 29, 2, 4));
  });

  test('empty lines give nothing', () => {
    for (const line of ['', '\n', '\r\n', '   ', '\0'])
      assert.equal(parseSyslog(line, RECEIVED), undefined);
  });

  test('a long message is cut at LOG_MESSAGE_MAX; too much structured data is dropped', () => {
    const m = parseSyslog(`<13>${'x'.repeat(20_000)}`, RECEIVED)!;
    assert.equal(m.message.length, 16_384);
    const sd = Array.from({ length: 100 }, (_, i) => `p${i}="${i}"`).join(' ');
    const many = parseSyslog(`<13>1 - h a - - [big@1 ${sd}] msg`, RECEIVED)!;
    assert.equal(Object.keys(many.fields).length, 60);
    assert.equal(many.message, 'msg');
  });

  test('arbitrary bytes never throw', () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const alphabet = '<>[]"\\= -:*.0123456789abcTZ\uFEFF\n%';
    for (let i = 0; i < 5_000; i++) {
      const length = Math.floor(rand() * 60);
      let s = rand() < 0.5 ? '<13>1 ' : '<13>';
      for (let j = 0; j < length; j++) s += alphabet[Math.floor(rand() * alphabet.length)];
      assert.doesNotThrow(() => parseSyslog(s, RECEIVED), s);
    }
  });
});

describe('createFrameDecoder', () => {
  const frame = (s: string) => `${Buffer.byteLength(s)} ${s}`;

  test('octet counting, split anywhere, with multi-byte characters', () => {
    const stream = Buffer.from(
      frame('<13>héllo wörld') + frame('<14>second\nline') + frame('<15>x'),
    );
    for (let cut = 1; cut < stream.length; cut++) {
      const d = createFrameDecoder(1024);
      const out = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut)), ...d.end()];
      assert.deepEqual(out, ['<13>héllo wörld', '<14>second\nline', '<15>x'], `cut at ${cut}`);
    }
  });

  test('non-transparent framing (LF), the last line without LF at the end', () => {
    const d = createFrameDecoder(1024);
    assert.deepEqual(d.push(Buffer.from('<13>one\n<13>tw')), ['<13>one']);
    assert.deepEqual(d.push(Buffer.from('o\r\n<13>three')), ['<13>two\r']);
    assert.deepEqual(d.end(), ['<13>three']);
  });

  test('both framings mixed on one connection; a line may start with a digit', () => {
    const d = createFrameDecoder(1024);
    const out = d.push(Buffer.from(`${frame('<13>counted')}<13>lf\n2026-12-04 no PRI\n12345`));
    assert.deepEqual(out, ['<13>counted', '<13>lf', '2026-12-04 no PRI']);
    assert.deepEqual(d.push(Buffer.from('x\n')), ['12345x']);
  });

  test('over-long frames are cut and the rest skipped, in both framings', () => {
    const d = createFrameDecoder(8);
    assert.deepEqual(d.push(Buffer.from('<13>abcdefghij\n<13>ok\n')), ['<13>abcd', '<13>ok']);
    assert.deepEqual(d.push(Buffer.from('<13>abcdefghijkl')), ['<13>abcd']);
    assert.deepEqual(d.push(Buffer.from('mnop\n<13>b\n')), ['<13>b']);
    assert.deepEqual(d.push(Buffer.from(frame('<13>0123456789') + frame('<1>z'))), [
      '<13>0123',
      '<1>z',
    ]);
    assert.equal(d.truncated, 3);
  });

  test('a counted frame cut short by the end of the stream keeps what came', () => {
    const d = createFrameDecoder(1024);
    assert.deepEqual(d.push(Buffer.from('20 <13>partial')), []);
    assert.deepEqual(d.end(), ['<13>partial']);
    assert.equal(d.truncated, 1);
  });
});

describe('[syslog] listen', () => {
  for (const [value, ok] of [
    ['', true],
    ['udp://0.0.0.0:514', true],
    ['udp://0.0.0.0:514, tcp://0.0.0.0:514', true],
    ['tcp://[::]:1514,udp://[::1]:0', true],
    ['udp://127.0.0.1:0, udp://127.0.0.1:0', true],
    ['0.0.0.0:514', false],
    ['http://0.0.0.0:514', false],
    ['udp://0.0.0.0', false],
    ['udp://0.0.0.0:70000', false],
    ['udp://::1:514', false],
    ['udp://0.0.0.0:514, udp://0.0.0.0:514', false],
  ] as const)
    test(`${JSON.stringify(value)} is ${ok ? 'valid' : 'refused'}`, () => {
      const reason = checkSyslogListen(value);
      if (ok) assert.equal(reason, undefined);
      else assert.match(reason ?? '', /udp:\/\/|port|twice/);
    });

  test('addresses in order, IPv6 without brackets', () => {
    assert.deepEqual(syslogAddresses('udp://0.0.0.0:514, tcp://[::]:1514'), [
      { protocol: 'udp', host: '0.0.0.0', port: 514 },
      { protocol: 'tcp', host: '::', port: 1514 },
    ]);
  });
});

describe('host matching', () => {
  const index = indexHosts([
    { id: 'h1', name: 'sw-core-1.example.net', display_name: 'Core switch', address: '10.0.0.1' },
    { id: 'h2', name: 'router1', display_name: null, address: 'fd00::2' },
    { id: 'h3', name: 'fw', display_name: null, address: 'fw.example.net' },
    { id: 'h4', name: 'web.a.example', display_name: null, address: null },
    { id: 'h5', name: 'web.b.example', display_name: null, address: null },
  ]);
  for (const [sender, hostname, expected] of [
    ['192.0.2.9', 'SW-CORE-1.example.net', 'h1'],
    ['192.0.2.9', 'core switch', 'h1'],
    ['10.0.0.1', null, 'h1'],
    ['::ffff:10.0.0.1', 'unknown-name', 'h1'],
    ['FD00::2', null, 'h2'],
    ['192.0.2.9', 'fw.example.net', 'h3'],
    ['192.0.2.9', '10.0.0.1', 'h1'],
    ['192.0.2.9', 'sw-core-1', 'h1'],
    // A relay's address loses to the HOSTNAME of the line it forwards.
    ['10.0.0.1', 'router1', 'h2'],
    // Two hosts share the short name `web`: neither.
    ['192.0.2.9', 'web', null],
    ['192.0.2.9', null, null],
    [null, null, null],
  ] as const)
    test(`${sender} / ${hostname} → ${expected}`, () =>
      assert.equal(index.match(sender, hostname), expected));

  test('the index is read once, kept, and read again after invalidate', async () => {
    let reads = 0;
    let t = 0;
    const m = createSyslogHostMatcher({
      directory: {
        listing: async () => {
          reads++;
          return [{ id: `h${reads}`, name: 'a', display_name: null, address: null }];
        },
      },
      refreshMs: 1000,
      now: () => t,
      log: () => undefined,
    });
    assert.equal((await m.index()).match(null, 'a'), 'h1');
    assert.equal((await m.index()).match(null, 'a'), 'h1');
    assert.equal(reads, 1);
    m.invalidate();
    assert.equal((await m.index()).match(null, 'a'), 'h2');
    t = 2000;
    // A stale index still answers while the new one is read beside it.
    assert.equal((await m.index()).match(null, 'a'), 'h2');
    await new Promise((r) => setImmediate(r));
    assert.equal((await m.index()).match(null, 'a'), 'h3');
    assert.equal(reads, 3);
  });
});
