import { LOG_MESSAGE_MAX, levelOfPriority, type LogLevel } from '@vigil/protocol';

/**
 * Syslog lines as devices send them: RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`)
 * and RFC 3164, the "BSD" format, with the variations real devices put on it (no timestamp or no
 * host name at all, Cisco IOS sequence numbers and `*` clocks, ASA's year in the timestamp,
 * rsyslog's RFC 3339 time in a BSD line). The parser is pure and never throws: what does not fit
 * a format is kept whole as the message, with the level of its PRI when it has one.
 */

/** One syslog line, parsed. */
export interface SyslogMessage {
  /**
   * When the line was written (epoch ms): the sender's time, or the time it was received when
   * the line carries none that can be trusted (none at all, RFC 5424's `-`, Cisco's `*` clock,
   * a time far from the receipt: see `trusted`).
   */
  timestamp: number;
  /** The HOSTNAME field; null when the line names none. */
  hostname: string | null;
  /** RFC 5424's APP-NAME, RFC 3164's TAG (`sshd` of `sshd[42]:`); null when absent. */
  app: string | null;
  /** RFC 5424's PROCID, or the `[PID]` of an RFC 3164 tag; null when absent. */
  pid: string | null;
  /** RFC 5424's MSGID; null when absent. */
  msgid: string | null;
  /** The PRI (facility × 8 + severity); null when the line had no valid one. */
  priority: number | null;
  /**
   * The level of the PRI's severity; a line without a PRI is `notice`, as RFC 3164 (4.3.3) has a
   * relay treat it (PRI 13).
   */
  level: LogLevel;
  /** The text, at most `LOG_MESSAGE_MAX` characters, without RFC 5424's byte order mark. */
  message: string;
  /**
   * What else the line told: `facility` (its name), RFC 5424 structured data as
   * `<SD-ID>.<PARAM-NAME>` (an element without parameters as `<SD-ID>` with an empty value),
   * Cisco's `sequence` and `mnemonic`, `device_time` (the sender's time when it was not
   * believed). At most `FIELDS_MAX` entries.
   */
  fields: Record<string, string>;
  /**
   * Which format the line was read as: `raw` for a line without a PRI (read as RFC 3164 as far
   * as it goes).
   */
  format: 'rfc5424' | 'rfc3164' | 'raw';
}

/** Most entries in a message's `fields` (structured data beyond it is dropped). */
export const FIELDS_MAX = 60;
const FIELD_KEY_MAX = 128;
const FIELD_VALUE_MAX = 4_096;

/** Facility names, by number (RFC 5424 6.2.1, with the names syslog.h gives them). */
const FACILITIES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'security',
  'console',
  'clock',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A BSD timestamp, with the variants devices send (`*`/`.` clock marks, a year, fractions, a zone). */
const BSD_TIME =
  /^([*.]?)(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(\d{1,2})(?: (\d{4}))? (\d{1,2}):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?: ([A-Z]{2,5}):|:)? /;
/** An RFC 3339 time at the start of a BSD line (rsyslog's forwarding format). */
const ISO_TIME =
  /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?:? /;
/** RFC 5424's TIMESTAMP. */
const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;
/** An RFC 3164 TAG with its optional `[PID]`, ending in a colon. */
const TAG = /^([^\s:[\]]{1,64})(?:\[([^\]\s]{1,32})\])?:(?: |$)/;
/** A Cisco message mnemonic: `%FACILITY-SEVERITY-MNEMONIC:`. */
const CISCO = /^%([A-Z0-9_]+(?:-[A-Z0-9_]+)?)-(\d)-([A-Z0-9_]+):/;

const ms = (fraction: string | undefined) =>
  fraction ? Number(fraction.slice(0, 3).padEnd(3, '0')) : 0;

/** Epoch ms of a calendar time with a `Z` or `±hh:mm` offset, or in the local zone without one. */
function epochOf(
  y: number,
  mon: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  milli: number,
  zone: string | undefined,
): number | undefined {
  if (mon < 0 || mon > 11 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  if (zone === undefined) return new Date(y, mon, d, h, mi, Math.min(s, 59), milli).getTime();
  const utc = Date.UTC(y, mon, d, h, mi, Math.min(s, 59), milli);
  if (zone === 'Z') return utc;
  const m = /^([+-])(\d\d):?(\d\d)$/.exec(zone);
  if (!m || Number(m[2]) > 23 || Number(m[3]) > 59) return undefined;
  const offset = (Number(m[2]) * 60 + Number(m[3])) * 60_000;
  return m[1] === '+' ? utc - offset : utc + offset;
}

/** Cuts a text to the stored maximum. */
const cut = (text: string, max: number) => (text.length > max ? text.slice(0, max) : text);

/** Adds a field unless the limit is reached; long keys and values are cut. */
function addField(fields: Record<string, string>, key: string, value: string): void {
  const k = cut(key, FIELD_KEY_MAX);
  if (!(k in fields) && Object.keys(fields).length >= FIELDS_MAX) return;
  fields[k] = cut(value, FIELD_VALUE_MAX);
}

/**
 * RFC 5424 STRUCTURED-DATA from `text` at 0 (`-` or one or more `[SD-ID PARAM="value"…]`, with
 * `\"`, `\\` and `\]` escaped in values). Returns where it ends, or undefined when it is
 * malformed.
 */
function parseStructuredData(text: string, fields: Record<string, string>): number | undefined {
  if (text.startsWith('-')) return 1;
  let i = 0;
  if (text[i] !== '[') return undefined;
  const found: [string, string][] = [];
  while (text[i] === '[') {
    i++;
    const idEnd = text.slice(i).search(/[ \]]/);
    if (idEnd <= 0) return undefined;
    const id = text.slice(i, i + idEnd);
    if (/[="]/.test(id)) return undefined;
    i += idEnd;
    let params = 0;
    while (text[i] === ' ') {
      i++;
      const eq = text.indexOf('="', i);
      if (eq <= i) return undefined;
      const name = text.slice(i, eq);
      if (/[ \]"]/.test(name)) return undefined;
      i = eq + 2;
      let value = '';
      for (;;) {
        const c = text[i];
        if (c === undefined) return undefined;
        if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\' || text[i + 1] === ']')) {
          value += text[i + 1];
          i += 2;
          continue;
        }
        if (c === '"') break;
        value += c;
        i++;
      }
      i++;
      found.push([`${id}.${name}`, value]);
      params++;
    }
    if (text[i] !== ']') return undefined;
    i++;
    if (params === 0) found.push([id, '']);
  }
  for (const [k, v] of found) addField(fields, k, v);
  return i;
}

const nil = (token: string | undefined) => (token === undefined || token === '-' ? null : token);

/** Reads the part after `<PRI>1 ` as RFC 5424; undefined when its header is malformed. */
function parse5424(
  rest: string,
  receivedAt: number,
  fields: Record<string, string>,
): Omit<SyslogMessage, 'priority' | 'level' | 'format'> | undefined {
  const parts: string[] = [];
  let i = 0;
  for (let n = 0; n < 5; n++) {
    const sp = rest.indexOf(' ', i);
    if (sp < 0) {
      // A header that ends right after MSGID (no SD): malformed, as SD is required.
      return undefined;
    }
    parts.push(rest.slice(i, sp));
    i = sp + 1;
  }
  const [time, hostname, app, procid, msgid] = parts;
  if (parts.some((p) => p === '')) return undefined;
  let timestamp = receivedAt;
  if (time !== '-') {
    const m = RFC3339.exec(time!);
    const t = m
      ? epochOf(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, ms(m[7]), m[8])
      : undefined;
    if (t === undefined) return undefined;
    timestamp = t;
  }
  const sdLength = parseStructuredData(rest.slice(i), fields);
  let message: string;
  if (sdLength === undefined) {
    // Structured data that does not parse is kept in the message, not lost.
    message = rest.slice(i);
  } else {
    message = rest.slice(i + sdLength);
    // MSG follows one space; a sender that omits it loses nothing.
    if (message.startsWith(' ')) message = message.slice(1);
  }
  if (message.startsWith('\uFEFF')) message = message.slice(1);
  return {
    timestamp,
    hostname: nil(hostname),
    app: nil(app),
    pid: nil(procid),
    msgid: nil(msgid),
    message,
    fields,
  };
}

/** Reads a timestamp at the start of a BSD line; undefined when there is none. */
function bsdTime(
  text: string,
  receivedAt: number,
): { timestamp: number; length: number } | undefined {
  const b = BSD_TIME.exec(text);
  if (b) {
    const [, mark, mon, d, year, h, mi, s, fraction, zone] = b;
    const length = b[0].length;
    // Cisco's `*`: the device's clock was never set, its time counts from boot.
    if (mark === '*') return { timestamp: receivedAt, length };
    const utc = zone === 'UTC' || zone === 'GMT' ? 'Z' : undefined;
    const month = MONTHS.indexOf(mon!);
    const args = [month, +d!, +h!, +mi!, +s!, ms(fraction), utc] as const;
    if (year !== undefined) {
      const t = epochOf(+year, ...args);
      return t === undefined ? undefined : { timestamp: t, length };
    }
    // RFC 3164 gives no year: the one that puts the time nearest before its receipt.
    const y = new Date(receivedAt).getFullYear();
    let t = epochOf(y, ...args);
    if (t === undefined) return undefined;
    if (t - receivedAt > 7 * 86_400_000) t = epochOf(y - 1, ...args)!;
    return { timestamp: t, length };
  }
  const iso = ISO_TIME.exec(text);
  if (iso) {
    const t = epochOf(
      +iso[1]!,
      +iso[2]! - 1,
      +iso[3]!,
      +iso[4]!,
      +iso[5]!,
      +iso[6]!,
      ms(iso[7]),
      iso[8],
    );
    return t === undefined ? undefined : { timestamp: t, length: iso[0].length };
  }
  return undefined;
}

/** Reads the part after `<PRI>` as RFC 3164, with the variants real devices send. */
function parse3164(
  rest: string,
  receivedAt: number,
  fields: Record<string, string>,
): Omit<SyslogMessage, 'priority' | 'level' | 'format'> {
  let text = rest;
  let hostname: string | null = null;
  // Cisco IOS: a sequence number first, then (with `logging origin-id`) the host name.
  const seq = /^(\d{1,10}): /.exec(text);
  if (seq) {
    addField(fields, 'sequence', seq[1]!);
    text = text.slice(seq[0].length);
  }
  const origin = /^([A-Za-z0-9][\w.-]{0,254}): (?=[*.]?[A-Z][a-z]{2} )/.exec(text);
  if (origin) {
    hostname = origin[1]!;
    text = text.slice(origin[0].length);
  }
  const time = bsdTime(text, receivedAt);
  let timestamp = receivedAt;
  if (time) {
    timestamp = time.timestamp;
    text = text.slice(time.length);
    // The HOSTNAME follows the time, unless the next word is already the tag or a message.
    const host = /^([^\s:[\]%]{1,255}) /.exec(text);
    if (hostname === null && host) {
      hostname = host[1]!;
      text = text.slice(host[0].length);
    }
    // Cisco's second sequence number after a relay's header: `10.0.0.1 45: *Mar 1 …: %…`.
    const inner = /^(\d{1,10}): /.exec(text);
    if (inner && bsdTime(text.slice(inner[0].length), receivedAt)) {
      addField(fields, 'sequence', inner[1]!);
      const t = bsdTime(text.slice(inner[0].length), receivedAt)!;
      timestamp = t.timestamp;
      text = text.slice(inner[0].length + t.length);
    }
  }
  let app: string | null = null;
  let pid: string | null = null;
  const cisco = CISCO.exec(text);
  if (cisco) {
    // The mnemonic names the facility (`LINK`); the message keeps `%LINK-3-UPDOWN:` for search.
    app = cisco[1]!;
    addField(fields, 'mnemonic', `${cisco[1]}-${cisco[2]}-${cisco[3]}`);
  } else {
    const tag = TAG.exec(text);
    if (tag) {
      app = tag[1]!;
      pid = tag[2] ?? null;
      text = text.slice(tag[0].length);
    }
  }
  return { timestamp, hostname, app, pid, msgid: null, message: text, fields };
}

/** How far ahead of its receipt a sender's time is believed (a zone an hour off, a slow clock). */
export const AHEAD_MAX_MS = 3_600_000;
/** How far behind its receipt a sender's time is believed (lines a relay held for days). */
export const BEHIND_MAX_MS = 7 * 86_400_000;

/**
 * The time to store a line at: the sender's, unless it is more than `AHEAD_MAX_MS` ahead of the
 * receipt or more than `BEHIND_MAX_MS` behind it (a clock never set, a wrong zone), when the
 * receipt time is used and the sender's kept as `fields.device_time`.
 */
function trusted(timestamp: number, receivedAt: number, fields: Record<string, string>): number {
  if (timestamp - receivedAt <= AHEAD_MAX_MS && receivedAt - timestamp <= BEHIND_MAX_MS)
    return timestamp;
  addField(fields, 'device_time', new Date(timestamp).toISOString());
  return receivedAt;
}

/**
 * Parses one syslog line received at `receivedAt` (epoch ms): RFC 5424 when its PRI is followed
 * by version `1`, else RFC 3164 with its real-world variants. Trailing line ends and every NUL
 * are removed. Returns undefined for a line with nothing in it; never throws.
 */
export function parseSyslog(line: string, receivedAt: number): SyslogMessage | undefined {
  // NUL ends a line for some senders, and PostgreSQL's text cannot hold it anywhere.
  const text = line
    .replace(/^\uFEFF/, '')
    .replace(/[\r\n\0]+$/, '')
    .replace(/\0/g, '');
  if (text.trim() === '') return undefined;
  const fields: Record<string, string> = {};
  const pri = /^<(0|[1-9]\d{0,2})>/.exec(text);
  const priority = pri && Number(pri[1]) <= 191 ? Number(pri[1]) : null;
  const level = levelOfPriority(priority ?? 13);
  if (priority !== null) addField(fields, 'facility', FACILITIES[priority >> 3]!);
  const rest = priority === null ? text : text.slice(pri![0].length);
  try {
    if (priority !== null && rest.startsWith('1 ')) {
      const m = parse5424(rest.slice(2), receivedAt, fields);
      if (m)
        return {
          ...m,
          timestamp: trusted(m.timestamp, receivedAt, fields),
          message: cut(m.message, LOG_MESSAGE_MAX),
          priority,
          level,
          format: 'rfc5424',
        };
    }
    const m = parse3164(rest, receivedAt, fields);
    return {
      ...m,
      timestamp: trusted(m.timestamp, receivedAt, fields),
      message: cut(m.message, LOG_MESSAGE_MAX),
      priority,
      level,
      format: priority === null ? 'raw' : 'rfc3164',
    };
  } catch {
    // Not expected; the line is kept whole rather than lost.
    return {
      timestamp: receivedAt,
      hostname: null,
      app: null,
      pid: null,
      msgid: null,
      message: cut(rest, LOG_MESSAGE_MAX),
      fields: priority === null ? {} : { facility: FACILITIES[priority >> 3]! },
      priority,
      level,
      format: 'raw',
    };
  }
}
