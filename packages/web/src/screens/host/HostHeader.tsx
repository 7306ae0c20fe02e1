import { useEffect, useState } from 'react';
import { ago, dateTime, duration } from '../../ui/format';
import { StatusBadge } from '../../ui/Page';
import type { HostOverview } from '../fleet/live';

/** What a host is at a glance: its state, system, uptime and agents. */
export function HostHeader({ host }: { host: HostOverview }) {
  // "Last report … ago" keeps counting when reports stop (a host going silent).
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 5_000);
    return () => clearInterval(t);
  }, []);
  const os = [host.os.name ?? host.os.family, host.os.version].filter(Boolean).join(' ');
  return (
    <dl className="host-facts">
      <div>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={host.status} />
        </dd>
      </div>
      <div>
        <dt>System</dt>
        <dd>
          {os || '—'}
          {host.os.architecture ? ` · ${host.os.architecture}` : ''}
        </dd>
      </div>
      <div>
        <dt>Kernel</dt>
        <dd>{host.os.kernel ?? '—'}</dd>
      </div>
      <div>
        <dt>Uptime</dt>
        <dd>{duration(host.uptime_seconds)}</dd>
      </div>
      <div>
        <dt>Last report</dt>
        <dd>{ago(host.last_seen, now)}</dd>
      </div>
      {host.maintenance.enabled && (
        <div>
          <dt>Maintenance</dt>
          <dd>
            <StatusBadge status="maintenance" />
            {host.maintenance.until ? ` until ${dateTime(host.maintenance.until)}` : ''}
          </dd>
        </div>
      )}
      <div>
        <dt>{host.agents.length === 1 ? 'Agent' : 'Agents'}</dt>
        <dd>
          {host.agents.length === 0
            ? 'none'
            : host.agents.map((a) => (
                <span key={a.id} className="host-agent">
                  {a.name}{' '}
                  <span className="muted small">
                    ({a.kind}
                    {a.version ? ` ${a.version}` : ''}, {a.status})
                  </span>
                </span>
              ))}
        </dd>
      </div>
    </dl>
  );
}
