import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { api, unwrap } from '../../api/client';
import type { Answer } from '../../api/types';
import { ErrorView } from '../../ui/ErrorView';
import { ago } from '../../ui/format';
import { Loading, StatusBadge } from '../../ui/Page';
import { SortHeader, useSorted } from '../../ui/sort';

type Service = Answer<'/api/v1/hosts/{id}/services'>['items'][number];
type Col = 'name' | 'active' | 'sub' | 'file' | 'description';
/** Failed units sort first by state, then the rest alphabetically. */
const RANK: Record<string, string> = { failed: '0', activating: '1', deactivating: '2' };
const value = (s: Service, k: Col): unknown =>
  ({
    name: s.name,
    active: `${RANK[s.active_state ?? ''] ?? '9'}${s.active_state ?? ''}`,
    sub: s.sub_state,
    file: s.unit_file_state,
    description: s.description,
  })[k];

/** The host's systemd services from its newest report: failed first, filterable. */
export function ServicesTab({ hostId }: { hostId: string }) {
  const q = useQuery({
    queryKey: ['hosts', hostId, 'services'],
    queryFn: () =>
      unwrap(api.GET('/api/v1/hosts/{id}/services', { params: { path: { id: hostId } } })),
  });
  const [filter, setFilter] = useState('');
  const items = q.data?.items;
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return (items ?? []).filter(
      (s) =>
        !f || [s.name, s.description, s.active_state].some((x) => x?.toLowerCase().includes(f)),
    );
  }, [items, filter]);
  const { sorted, sort, toggle } = useSorted<Service, Col>(shown, value, {
    key: 'active',
    dir: 'asc',
  });
  if (q.isError) return <ErrorView error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <Loading label="Loading services…" height={320} />;
  if (q.data.items.length === 0)
    return (
      <p className="card host-empty">
        No services reported — systemd is not present on this host, or the agent does not collect
        it.
      </p>
    );
  const failed = q.data.items.filter((s) => s.active_state === 'failed').length;
  const h = (label: string, column: Col) => (
    <SortHeader label={label} column={column} sort={sort} onSort={toggle} />
  );
  return (
    <section aria-label="Services">
      <div className="host-tab-bar">
        <label>
          Filter
          <input
            type="search"
            placeholder="Name, description or state"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
          />
        </label>
        <p className="muted small" role="status">
          {shown.length} of {q.data.items.length} services
          {failed > 0 && (
            <>
              {' '}
              · <span className="crit-text">{failed} failed</span>
            </>
          )}{' '}
          · reported {ago(q.data.collected_at)}
        </p>
      </div>
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Services table">
        <table>
          <thead>
            <tr>
              {h('Unit', 'name')}
              {h('Active', 'active')}
              {h('Sub-state', 'sub')}
              {h('Enabled', 'file')}
              {h('Description', 'description')}
            </tr>
          </thead>
          <tbody>
            {sorted.map((s, i) => (
              <tr key={s.name ?? i}>
                <td className="wrap-anywhere">{s.name ?? '—'}</td>
                <td>{s.active_state ? <StatusBadge status={s.active_state} /> : '—'}</td>
                <td>{s.sub_state ?? '—'}</td>
                <td>{s.unit_file_state ?? '—'}</td>
                <td>{s.description ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
