import { ErrorView } from '../../ui/ErrorView';
import { HistogramTable, histogramTime, type Interval } from './HistogramTable';
import type { LogHistogramData } from './queries';

/** The chart's drawn height in pixels: fixed, so that nothing below moves when data arrives. */
const HEIGHT = 72;

/** The server's intervals with their ends, as epoch milliseconds. */
function intervalsOf(data: LogHistogramData): Interval[] {
  const width = data.bucket_seconds * 1000;
  return data.buckets.map((b) => {
    const start = Date.parse(b.start);
    return { ...b, start, end: start + width };
  });
}

/** "1,234 matches" (one match). */
const matches = (n: number) => `${n.toLocaleString('en-US')} ${n === 1 ? 'match' : 'matches'}`;

/**
 * Matches over time as stacked bars (errors, warnings, the rest) of fixed height, counted by the
 * server over every matching line (at most the newest 50,000: the caption says so then), with
 * a table of the same counts for whoever cannot see the bars. Choosing an interval (a bar, or its
 * button in the table) narrows the search's range to it.
 */
export function LogHistogram(props: {
  data: LogHistogramData | undefined;
  error: unknown;
  onRetry: () => void;
  onNarrow: (from: number, to: number) => void;
}) {
  const { data } = props;
  const intervals = data ? intervalsOf(data) : [];
  const from = data ? Date.parse(data.from) : 0;
  const to = data ? Date.parse(data.to) : 0;
  const span = to - from;
  const max = Math.max(1, ...intervals.map((b) => b.count));
  const busiest = intervals.reduce<Interval | undefined>(
    (a, b) => (a === undefined || b.count > a.count ? b : a),
    undefined,
  );
  const summary = !data
    ? 'Counting the matches…'
    : data.total === 0
      ? 'No match in this range.'
      : `${matches(data.total)}${data.capped ? ' counted' : ''} from ${histogramTime(from, span)} to ${histogramTime(to, span)}; the busiest interval, from ${histogramTime(busiest!.start, span)}, holds ${busiest!.count.toLocaleString('en-US')}.`;
  const w = 1000 / Math.max(1, intervals.length);
  const y = (n: number) => (n / max) * HEIGHT;
  return (
    <figure className="log-histogram card">
      <figcaption className="log-histogram-head">
        <span>
          Matches over time
          {data?.capped ? `, of the newest ${data.total.toLocaleString('en-US')} matches` : ''}
        </span>
        <span className="log-histogram-legend" aria-hidden="true">
          <span className="swatch hist-errors" /> errors <span className="swatch hist-warnings" />{' '}
          warnings <span className="swatch hist-other" /> other
        </span>
      </figcaption>
      {props.error && !data ? (
        <ErrorView error={props.error} onRetry={props.onRetry} />
      ) : (
        <div className="log-histogram-plot">
          <span className="log-histogram-max muted small" aria-hidden="true">
            {data && data.total > 0 ? max.toLocaleString('en-US') : ''}
          </span>
          <svg
            role="img"
            aria-label={summary}
            viewBox={`0 0 1000 ${HEIGHT}`}
            preserveAspectRatio="none"
            height={HEIGHT}
          >
            {intervals.map((b, i) => {
              const x = i * w + w * 0.1;
              const bw = w * 0.8;
              const other = y(b.other);
              const warnings = y(b.warning);
              const errors = y(b.error);
              return (
                <g key={b.start}>
                  {b.other > 0 && (
                    <rect
                      className="hist-other"
                      x={x}
                      width={bw}
                      y={HEIGHT - other}
                      height={other}
                    />
                  )}
                  {b.warning > 0 && (
                    <rect
                      className="hist-warnings"
                      x={x}
                      width={bw}
                      y={HEIGHT - other - warnings}
                      height={warnings}
                    />
                  )}
                  {b.error > 0 && (
                    <rect
                      className="hist-errors"
                      x={x}
                      width={bw}
                      y={HEIGHT - other - warnings - errors}
                      height={errors}
                    />
                  )}
                  {b.count > 0 && (
                    // The whole column answers a click: narrowing to it (the table's buttons
                    // do the same from the keyboard).
                    <rect
                      className="hist-hit"
                      x={i * w}
                      width={w}
                      y={0}
                      height={HEIGHT}
                      onClick={() => props.onNarrow(b.start, b.end)}
                    >
                      <title>{`${histogramTime(b.start, span)}: ${matches(b.count)}`}</title>
                    </rect>
                  )}
                </g>
              );
            })}
          </svg>
        </div>
      )}
      <div className="log-histogram-axis muted small" aria-hidden="true">
        <span>{data ? histogramTime(from, span) : ''}</span>
        <span>{data ? histogramTime(to, span) : ''}</span>
      </div>
      <HistogramTable
        intervals={intervals}
        total={data?.total ?? 0}
        span={span}
        onNarrow={props.onNarrow}
      />
    </figure>
  );
}
