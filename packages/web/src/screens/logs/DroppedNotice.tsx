import { Link } from '../../app/router';
import { ago } from '../../ui/format';
import { useDropped } from './queries';

const REASONS: Record<string, string> = {
  buffer_full: 'its disk buffer was full',
  rate_limited: 'over the rate limit',
};

/**
 * A notice of the lines agents dropped before sending them (full disk buffer, rate limit), folded:
 * the total, and per agent and source how many, why and when last; nothing when none was dropped.
 * A failure to read the counts hides the notice (the search does not depend on it).
 */
export function DroppedNotice() {
  const dropped = useDropped();
  const items = dropped.data?.items ?? [];
  if (items.length === 0) return null;
  const total = items.reduce((n, d) => n + d.count, 0);
  return (
    <details className="card log-dropped">
      <summary>
        Agents dropped {total.toLocaleString('en-US')} {total === 1 ? 'line' : 'lines'} before
        sending {total === 1 ? 'it' : 'them'}
      </summary>
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Dropped lines by agent and source</caption>
          <thead>
            <tr>
              <th scope="col">Agent</th>
              <th scope="col">Source</th>
              <th scope="col">Why</th>
              <th scope="col" className="num">
                Lines
              </th>
              <th scope="col">Last</th>
            </tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr key={`${d.agent_id} ${d.source} ${d.source_name} ${d.reason}`}>
                <td>
                  <Link to={`/logs?agent=${encodeURIComponent(d.agent_id)}`}>{d.agent_id}</Link>
                </td>
                <td>
                  <span className="muted">{d.source}</span> {d.source_name}
                </td>
                <td>{REASONS[d.reason] ?? d.reason}</td>
                <td className="num">{d.count.toLocaleString('en-US')}</td>
                <td>{ago(d.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
