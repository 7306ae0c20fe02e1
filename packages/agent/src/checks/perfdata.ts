import type { PerfDatum } from '@vigil/protocol';

/**
 * Parses Nagios plugin performance data (`'label'=value[UOM];[warn];[crit];[min];[max]`, items
 * separated by spaces; a label with spaces is single-quoted, and `''` inside it is one quote).
 * Items that do not follow the format are skipped and counted, never fatal: a plugin's bad
 * perfdata must not cost its state.
 */
export function parsePerfdata(text: string): { items: PerfDatum[]; skipped: number } {
  const items: PerfDatum[] = [];
  let skipped = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /\s/.test(text[i]!)) i++;
    if (i >= n) break;
    let label = '';
    if (text[i] === "'") {
      i++;
      for (;;) {
        if (i >= n) break;
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            label += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        label += text[i++];
      }
    } else {
      while (i < n && text[i] !== '=' && !/\s/.test(text[i]!)) label += text[i++];
    }
    let rest = '';
    if (text[i] === '=') {
      i++;
      while (i < n && !/\s/.test(text[i]!)) rest += text[i++];
    } else {
      // No `=`: skip this token.
      while (i < n && !/\s/.test(text[i]!)) i++;
      skipped++;
      continue;
    }
    const datum = perfDatum(label, rest);
    if (datum) items.push(datum);
    else skipped++;
  }
  return { items, skipped };
}

/** One `value[UOM];warn;crit;min;max` item, or undefined when malformed. */
function perfDatum(label: string, spec: string): PerfDatum | undefined {
  if (label === '') return undefined;
  const [valueUom = '', warn = '', crit = '', min = '', max = ''] = spec.split(';');
  const m = /^(U|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)([a-zA-Z%]*)$/.exec(
    valueUom.replace(',', '.'),
  );
  if (!m) return undefined;
  const value = m[1] === 'U' ? null : Number(m[1]);
  const num = (s: string): number | null => {
    if (s === '') return null;
    const v = Number(s.replace(',', '.'));
    return Number.isFinite(v) ? v : null;
  };
  return {
    label,
    value,
    uom: m[2]!,
    warn: warn === '' ? null : warn,
    crit: crit === '' ? null : crit,
    min: num(min),
    max: num(max),
  };
}

/** The Nagios plugin states by exit code. */
export const STATES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

/**
 * Splits a plugin's standard output into its first-line text, its long text and all perfdata
 * (the part after `|` on the first line, and after the first `|` in the long text, which may
 * span lines), as the Nagios plugin guidelines define.
 */
export function parsePluginOutput(stdout: string): {
  output: string;
  longOutput: string;
  perfdata: PerfDatum[];
} {
  const text = stdout.replace(/\r\n/g, '\n').replace(/\n+$/, '');
  const nl = text.indexOf('\n');
  const first = nl === -1 ? text : text.slice(0, nl);
  const rest = nl === -1 ? '' : text.slice(nl + 1);
  const bar = first.indexOf('|');
  const output = (bar === -1 ? first : first.slice(0, bar)).trim();
  let perf = bar === -1 ? '' : first.slice(bar + 1);
  const restBar = rest.indexOf('|');
  const longOutput = (restBar === -1 ? rest : rest.slice(0, restBar)).trim();
  if (restBar !== -1) perf += ` ${rest.slice(restBar + 1).replace(/\n/g, ' ')}`;
  return { output, longOutput, perfdata: parsePerfdata(perf).items };
}
