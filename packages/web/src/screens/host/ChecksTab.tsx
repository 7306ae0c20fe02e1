import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import type { Answer } from '../../api/types';
import { ErrorView } from '../../ui/ErrorView';
import { ago, dateTime } from '../../ui/format';
import { Loading, StatusBadge } from '../../ui/Page';

/** One plugin check of a host with its Nagios-style state. */
type Check = Answer<'/api/v1/hosts/{id}/checks'>['checks'][number];
/** One perfdata item as the server stores it. */
type PerfItem = Check['perfdata'][number];

const text = (v: string | number | null | undefined): string =>
  v === null || v === undefined || v === '' ? '—' : String(v);

/** A perfdata value with its unit: `12.5ms`. */
const valueOf = (p: PerfItem): string =>
  p.value === null || p.value === undefined ? '—' : `${p.value}${p.uom ?? ''}`;

const ORDER: Record<string, number> = { CRITICAL: 0, WARNING: 1, UNKNOWN: 2, OK: 3 };

/** The state changes of one check, newest first. */
function CheckHistory({ hostId, name }: { hostId: string; name: string }) {
  const q = useQuery({
    queryKey: ['hosts', hostId, 'checks', name, 'history'],
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/hosts/{id}/checks/{name}/history', {
          params: { path: { id: hostId, name }, query: { limit: 50 } },
        }),
      ),
  });
  if (q.isError) return <ErrorView error={q.error} />;
  if (!q.data) return <Loading label="Loading history…" height={80} />;
  const rows = q.data.history;
  if (rows.length === 0) return <p className="muted small">No state changes recorded.</p>;
  return (
    <table className="check-history">
      <caption className="visually-hidden">State changes of {name}</caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">State</th>
          <th scope="col">Type</th>
          <th scope="col">Output</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i}>
            <td>{dateTime(r.timestamp)}</td>
            <td>
              <StatusBadge status={r.state} />
            </td>
            <td>
              {r.state_type} (attempt {r.attempt})
            </td>
            <td className="wrap-anywhere">{r.output ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The host's custom checks: state, output and perfdata; each opens its history. */
export function ChecksTab({ hostId }: { hostId: string }) {
  const q = useQuery({
    queryKey: ['hosts', hostId, 'checks'],
    queryFn: () =>
      unwrap(api.GET('/api/v1/hosts/{id}/checks', { params: { path: { id: hostId } } })),
  });
  const [open, setOpen] = useState<string | null>(null);
  if (q.isError) return <ErrorView error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <Loading label="Loading checks…" height={240} />;
  const checks = [...q.data.checks].sort(
    (a, b) => (ORDER[a.state] ?? 9) - (ORDER[b.state] ?? 9) || a.name.localeCompare(b.name),
  );
  if (checks.length === 0)
    return (
      <p className="card host-empty">
        No custom checks on this host — they are configured in the agent's customchecks.ini.
      </p>
    );
  return (
    <ul className="host-checks" aria-label="Checks">
      {checks.map((c) => (
        <li key={c.name} className="card host-check">
          <div className="check-head">
            <StatusBadge status={c.state} />
            <h2 className="check-name">{c.name}</h2>
            <span className="muted small">
              {c.state_type}
              {` · attempt ${c.attempt}/${c.max_check_attempts}`} · checked {ago(c.last_check)} ·
              changed {ago(c.last_state_change)}
            </span>
          </div>
          <pre className="check-output">{c.output || '(no output)'}</pre>
          {c.perfdata.length > 0 && (
            <table className="host-perfdata">
              <caption className="visually-hidden">Performance data of {c.name}</caption>
              <thead>
                <tr>
                  <th scope="col">Figure</th>
                  <th scope="col" className="num">
                    Value
                  </th>
                  <th scope="col">Warning</th>
                  <th scope="col">Critical</th>
                  <th scope="col">Min</th>
                  <th scope="col">Max</th>
                </tr>
              </thead>
              <tbody>
                {c.perfdata.map((p, i) => (
                  <tr key={`${p.label ?? ''}-${i}`}>
                    <td>{text(p.label)}</td>
                    <td className="num">{valueOf(p)}</td>
                    <td>{text(p.warn)}</td>
                    <td>{text(p.crit)}</td>
                    <td>{text(p.min)}</td>
                    <td>{text(p.max)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <button
            type="button"
            className="link"
            aria-expanded={open === c.name}
            onClick={() => setOpen(open === c.name ? null : c.name)}
          >
            {open === c.name ? 'Hide history' : 'Show history'}
            <span className="visually-hidden"> of {c.name}</span>
          </button>
          {open === c.name && <CheckHistory hostId={hostId} name={c.name} />}
        </li>
      ))}
    </ul>
  );
}
