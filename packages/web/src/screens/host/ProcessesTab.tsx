import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, useState } from 'react';
import { api, unwrap } from '../../api/client';
import type { Answer } from '../../api/types';
import { useCan } from '../../app/session';
import { useStreamEvent } from '../../app/stream';
import { ErrorView } from '../../ui/ErrorView';
import { ago, bytes, percent } from '../../ui/format';
import { Loading } from '../../ui/Page';
import { SortHeader, useSorted } from '../../ui/sort';
import type { MetricsEvent } from '../fleet/live';
import { SignalDialog } from './SignalDialog';

type Process = Answer<'/api/v1/hosts/{id}/processes'>['items'][number];
type Col = 'pid' | 'name' | 'user' | 'status' | 'cpu' | 'memory' | 'rss' | 'threads' | 'started';
const value = (p: Process, c: Col): unknown =>
  ({
    pid: p.pid,
    name: p.name,
    user: p.user,
    status: p.status,
    cpu: p.cpu_percent,
    memory: p.memory_percent,
    rss: p.rss_bytes,
    threads: p.threads,
    started: p.started_at,
  })[c];

const ROW = 37;
/** Refreshed from the stream at most this often (ms): a process list is read, not watched. */
const REFRESH_MS = 5_000;

/** The host's processes from its newest report: sortable, filterable, with the signal action. */
export function ProcessesTab({ hostId }: { hostId: string }) {
  const can = useCan();
  const qc = useQueryClient();
  const key = ['hosts', hostId, 'processes'];
  const q = useQuery({
    queryKey: key,
    queryFn: () =>
      unwrap(api.GET('/api/v1/hosts/{id}/processes', { params: { path: { id: hostId } } })),
    staleTime: Infinity,
  });
  const last = useRef(Date.now());
  useStreamEvent('metrics', (d) => {
    if ((d as MetricsEvent)?.host_id !== hostId || Date.now() - last.current < REFRESH_MS) return;
    last.current = Date.now();
    void qc.invalidateQueries({ queryKey: key, exact: true });
  });
  const [filter, setFilter] = useState('');
  const [target, setTarget] = useState<{
    pid: number;
    name: string | null;
    agentId: string;
  } | null>(null);
  const items = q.data?.items;
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    if (!f) return items ?? [];
    return (items ?? []).filter((p) =>
      [p.name, p.user, p.cmdline, String(p.pid)].some((s) => s?.toLowerCase().includes(f)),
    );
  }, [items, filter]);
  const { sorted, sort, toggle } = useSorted<Process, Col>(shown, value, {
    key: 'cpu',
    dir: 'desc',
  });
  const scroller = useRef<HTMLDivElement>(null);
  const v = useVirtualizer({
    count: sorted.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW,
    overscan: 10,
  });
  const signal = can('processes:signal') && q.data?.agent_id;

  if (q.isError) return <ErrorView error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <Loading label="Loading processes…" height={400} />;
  if (q.data.items.length === 0)
    return <p className="card host-empty">No processes reported yet.</p>;
  const rows = v.getVirtualItems();
  const padTop = rows[0]?.start ?? 0;
  const padBottom = v.getTotalSize() - (rows[rows.length - 1]?.end ?? 0);
  const cols = signal ? 10 : 9;
  const h = (label: string, column: Col, className?: string) => (
    <SortHeader label={label} column={column} sort={sort} onSort={toggle} className={className} />
  );
  return (
    <section aria-label="Processes">
      <div className="host-tab-bar">
        <label>
          Filter
          <input
            type="search"
            placeholder="Name, user, command or pid"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
          />
        </label>
        <p className="muted small" role="status">
          {shown.length} of {q.data.items.length} processes · reported {ago(q.data.collected_at)}
        </p>
      </div>
      <div
        className="table-wrap processes"
        ref={scroller}
        tabIndex={0}
        role="region"
        aria-label="Processes table"
      >
        <table>
          <thead>
            <tr>
              {h('PID', 'pid', 'num')}
              {h('Name', 'name')}
              {h('User', 'user')}
              {h('State', 'status')}
              {h('CPU', 'cpu', 'num')}
              {h('Memory', 'memory', 'num')}
              {h('RSS', 'rss', 'num')}
              {h('Threads', 'threads', 'num')}
              {h('Started', 'started')}
              {signal && (
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {padTop > 0 && (
              <tr aria-hidden="true" style={{ height: padTop }}>
                <td colSpan={cols} />
              </tr>
            )}
            {rows.map((r) => {
              const p = sorted[r.index]!;
              return (
                <tr key={`${p.pid}-${r.index}`} style={{ height: ROW }}>
                  <td className="num">{p.pid ?? '—'}</td>
                  <td className="cell-clip" title={p.cmdline ?? undefined}>
                    {p.name ?? '—'}
                  </td>
                  <td>{p.user ?? '—'}</td>
                  <td>{p.status ?? '—'}</td>
                  <td className="num">{percent(p.cpu_percent)}</td>
                  <td className="num">{percent(p.memory_percent)}</td>
                  <td className="num">{bytes(p.rss_bytes)}</td>
                  <td className="num">{p.threads ?? '—'}</td>
                  <td>{ago(p.started_at)}</td>
                  {signal && (
                    <td>
                      {p.pid !== null && (
                        <button
                          type="button"
                          className="small-button"
                          aria-label={`Send a signal to ${p.name ?? 'process'} (pid ${p.pid})`}
                          onClick={() =>
                            setTarget({ pid: p.pid!, name: p.name, agentId: q.data.agent_id! })
                          }
                        >
                          Signal…
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
            {padBottom > 0 && (
              <tr aria-hidden="true" style={{ height: padBottom }}>
                <td colSpan={cols} />
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <SignalDialog target={target} onClose={() => setTarget(null)} />
    </section>
  );
}
