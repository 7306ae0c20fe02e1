import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { api, unwrap } from '../../api/client';
import { Link, setQueryParam, useLocation } from '../../app/router';
import { useCan } from '../../app/session';
import { ConfirmDialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { dateTime } from '../../ui/format';
import { Loading, Page, Tabs } from '../../ui/Page';
import { fetchFleet, HOSTS_KEY } from '../fleet/live';
import { alertKeys, type Silence } from './queries';
import { SilenceForm } from './SilenceForm';
import './alerts.css';

const TABS = [
  { id: 'active', label: 'Active' },
  { id: 'expired', label: 'Expired and upcoming' },
] as const;

/** Names of hosts and rules by id, where the caller may read them. */
type Names = { hosts: ReadonlyMap<string, string>; rules: ReadonlyMap<string, string> };

/** What a silence matches, for people: host and rule by name where known. */
function matcherText(s: Silence, names: Names): string {
  const m = s.matchers;
  const parts: string[] = [];
  if (m.host_id) parts.push(`host ${names.hosts.get(m.host_id) ?? m.host_id}`);
  if (m.rule_id) parts.push(`rule ${names.rules.get(m.rule_id) ?? m.rule_id}`);
  for (const [k, v] of Object.entries(m.labels ?? {})) parts.push(`${k}=${v}`);
  return parts.join(', ');
}

/** Silences of alerts by matcher: the active ones and the others, new ones, deletion. */
export function SilencesScreen() {
  const can = useCan();
  const qc = useQueryClient();
  const { query } = useLocation();
  const tab = query.get('show') === 'expired' ? 'expired' : 'active';
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Silence | null>(null);
  const list = useQuery({
    queryKey: alertKeys.silences,
    queryFn: () => unwrap(api.GET('/api/v1/alerts/silences')),
  });
  const hosts = useQuery({
    queryKey: HOSTS_KEY,
    queryFn: fetchFleet,
    enabled: can('host:read'),
    staleTime: 60_000,
  });
  const rules = useQuery({
    queryKey: alertKeys.rules,
    queryFn: () => unwrap(api.GET('/api/v1/alerts/rules')),
    staleTime: 60_000,
  });
  const names: Names = useMemo(
    () => ({
      hosts: new Map((hosts.data?.items ?? []).map((h) => [h.id, h.name])),
      rules: new Map((rules.data?.items ?? []).map((r) => [r.id, r.name])),
    }),
    [hosts.data, rules.data],
  );
  const remove = useMutation({
    mutationFn: (id: string) =>
      unwrap(api.DELETE('/api/v1/alerts/silences/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: alertKeys.silences, exact: true });
      setDeleting(null);
    },
  });
  const shown = useMemo(
    () => (list.data?.items ?? []).filter((s) => s.active === (tab === 'active')),
    [list.data, tab],
  );
  const write = can('alerts:write');
  return (
    <Page
      title="Silences"
      subtitle={<Link to="/alerts">← Alerts</Link>}
      actions={
        write && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New silence
          </button>
        )
      }
    >
      <SilenceForm open={creating} onClose={() => setCreating(false)} />
      <Tabs
        label="Silences shown"
        tabs={TABS}
        current={tab}
        onChange={(t) => setQueryParam('show', t === 'active' ? '' : t)}
      />
      <div role="tabpanel" aria-labelledby={`tab-${tab}`}>
        {list.isError ? (
          <ErrorView error={list.error} onRetry={() => void list.refetch()} />
        ) : !list.data ? (
          <Loading height={160} />
        ) : shown.length === 0 ? (
          <p className="card muted" role="status">
            {tab === 'active' ? 'No silence is active.' : 'No expired or upcoming silence.'}
          </p>
        ) : (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Silences table">
            <table aria-label={tab === 'active' ? 'Active silences' : 'Other silences'}>
              <thead>
                <tr>
                  <th scope="col">Matches</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Starts</th>
                  <th scope="col">Ends</th>
                  <th scope="col">By</th>
                  {write && (
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {shown.map((s) => (
                  <tr key={s.id}>
                    <td>{matcherText(s, names)}</td>
                    <td>{s.reason || <span className="muted">—</span>}</td>
                    <td>{dateTime(s.starts_at)}</td>
                    <td>{dateTime(s.ends_at)}</td>
                    <td>{s.created_by ?? '—'}</td>
                    {write && (
                      <td>
                        <button
                          type="button"
                          className="danger"
                          aria-label={`Delete silence of ${matcherText(s, names)}`}
                          onClick={() => setDeleting(s)}
                        >
                          Delete
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <ConfirmDialog
        open={deleting !== null}
        title="Delete this silence?"
        confirmLabel="Delete silence"
        danger
        busy={remove.isPending}
        onConfirm={() => deleting && remove.mutate(deleting.id)}
        onClose={() => {
          remove.reset();
          setDeleting(null);
        }}
      >
        <p>
          The alerts it silences ({deleting && matcherText(deleting, names)}) go back to what they
          were and notify again.
        </p>
        {remove.isError && <ErrorView error={remove.error} />}
      </ConfirmDialog>
    </Page>
  );
}
