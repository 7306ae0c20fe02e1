import { useQuery } from '@tanstack/react-query';
import { api, ApiError, unwrap } from '../../api/client';
import { ErrorView } from '../../ui/ErrorView';
import { bytes, dateTime, duration } from '../../ui/format';
import { Loading } from '../../ui/Page';

// The facts of `GET /hosts/{id}/system-info` are laid out by their shape (plain values, groups,
// lists of like objects), each value formatted by the unit its name carries, so a fact the
// server adds shows up without a change here.

/** `uptime_seconds` → `Uptime`, `swap_total_bytes` → `Swap total`. */
function title(key: string): string {
  const words = key.replace(/_(bytes|seconds|mbps)$/, '').replace(/_/g, ' ');
  const t = words
    .replace(/\bos\b/, 'OS')
    .replace(/\bcpu\b/, 'CPU')
    .replace(/\bmtu\b/, 'MTU');
  return t.charAt(0).toUpperCase() + t.slice(1);
}

/** A value as people read it, by the unit in its key. */
function show(key: string, v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') {
    // Package managers report their last run in epoch seconds.
    if (key === 'last_update') return dateTime(new Date(v * 1000).toISOString());
    if (key.endsWith('_bytes')) return bytes(v);
    if (key.endsWith('_seconds')) return duration(v);
    if (key.endsWith('_percent')) return `${v.toFixed(1)} %`;
    if (key.endsWith('_mbps')) return `${v} Mbit/s`;
    return String(v);
  }
  if (typeof v === 'string' && /_at$|^last_update$/.test(key)) return dateTime(v);
  if (Array.isArray(v))
    return v.length
      ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ')
      : 'none';
  return String(v);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A list of like objects (disks, interfaces) as a table of their fields. */
function FactTable({ name, rows }: { name: string; rows: Record<string, unknown>[] }) {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label={`${title(name)} table`}>
      <table>
        <caption className="visually-hidden">{title(name)}</caption>
        <thead>
          <tr>
            {cols.map((c) => (
              <th key={c} scope="col">
                {title(c)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {cols.map((c) => (
                <td key={c}>{show(c, r[c])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The host's latest system facts: plain facts first, then each group and list. */
export function FactsTab({ hostId }: { hostId: string }) {
  const q = useQuery({
    queryKey: ['hosts', hostId, 'system-info'],
    queryFn: () =>
      unwrap(api.GET('/api/v1/hosts/{id}/system-info', { params: { path: { id: hostId } } })),
  });
  if (q.error instanceof ApiError && q.error.code === 'host.no_data')
    return (
      <p className="card host-empty">
        This host has not reported yet; its facts come with its first report.
      </p>
    );
  if (q.isError) return <ErrorView error={q.error} onRetry={() => void q.refetch()} />;
  if (!isRecord(q.data)) return <Loading label="Loading system facts…" height={320} />;
  const entries = Object.entries(q.data as Record<string, unknown>).filter(
    ([k]) => k !== 'host_id',
  );
  const plain = entries.filter(([, v]) => !isRecord(v) && !(Array.isArray(v) && v.some(isRecord)));
  const groups = entries.filter(([, v]) => isRecord(v)) as [string, Record<string, unknown>][];
  const lists = entries.filter(([, v]) => Array.isArray(v) && v.some(isRecord)) as [
    string,
    Record<string, unknown>[],
  ][];
  return (
    <section aria-label="System facts" className="host-facts-tab">
      <div className="facts-grid">
        <div className="card">
          <h2>General</h2>
          <dl className="facts-list">
            {plain.map(([k, v]) => (
              <div key={k}>
                <dt>{title(k)}</dt>
                <dd>{show(k, v)}</dd>
              </div>
            ))}
          </dl>
        </div>
        {groups.map(([name, g]) => (
          <div key={name} className="card">
            <h2>{title(name)}</h2>
            <dl className="facts-list">
              {Object.entries(g).map(([k, v]) => (
                <div key={k}>
                  <dt>{title(k)}</dt>
                  <dd>{show(k, v)}</dd>
                </div>
              ))}
            </dl>
          </div>
        ))}
      </div>
      {lists.map(([name, rows]) => (
        <div key={name}>
          <h2>{title(name)}</h2>
          <FactTable name={name} rows={rows} />
        </div>
      ))}
    </section>
  );
}
