import { useMemo } from 'react';
import type { LogEntry } from './queries';

/** Bucket widths to choose from, in milliseconds: the smallest that gives at most MAX_BUCKETS wins. */
const STEPS = [
  1_000, 5_000, 10_000, 30_000, 60_000, 300_000, 600_000, 1_800_000, 3_600_000, 10_800_000,
  21_600_000, 43_200_000, 86_400_000,
];
const MAX_BUCKETS = 60;
/** The chart's drawn height in pixels: fixed, so that nothing below moves when data arrives. */
const HEIGHT = 72;

/** Counts of one interval: errors (error, critical), warnings and the rest. */
interface Bucket {
  start: number;
  errors: number;
  warnings: number;
  other: number;
}

/** Counts the entries per interval over `from`–`to` (epoch milliseconds). */
export function bucketize(entries: readonly LogEntry[], from: number, to: number): Bucket[] {
  const span = Math.max(1, to - from);
  const step = STEPS.find((s) => span / s <= MAX_BUCKETS) ?? STEPS[STEPS.length - 1]!;
  const first = Math.floor(from / step) * step;
  const count = Math.max(1, Math.ceil((to - first) / step));
  const buckets: Bucket[] = Array.from({ length: count }, (_, i) => ({
    start: first + i * step,
    errors: 0,
    warnings: 0,
    other: 0,
  }));
  for (const e of entries) {
    const t = Date.parse(e.timestamp);
    const i = Math.floor((t - first) / step);
    const b = buckets[i];
    if (!b) continue;
    if (e.level === 'error' || e.level === 'critical') b.errors++;
    else if (e.level === 'warning') b.warnings++;
    else b.other++;
  }
  return buckets;
}

const time = (ms: number, span: number) =>
  new Date(ms).toLocaleString(
    undefined,
    span >= 43_200_000
      ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }
      : { hour: '2-digit', minute: '2-digit', second: span <= 3_600_000 ? '2-digit' : undefined },
  );

/**
 * Matches over time as stacked bars (errors, warnings, the rest) of fixed height, counted from
 * the entries loaded so far (the label says so), with a table of the same counts for whoever
 * cannot see the bars.
 */
export function LogHistogram(props: { entries: readonly LogEntry[]; from: number; to: number }) {
  const { entries } = props;
  // Live lines may be newer than the range's end: the chart reaches them.
  const to = useMemo(
    () => entries.reduce((m, e) => Math.max(m, Date.parse(e.timestamp) + 1), props.to),
    [entries, props.to],
  );
  const from = props.from;
  const buckets = useMemo(() => bucketize(entries, from, to), [entries, from, to]);
  const max = Math.max(1, ...buckets.map((b) => b.errors + b.warnings + b.other));
  const span = to - from;
  const busiest = buckets.reduce((a, b) =>
    b.errors + b.warnings + b.other > a.errors + a.warnings + a.other ? b : a,
  );
  const busiestCount = busiest.errors + busiest.warnings + busiest.other;
  const summary =
    entries.length === 0
      ? 'No entry loaded in this range.'
      : `${entries.length.toLocaleString()} loaded entries from ${time(from, span)} to ${time(to, span)}; the busiest interval, from ${time(busiest.start, span)}, holds ${busiestCount}.`;
  const w = 1000 / buckets.length;
  const y = (n: number) => (n / max) * HEIGHT;
  return (
    <figure className="log-histogram card">
      <figcaption className="log-histogram-head">
        <span>Matches over time, of the loaded entries</span>
        <span className="log-histogram-legend" aria-hidden="true">
          <span className="swatch hist-errors" /> errors <span className="swatch hist-warnings" />{' '}
          warnings <span className="swatch hist-other" /> other
        </span>
      </figcaption>
      <div className="log-histogram-plot">
        <span className="log-histogram-max muted small" aria-hidden="true">
          {entries.length > 0 ? max : ''}
        </span>
        <svg
          role="img"
          aria-label={summary}
          viewBox={`0 0 1000 ${HEIGHT}`}
          preserveAspectRatio="none"
          height={HEIGHT}
        >
          {buckets.map((b, i) => {
            const x = i * w + w * 0.1;
            const bw = w * 0.8;
            const other = y(b.other);
            const warnings = y(b.warnings);
            const errors = y(b.errors);
            return (
              <g key={b.start}>
                {b.other > 0 && (
                  <rect className="hist-other" x={x} width={bw} y={HEIGHT - other} height={other} />
                )}
                {b.warnings > 0 && (
                  <rect
                    className="hist-warnings"
                    x={x}
                    width={bw}
                    y={HEIGHT - other - warnings}
                    height={warnings}
                  />
                )}
                {b.errors > 0 && (
                  <rect
                    className="hist-errors"
                    x={x}
                    width={bw}
                    y={HEIGHT - other - warnings - errors}
                    height={errors}
                  />
                )}
              </g>
            );
          })}
        </svg>
      </div>
      <div className="log-histogram-axis muted small" aria-hidden="true">
        <span>{time(from, span)}</span>
        <span>{time(to, span)}</span>
      </div>
      <details className="log-histogram-table">
        <summary>Counts as a table</summary>
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">Loaded entries per interval</caption>
            <thead>
              <tr>
                <th scope="col">From</th>
                <th scope="col" className="num">
                  Errors
                </th>
                <th scope="col" className="num">
                  Warnings
                </th>
                <th scope="col" className="num">
                  Other
                </th>
              </tr>
            </thead>
            <tbody>
              {buckets
                .filter((b) => b.errors + b.warnings + b.other > 0)
                .map((b) => (
                  <tr key={b.start}>
                    <td>{time(b.start, span)}</td>
                    <td className="num">{b.errors}</td>
                    <td className="num">{b.warnings}</td>
                    <td className="num">{b.other}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
