import type { PerfDatum } from './checkdata.js';

// Nagios plugin output, as the Nagios Plugin Development Guidelines define it and as Vigil's
// agent and the openITCOCKPIT agent pass it on: the first line is `TEXT | PERFDATA`, further
// lines are long text, and after the first `|` of the long text come more perfdata items, which
// may span lines. One item is `'label'=value[UOM];[warn];[crit];[min];[max]`. The server parses
// what openITCOCKPIT agents send (only `stdout` and `rc`); Vigil's agent parses its own plugins'
// output with the same code.

/** The Nagios plugin states by exit code. */
export const PLUGIN_STATES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

/** Most perfdata items kept from one output: a runaway plugin must not make thousands of series. */
export const MAX_PERFDATA_ITEMS = 200;

/** A plain decimal figure, with a comma accepted for the point (plugins run in other locales). */
const NUMBER = String.raw`[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?`;
/** The value and its unit: `U` is "undetermined"; any unit that is not a figure is kept. */
const VALUE = new RegExp(`^(U|${NUMBER})([^\\d;.,+-][^;]*)?$`);
/** A threshold range: `10`, `10:`, `~:10`, `10:20`, `@10:20`. */
const RANGE = new RegExp(`^@?(?:(?:~|${NUMBER})?:)?(?:${NUMBER})?$`);
/** A bare figure (`min`, `max`). */
const FIGURE = new RegExp(`^${NUMBER}$`);

const isSpace = (c: string | undefined) =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';

const toNumber = (s: string): number => Number(s.replace(',', '.'));

/**
 * Parses Nagios performance data: items separated by white space; a label with spaces or `=` is
 * single-quoted, and `''` inside it is one quote. Items that do not follow the format are
 * skipped and counted, never fatal: a plugin's bad perfdata must not cost its state. A warning
 * or critical threshold that is not a range is null; the item is kept. At most
 * `MAX_PERFDATA_ITEMS` items are returned; the rest count as skipped.
 */
export function parsePerfdata(text: string): { items: PerfDatum[]; skipped: number } {
  const items: PerfDatum[] = [];
  let skipped = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && isSpace(text[i])) i++;
    if (i >= n) break;
    let label = '';
    let quoted = false;
    if (text[i] === "'") {
      quoted = true;
      let closed = false;
      i++;
      while (i < n) {
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            label += "'";
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        label += text[i++];
      }
      if (!closed) {
        skipped++;
        break;
      }
    } else {
      const start = i;
      while (i < n && text[i] !== '=' && !isSpace(text[i])) i++;
      label = text.slice(start, i);
    }
    if (text[i] !== '=') {
      // No `=` right after the label: this token is not an item.
      while (i < n && !isSpace(text[i])) i++;
      skipped++;
      continue;
    }
    const start = ++i;
    while (i < n && !isSpace(text[i])) i++;
    const datum = perfDatum(label, text.slice(start, i), quoted);
    if (datum && items.length < MAX_PERFDATA_ITEMS) items.push(datum);
    else skipped++;
  }
  return { items, skipped };
}

/** One `value[UOM];warn;crit;min;max` item, or undefined when malformed. */
function perfDatum(label: string, spec: string, quoted: boolean): PerfDatum | undefined {
  if (label === '' || (!quoted && label.includes("'"))) return undefined;
  const [valueUom = '', warn = '', crit = '', min = '', max = '', ...extra] = spec.split(';');
  if (extra.some((s) => s !== '')) return undefined;
  const m = VALUE.exec(valueUom);
  if (!m) return undefined;
  const value = m[1] === 'U' ? null : toNumber(m[1]!);
  if (value !== null && !Number.isFinite(value)) return undefined;
  const range = (s: string): string | null => (s !== '' && RANGE.test(s) ? s : null);
  const bound = (s: string): number | null => {
    if (!FIGURE.test(s)) return null;
    const v = toNumber(s);
    return Number.isFinite(v) ? v : null;
  };
  return {
    label,
    value,
    uom: m[2] ?? '',
    warn: range(warn),
    crit: range(crit),
    min: bound(min),
    max: bound(max),
  };
}

/** A plugin's output split as the Nagios plugin guidelines define. */
export interface PluginOutput {
  /** The first line's text, without its perfdata. */
  output: string;
  /** The further lines' text, without their perfdata. */
  longOutput: string;
  /** The perfdata of the first line, then of the long text. */
  perfdata: PerfDatum[];
}

/**
 * Splits a plugin's standard output into its first-line text, its long text and all perfdata
 * (the part after `|` on the first line, and after the first `|` in the long text, which may
 * span lines). Never throws.
 */
export function parsePluginOutput(stdout: string): PluginOutput {
  const text = stdout.replace(/\r\n?/g, '\n').replace(/\n+$/, '');
  const nl = text.indexOf('\n');
  const first = nl === -1 ? text : text.slice(0, nl);
  const rest = nl === -1 ? '' : text.slice(nl + 1);
  const bar = first.indexOf('|');
  const output = (bar === -1 ? first : first.slice(0, bar)).trim();
  let perf = bar === -1 ? '' : first.slice(bar + 1);
  const restBar = rest.indexOf('|');
  const longOutput = (restBar === -1 ? rest : rest.slice(0, restBar)).trim();
  if (restBar !== -1) perf += `\n${rest.slice(restBar + 1)}`;
  return { output, longOutput, perfdata: perf === '' ? [] : parsePerfdata(perf).items };
}
