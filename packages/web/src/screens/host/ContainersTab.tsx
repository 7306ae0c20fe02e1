import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { Answer } from '../../api/types';
import { ErrorView } from '../../ui/ErrorView';
import { ago, bytes, percent } from '../../ui/format';
import { Loading, StatusBadge } from '../../ui/Page';
import { SortHeader, useSorted } from '../../ui/sort';

type Container = Answer<'/api/v1/hosts/{id}/containers'>['items'][number];
type Col = 'name' | 'image' | 'state' | 'cpu' | 'memory' | 'net' | 'disk';
const value = (c: Container, k: Col): unknown =>
  ({
    name: c.name,
    image: c.image,
    state: c.state ?? c.status,
    cpu: c.cpu_percent,
    memory: c.memory_used_bytes,
    net: c.network_rx_bytes,
    disk: c.disk_read_bytes,
  })[k];

/** The host's Docker containers from its newest report. */
export function ContainersTab({ hostId }: { hostId: string }) {
  const q = useQuery({
    queryKey: ['hosts', hostId, 'containers'],
    queryFn: () =>
      unwrap(api.GET('/api/v1/hosts/{id}/containers', { params: { path: { id: hostId } } })),
  });
  const { sorted, sort, toggle } = useSorted<Container, Col>(q.data?.items ?? [], value, {
    key: 'name',
    dir: 'asc',
  });
  if (q.isError) return <ErrorView error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <Loading label="Loading containers…" height={240} />;
  if (q.data.items.length === 0)
    return (
      <p className="card host-empty">
        No containers reported — Docker is not present on this host, or the agent cannot read it.
      </p>
    );
  const h = (label: string, column: Col, className?: string) => (
    <SortHeader label={label} column={column} sort={sort} onSort={toggle} className={className} />
  );
  return (
    <section aria-label="Containers">
      <p className="muted small">
        {q.data.items.length} containers · reported {ago(q.data.collected_at)}
      </p>
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Containers table">
        <table>
          <thead>
            <tr>
              {h('Name', 'name')}
              {h('Image', 'image')}
              {h('State', 'state')}
              {h('CPU', 'cpu', 'num')}
              {h('Memory', 'memory', 'num')}
              {h('Network in / out', 'net', 'num')}
              {h('Disk read / write', 'disk', 'num')}
            </tr>
          </thead>
          <tbody>
            {sorted.map((c, i) => (
              <tr key={c.id ?? i}>
                <td>
                  <strong>{c.name ?? '—'}</strong>
                  {c.id && <div className="muted small">{c.id.slice(0, 12)}</div>}
                </td>
                <td className="wrap-anywhere">{c.image ?? '—'}</td>
                <td>
                  {c.state && <StatusBadge status={c.state} />}
                  {c.status && <div className="muted small">{c.status}</div>}
                </td>
                <td className="num">{percent(c.cpu_percent)}</td>
                <td className="num">
                  {bytes(c.memory_used_bytes)}
                  {c.memory_percent !== null && (
                    <div className="muted small">{percent(c.memory_percent)}</div>
                  )}
                </td>
                <td className="num">
                  {bytes(c.network_rx_bytes)} / {bytes(c.network_tx_bytes)}
                </td>
                <td className="num">
                  {bytes(c.disk_read_bytes)} / {bytes(c.disk_write_bytes)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
