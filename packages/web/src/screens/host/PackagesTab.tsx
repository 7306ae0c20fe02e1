import { useQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, useState } from 'react';
import { api, unwrap } from '../../api/client';
import type { Answer } from '../../api/types';
import { ErrorView } from '../../ui/ErrorView';
import { ago, dateTime } from '../../ui/format';
import { Loading } from '../../ui/Page';

const ROW = 34;

type Packages = Answer<'/api/v1/hosts/{id}/packages'>;
type Summary = Packages['summary'];

/** The package summary of a host's newest report (`system-info`), or undefined without one. */
function factsSummary(facts: unknown): Summary | undefined {
  const p = (facts as { packages?: Record<string, unknown> } | undefined)?.packages;
  if (!p || typeof p.installed !== 'number') return undefined;
  const n = (v: unknown) => (typeof v === 'number' ? v : null);
  const last = n(p.last_update);
  return {
    installed: n(p.installed),
    upgradable: n(p.upgradable),
    security_updates: n(p.security_updates),
    reboot_required: typeof p.reboot_required === 'boolean' ? p.reboot_required : null,
    // Package managers report their last run in epoch seconds.
    last_update: last === null ? null : new Date(last * 1000).toISOString(),
  };
}

/** The host's package inventory: summary, pending updates (security first), installed list. */
export function PackagesTab({ hostId }: { hostId: string }) {
  const q = useQuery({
    queryKey: ['hosts', hostId, 'packages'],
    queryFn: () =>
      unwrap(api.GET('/api/v1/hosts/{id}/packages', { params: { path: { id: hostId } } })),
  });
  // A pushing agent reports the summary in its documents; the package lists come with a full
  // inventory only. Without one, the summary of the newest report is shown.
  const facts = useQuery({
    queryKey: ['hosts', hostId, 'system-info'],
    queryFn: () =>
      unwrap<unknown>(
        api.GET('/api/v1/hosts/{id}/system-info', { params: { path: { id: hostId } } }),
      ),
    enabled: q.data?.summary.installed === null,
  });
  const updates = useMemo(
    () =>
      [...(q.data?.updates ?? [])].sort(
        (a, b) =>
          Number(b.security) - Number(a.security) || (a.name ?? '').localeCompare(b.name ?? ''),
      ),
    [q.data],
  );
  if (q.isError) return <ErrorView error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <Loading label="Loading packages…" height={320} />;
  const s =
    q.data.summary.installed === null
      ? (factsSummary(facts.data) ?? q.data.summary)
      : q.data.summary;
  if (q.data.installed.length === 0 && q.data.updates.length === 0 && s.installed === null)
    return (
      <p className="card host-empty">
        No package inventory reported — the agent's package manager collection is off, or this
        system's package manager is not supported.
      </p>
    );
  const listed = q.data.installed.length > 0 || q.data.updates.length > 0;
  return (
    <section aria-label="Packages" className="stack">
      <dl className="summary-tiles">
        <div className="card">
          <dt>Installed</dt>
          <dd>{s.installed ?? '—'}</dd>
        </div>
        <div className="card">
          <dt>Updates</dt>
          <dd>{s.upgradable ?? '—'}</dd>
        </div>
        <div className={s.security_updates ? 'card tile-crit' : 'card'}>
          <dt>Security updates</dt>
          <dd>{s.security_updates ?? '—'}</dd>
        </div>
        <div className={s.reboot_required ? 'card tile-warn' : 'card'}>
          <dt>Reboot required</dt>
          <dd>{s.reboot_required === null ? '—' : s.reboot_required ? 'Yes' : 'No'}</dd>
        </div>
        <div className="card">
          <dt>Last package update</dt>
          <dd className="small">{dateTime(s.last_update)}</dd>
        </div>
      </dl>
      {!listed && (
        <p className="muted">
          This agent reports the summary only; the package lists come with a full inventory
          (openITCOCKPIT's package collection).
        </p>
      )}
      {listed && <h2>Pending updates</h2>}
      {!listed ? null : updates.length === 0 ? (
        <p className="muted">No pending updates.</p>
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Pending updates table">
          <table>
            <thead>
              <tr>
                <th scope="col">Package</th>
                <th scope="col">Installed</th>
                <th scope="col">Available</th>
                <th scope="col">Kind</th>
              </tr>
            </thead>
            <tbody>
              {updates.map((u, i) => (
                <tr key={`${u.name}-${i}`}>
                  <td>{u.name ?? '—'}</td>
                  <td className="wrap-anywhere">{u.current_version ?? '—'}</td>
                  <td className="wrap-anywhere">{u.new_version ?? '—'}</td>
                  <td>
                    {u.security ? (
                      <span className="badge status-critical">security</span>
                    ) : (
                      'regular'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {listed && <InstalledPackages items={q.data.installed} receivedAt={q.data.received_at} />}
    </section>
  );
}

/** The installed packages: filterable, drawn only where they are on screen (thousands). */
function InstalledPackages(props: { items: Packages['installed']; receivedAt: string | null }) {
  const [filter, setFilter] = useState('');
  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return props.items.filter(
      (p) => !f || p.name?.toLowerCase().includes(f) || p.description?.toLowerCase().includes(f),
    );
  }, [props.items, filter]);
  const scroller = useRef<HTMLDivElement>(null);
  const v = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW,
    overscan: 12,
  });
  const rows = v.getVirtualItems();
  const padTop = rows[0]?.start ?? 0;
  const padBottom = v.getTotalSize() - (rows[rows.length - 1]?.end ?? 0);
  return (
    <>
      <div className="host-tab-bar">
        <h2>Installed packages</h2>
        <label>
          Filter
          <input
            type="search"
            placeholder="Name or description"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
          />
        </label>
      </div>
      <p className="muted small" role="status">
        {shown.length} of {props.items.length} packages
        {props.receivedAt ? ` · reported ${ago(props.receivedAt)}` : ''}
      </p>
      <div
        className="table-wrap packages"
        ref={scroller}
        tabIndex={0}
        role="region"
        aria-label="Installed packages table"
      >
        <table>
          <thead>
            <tr>
              <th scope="col">Package</th>
              <th scope="col">Version</th>
              <th scope="col">Description</th>
            </tr>
          </thead>
          <tbody>
            {padTop > 0 && (
              <tr aria-hidden="true" style={{ height: padTop }}>
                <td colSpan={3} />
              </tr>
            )}
            {rows.map((r) => {
              const p = shown[r.index]!;
              return (
                <tr key={`${p.name}-${r.index}`} style={{ height: ROW }}>
                  <td>{p.name ?? '—'}</td>
                  <td className="cell-clip">{p.version ?? '—'}</td>
                  <td className="cell-clip">{p.description ?? ''}</td>
                </tr>
              );
            })}
            {padBottom > 0 && (
              <tr aria-hidden="true" style={{ height: padBottom }}>
                <td colSpan={3} />
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </>
  );
}
