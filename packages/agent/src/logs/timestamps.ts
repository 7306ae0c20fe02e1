// A line's own timestamp, when it starts with one that is cheap to recognise: ISO 8601
// (`2026-12-04T02:10:00.123Z`, `2026-12-04 02:10:00,123`, with or without a zone) or RFC 3164
// (`Dec  4 02:10:00`, the classic syslog file format). Anything else is dated when it was read.

const ISO =
  /^\[?(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:\s?(Z|[+-]\d{2}(?::?\d{2})?))?/;
const RFC3164 =
  /^\[?(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})\b/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY_MS = 86_400_000;

const valid = (mo: number, d: number, h: number, mi: number, s: number) =>
  mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && s <= 60;

/**
 * The time a log line starts with, epoch milliseconds, or undefined when it starts with no
 * ISO 8601 or RFC 3164 timestamp. A timestamp without a zone is local time. RFC 3164 carries no
 * year: the current one is taken, or the previous one when that would put the line more than a
 * day ahead of `now` (a December line read in January).
 */
export function leadingTimestamp(line: string, now: number): number | undefined {
  const c = line.charCodeAt(0);
  if (!(c === 91 /* [ */ || (c >= 48 && c <= 57) || (c >= 65 && c <= 90))) return undefined;
  const iso = ISO.exec(line);
  if (iso) {
    const [, y, mo, d, h, mi, s, frac, zone] = iso;
    if (!valid(+mo!, +d!, +h!, +mi!, +s!)) return undefined;
    const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
    if (!zone) return new Date(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, ms).getTime();
    const utc = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, ms);
    if (zone === 'Z') return utc;
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offset = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0');
    return utc - sign * offset * 60_000;
  }
  const bsd = RFC3164.exec(line);
  if (bsd) {
    const [, mon, d, h, mi, s] = bsd;
    const month = MONTHS.indexOf(mon!);
    if (!valid(month + 1, +d!, +h!, +mi!, +s!)) return undefined;
    const year = new Date(now).getFullYear();
    const t = new Date(year, month, +d!, +h!, +mi!, +s!).getTime();
    return t > now + DAY_MS ? new Date(year - 1, month, +d!, +h!, +mi!, +s!).getTime() : t;
  }
  return undefined;
}
