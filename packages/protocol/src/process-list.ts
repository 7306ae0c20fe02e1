import type { ProcessEntry } from './checkdata.js';
import { isRecord } from './guards.js';

/**
 * The process list of a check-data document, kept as its JSON text until something needs the
 * objects. A document's `processes` is half its bytes and four fifths of what parsing it costs
 * (a hundred-odd objects of thirteen fields per push), while ingest needs only how many there
 * are; the live stream and the stored document use the list, far less often than pushes come.
 *
 * The text is checked before it is accepted (`scanProcesses`): valid JSON and an array of
 * entries of the protocol's `ProcessEntry` shape. Whatever the quick check is not sure of is
 * parsed and validated the ordinary way, which also names the first bad path.
 */
export class ProcessList {
  private parsed: ProcessEntry[] | undefined;
  constructor(
    readonly text: string,
    readonly count: number,
  ) {}

  /** The entries, parsed on first use. */
  get items(): ProcessEntry[] {
    return (this.parsed ??= JSON.parse(this.text) as ProcessEntry[]);
  }

  /** The entries, so that `JSON.stringify` writes the list as the array it stands for. */
  toJSON(): ProcessEntry[] {
    return this.items;
  }
}

/** A document's processes as an array, whichever form they are in (else undefined). */
export function processesOf(doc: { processes?: unknown }): ProcessEntry[] | undefined {
  const p = doc.processes;
  if (p instanceof ProcessList) return p.items;
  return Array.isArray(p) ? (p as ProcessEntry[]) : undefined;
}

/** How many processes a document lists, without parsing a list kept as text (else undefined). */
export function processCount(doc: { processes?: unknown }): number | undefined {
  const p = doc.processes;
  if (p instanceof ProcessList) return p.count;
  return Array.isArray(p) ? p.length : undefined;
}

/**
 * A document as JSON text, its process list copied in as text (not parsed and written again).
 */
export function documentJson(doc: object): string {
  const p = (doc as { processes?: unknown }).processes;
  if (!(p instanceof ProcessList)) return JSON.stringify(doc);
  const rest = JSON.stringify({ ...doc, processes: undefined });
  return `${rest.slice(0, -1)}${rest.length > 2 ? ',' : ''}"processes":${p.text}}`;
}

const KEY = '"processes"';
/**
 * Stands in for the cut-out list while the rest is parsed; unguessable, so never forged. From
 * the global Web Crypto, which Node.js and browsers both have: this package imports nothing.
 */
const MARKER = `vigil-process-list-${Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) =>
  b.toString(16).padStart(2, '0'),
).join('')}`;
const MARKER_JSON = JSON.stringify(MARKER);

/**
 * Parses a push body with the process list of its check data (`body.checkdata.processes`) cut
 * out and checked without being built, when it can be; otherwise parses it whole. Throws what
 * `JSON.parse` throws for text that is not JSON.
 */
export function parsePushBody(body: string): unknown {
  return parseWithProcessList(body, checkdataOf);
}

/** A push body's check data. */
const checkdataOf = (parsed: unknown): unknown => (isRecord(parsed) ? parsed.checkdata : undefined);

/**
 * Parses JSON text with the process list of the document that `documentOf` finds in it cut out
 * and checked without being built, when it can be (a `ProcessList` then stands in that
 * document's `processes`); otherwise parses it whole. Throws what `JSON.parse` throws for text
 * that is not JSON.
 */
export function parseWithProcessList(
  body: string,
  documentOf: (parsed: unknown) => unknown,
): unknown {
  // The first `"processes"`; followed by a colon it is a name (a quote inside a string is
  // escaped). When it is not the document's own, or the document names it twice, the marker
  // is not found in its place after parsing, and the body is parsed whole.
  const at = body.indexOf(KEY);
  if (at >= 0) {
    let i = at + KEY.length;
    while (isSpace(body.charCodeAt(i))) i++;
    if (body.charCodeAt(i) === COLON) {
      i++;
      while (isSpace(body.charCodeAt(i))) i++;
      const scan = body.charCodeAt(i) === LBRACKET ? scanProcesses(body, i) : undefined;
      if (scan) {
        const parsed = JSON.parse(
          `${body.slice(0, i)}${MARKER_JSON}${body.slice(scan.end)}`,
        ) as unknown;
        const doc = documentOf(parsed);
        if (isRecord(doc) && doc.processes === MARKER) {
          doc.processes = new ProcessList(body.slice(i, scan.end), scan.count);
          return parsed;
        }
      }
    }
  }
  return JSON.parse(body);
}

const COLON = 0x3a;
const LBRACKET = 0x5b;
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

// The entries as the agents write them: compact, ProcessEntry's fields (protocol/checkdata.ts)
// in the agents' order, then any further fields with plain values. Regular expressions run as
// compiled code, several times faster than parsing; any other form is parsed the ordinary way.
// A string is runs of plain characters between escapes: a long one is one tight loop over the
// class, not a choice between plain character and escape at each character.
const STR = String.raw`"[^"\\\u0000-\u001f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\u0000-\u001f]*)*"`;
// At most 16 digits either side of the point, no exponent: every such figure is finite.
const DIGITS = String.raw`-?(?:0|[1-9]\d{0,15})`;
const INT = String.raw`${DIGITS}(?![\d.eE])`;
const NUM = String.raw`${DIGITS}(?:\.\d{1,16})?(?![\d.eE])`;
const PLAIN = `(?:${STR}|${NUM}|true|false|null)`;
/** Further fields: any name but the given ones (a repeated field would replace the first). */
const extra = (known: string[]) =>
  String.raw`(?:,"(?!(?:${known.join('|')})")[^"\\\u0000-\u001f]*":${PLAIN})*`;
const MEMORY_FIELDS = ['rss', 'vms'];
const FIELDS = [
  ['pid', INT],
  ['ppid', INT],
  ['username', STR],
  ['name', STR],
  ['cpu_percent', NUM],
  ['memory_percent', NUM],
  ['cmdline', STR],
  ['status', String.raw`\[(?:${STR}(?:,${STR})*)?\]`],
  ['exec', STR],
  ['nice_level', INT],
  ['num_fds', INT],
  ['Memory', `\\{"rss":${INT},"vms":${INT}${extra(MEMORY_FIELDS)}\\}`],
  ['CreateTime', INT],
] as const;
const ENTRY = new RegExp(
  `\\{${FIELDS.map(([name, value]) => `"${name}":${value}`).join(',')}${extra(FIELDS.map(([n]) => n))}\\}`,
  'y',
);

/**
 * Checks the JSON array at `start` of `s` as a list of process entries in the agents' form,
 * without building it. Returns where it ends and how many entries it has, or undefined when it
 * is not in that form (which does not make it invalid: it is then parsed the ordinary way).
 */
export function scanProcesses(
  s: string,
  start: number,
): { end: number; count: number } | undefined {
  let i = start + 1;
  if (s.charCodeAt(i) === 0x5d) return { end: i + 1, count: 0 };
  for (let count = 1; ; count++) {
    ENTRY.lastIndex = i;
    if (!ENTRY.test(s)) return undefined;
    i = ENTRY.lastIndex;
    const c = s.charCodeAt(i++);
    if (c === 0x5d) return { end: i, count };
    if (c !== 0x2c) return undefined;
  }
}
