/** One interval as drawn: its start and end (epoch milliseconds) and its counts. */
export interface Interval {
  start: number;
  end: number;
  count: number;
  error: number;
  warning: number;
  other: number;
}

/** A time as the histogram labels it, precise enough for a range of `span` milliseconds. */
export const histogramTime = (ms: number, span: number) =>
  new Date(ms).toLocaleString(
    undefined,
    span >= 43_200_000
      ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }
      : { hour: '2-digit', minute: '2-digit', second: span <= 3_600_000 ? '2-digit' : undefined },
  );

/**
 * The histogram's counts as a table (behind "Counts as a table"): the intervals holding matches,
 * each with a button narrowing the search to it, and the total of all.
 */
export function HistogramTable(props: {
  intervals: readonly Interval[];
  total: number;
  span: number;
  onNarrow: (from: number, to: number) => void;
}) {
  const { span } = props;
  return (
    <details className="log-histogram-table">
      <summary>Counts as a table</summary>
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Matches per interval</caption>
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
              <th scope="col" className="num">
                All
              </th>
            </tr>
          </thead>
          <tbody>
            {props.intervals
              .filter((b) => b.count > 0)
              .map((b) => (
                <tr key={b.start}>
                  <td>
                    <button
                      type="button"
                      className="link"
                      aria-label={`Show ${histogramTime(b.start, span)} to ${histogramTime(b.end, span)}`}
                      onClick={() => props.onNarrow(b.start, b.end)}
                    >
                      {histogramTime(b.start, span)}
                    </button>
                  </td>
                  <td className="num">{b.error.toLocaleString('en-US')}</td>
                  <td className="num">{b.warning.toLocaleString('en-US')}</td>
                  <td className="num">{b.other.toLocaleString('en-US')}</td>
                  <td className="num">{b.count.toLocaleString('en-US')}</td>
                </tr>
              ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={4}>
                Total
              </th>
              <td className="num">{props.total.toLocaleString('en-US')}</td>
            </tr>
          </tfoot>
        </table>
      </div>
    </details>
  );
}
