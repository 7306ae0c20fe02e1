import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorView } from '../../ui/ErrorView';
import { ago, dateTime } from '../../ui/format';
import { Loading, StatusBadge } from '../../ui/Page';

// The OpenAPI document gives `GET /hosts/{id}/checks` and its history no response schema, so
// their answers are read here as the server's check view writes them, each field checked.

/** One plugin check of a host with its Nagios-style state. */
interface Check {
  name: string;
  state: string;
  state_type: string;
  attempt: number | null;
  max_check_attempts: number | null;
  last_check: string | null;
  last_state_change: string | null;
  output: string;
  perfdata: Perf[];
}

const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/** One perfdata figure: its label, value with unit, and thresholds (Nagios range strings). */
interface Perf {
  label: string;
  value: string;
  warn: string;
  crit: string;
  min: string;
  max: string;
}

/** Reads a stored perfdata item (`{label, value, uom, warn, crit, min, max}`). */
function perf(p: unknown): Perf {
  const o = (p ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  return {
    label: str(o.label, '?'),
    value: `${text(o.value)}${str(o.uom)}`,
    warn: text(o.warn),
    crit: text(o.crit),
    min: text(o.min),
    max: text(o.max),
  };
}

function readChecks(a: unknown): Check[] {
  const list = (a as { checks?: unknown })?.checks;
  if (!Array.isArray(list)) return [];
  return list.map((c: Record<string, unknown>) => ({
    name: str(c.name, '?'),
    state: str(c.state, 'UNKNOWN'),
    state_type: str(c.state_type),
    attempt: numOrNull(c.attempt),
    max_check_attempts: numOrNull(c.max_check_attempts),
    last_check: typeof c.last_check === 'string' ? c.last_check : null,
    last_state_change: typeof c.last_state_change === 'string' ? c.last_state_change : null,
    output: str(c.output),
    perfdata: Array.isArray(c.perfdata) ? c.perfdata.map(perf) : [],
  }));
}

const ORDER: Record<string, number> = { CRITICAL: 0, WARNING: 1, UNKNOWN: 2, OK: 3 };

/** The state changes of one check, newest first. */
function CheckHistory({ hostId, name }: { hostId: string; name: string }) {
  const q = useQuery({
    queryKey: ['hosts', hostId, 'checks', name, 'history'],
    queryFn: () =>
      unwrap<unknown>(
        api.GET('/api/v1/hosts/{id}/checks/{name}/history', {
          params: { path: { id: hostId, name }, query: { limit: 50 } },
        }),
      ),
  });
  if (q.isError) return <ErrorView error={q.error} />;
  if (!q.data) return <Loading label="Loading history…" height={80} />;
  const rows = (q.data as { history?: Record<string, unknown>[] }).history ?? [];
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
            <td>{dateTime(str(r.timestamp) || null)}</td>
            <td>
              <StatusBadge status={str(r.state, 'UNKNOWN')} />
            </td>
            <td>
              {str(r.state_type)} {typeof r.attempt === 'number' ? `(attempt ${r.attempt})` : ''}
            </td>
            <td className="wrap-anywhere">{str(r.output)}</td>
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
      unwrap<unknown>(api.GET('/api/v1/hosts/{id}/checks', { params: { path: { id: hostId } } })),
  });
  const [open, setOpen] = useState<string | null>(null);
  if (q.isError) return <ErrorView error={q.error} onRetry={() => void q.refetch()} />;
  if (!q.data) return <Loading label="Loading checks…" height={240} />;
  const checks = readChecks(q.data).sort(
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
              {c.attempt !== null && c.max_check_attempts !== null
                ? ` · attempt ${c.attempt}/${c.max_check_attempts}`
                : ''}{' '}
              · checked {ago(c.last_check)} · changed {ago(c.last_state_change)}
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
                {c.perfdata.map((p) => (
                  <tr key={p.label}>
                    <td>{p.label}</td>
                    <td className="num">{p.value || '—'}</td>
                    <td>{p.warn || '—'}</td>
                    <td>{p.crit || '—'}</td>
                    <td>{p.min || '—'}</td>
                    <td>{p.max || '—'}</td>
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
