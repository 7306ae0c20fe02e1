import { useEffect, useMemo, useState } from 'react';
import { Link } from '../../app/router';
import { StatusBadge } from '../../ui/Page';
import { ago, dateTime } from '../../ui/format';
import { SortHeader, useSorted } from '../../ui/sort';
import type { Agent } from './queries';

type Column = 'status' | 'name' | 'kind' | 'host' | 'version' | 'last_seen' | 'expiry';

const KIND_TEXT: Record<Agent['kind'], string> = {
  native: 'Vigil',
  oitc: 'openITCOCKPIT',
  pull: 'Pull',
};

const DAY = 86_400_000;

/** Days left until an RFC 3339 time (negative once past). */
export function daysLeft(iso: string, now = Date.now()): number {
  return Math.floor((Date.parse(iso) - now) / DAY);
}

function read(a: Agent, k: Column): unknown {
  switch (k) {
    case 'status':
      return a.status;
    case 'name':
      return a.name;
    case 'kind':
      return KIND_TEXT[a.kind];
    case 'host':
      return a.host_id;
    case 'version':
      return a.version;
    case 'last_seen':
      return a.last_seen ? -Date.parse(a.last_seen) : null;
    case 'expiry':
      return a.certificate ? Date.parse(a.certificate.not_after) : null;
  }
}

/** The certificate's expiry: its date and the days left, drawn as a warning under 14 days. */
function Expiry({ agent }: { agent: Agent }) {
  if (!agent.certificate) return <span className="muted">—</span>;
  const days = daysLeft(agent.certificate.not_after);
  const text = days < 0 ? 'expired' : days === 0 ? 'today' : `${days} d left`;
  return (
    <span className={days < 14 ? 'expiry warn' : 'expiry'}>
      {new Date(agent.certificate.not_after).toLocaleDateString()}{' '}
      <span className="small">({text})</span>
    </span>
  );
}

/** The time now, renewed every `everyMs`, so that "12 s ago" keeps counting. */
function useNow(everyMs: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/**
 * The enrolled agents: filter by text, status and kind; sort by any column. `onManage` opens an
 * agent's details (and, with the permission, its changes).
 */
export function AgentTable(props: { agents: Agent[]; onManage: (a: Agent) => void }) {
  const now = useNow(10_000);
  const [text, setText] = useState('');
  const [status, setStatus] = useState('');
  const [kind, setKind] = useState('');
  const rows = useMemo(() => {
    const q = text.trim().toLowerCase();
    return props.agents.filter(
      (a) =>
        (!status || a.status === status) &&
        (!kind || a.kind === kind) &&
        (!q ||
          [a.name, a.id, a.hostname, a.host_id, a.ip_address, a.pull?.address].some((v) =>
            v?.toLowerCase().includes(q),
          )),
    );
  }, [props.agents, text, status, kind]);
  const { sorted, sort, toggle } = useSorted<Agent, Column>(rows, read, {
    key: 'name',
    dir: 'asc',
  });
  const head = (label: string, column: Column, className?: string) => (
    <SortHeader label={label} column={column} sort={sort} onSort={toggle} className={className} />
  );

  return (
    <div className="stack">
      <div className="row filters">
        <label>
          Search agents
          <input
            type="search"
            value={text}
            placeholder="Name, id, host, address"
            onChange={(e) => setText(e.target.value)}
          />
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">Any status</option>
            <option value="online">Online</option>
            <option value="offline">Offline</option>
            <option value="revoked">Revoked</option>
            <option value="rejected">Rejected</option>
          </select>
        </label>
        <label>
          Kind
          <select value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="">Any kind</option>
            <option value="native">Vigil</option>
            <option value="oitc">openITCOCKPIT</option>
            <option value="pull">Pull</option>
          </select>
        </label>
        <p className="muted small count" aria-live="polite">
          {rows.length === props.agents.length
            ? `${rows.length} ${rows.length === 1 ? 'agent' : 'agents'}`
            : `${rows.length} of ${props.agents.length} agents`}
        </p>
      </div>
      <div className="table-wrap">
        <table aria-label="Enrolled agents" className="wide">
          <thead>
            <tr>
              {head('Status', 'status')}
              {head('Name', 'name')}
              {head('Kind', 'kind')}
              {head('Host', 'host')}
              {head('Version', 'version')}
              {head('Last contact', 'last_seen')}
              {head('Certificate expires', 'expiry')}
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sorted.length === 0 && (
              <tr>
                <td colSpan={8} className="muted empty">
                  {props.agents.length === 0
                    ? 'No agent is enrolled yet. Add one with “Add agent”.'
                    : 'No agent matches the filter.'}
                </td>
              </tr>
            )}
            {sorted.map((a) => (
              <tr key={a.id}>
                <td>
                  <StatusBadge status={a.status} />
                  {a.kind === 'native' && !a.certificate && !a.last_seen && (
                    <div className="muted small nowrap">not enrolled yet</div>
                  )}
                </td>
                <td>
                  <div className="agent-name">{a.name}</div>
                  <div className="muted small">
                    <code>{a.id}</code>
                  </div>
                  {a.last_error && <div className="agent-error small">{a.last_error}</div>}
                </td>
                <td>
                  {KIND_TEXT[a.kind]}
                  {a.pull && (
                    <div className="muted small nowrap">
                      <code>{a.pull.address}</code>
                    </div>
                  )}
                </td>
                <td>
                  {a.host_id ? (
                    <Link to={`/hosts/${encodeURIComponent(a.host_id)}`}>
                      {a.hostname ?? a.name}
                    </Link>
                  ) : (
                    <span className="muted">{a.hostname ?? '—'}</span>
                  )}
                </td>
                <td>{a.version ?? '—'}</td>
                <td title={dateTime(a.last_seen)}>{ago(a.last_seen, now)}</td>
                <td>
                  <Expiry agent={a} />
                </td>
                <td className="row-actions">
                  <button type="button" onClick={() => props.onManage(a)}>
                    Details<span className="visually-hidden"> of {a.name}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
