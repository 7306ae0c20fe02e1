import { memo } from 'react';
import { Link } from '../../app/router';
import { duration, percent, rate } from '../../ui/format';
import { StatusBadge } from '../../ui/Page';
import { Sparkline } from '../../ui/Sparkline';
import { HostAlertBadge } from '../alerts/HostAlerts';
import { osLabel } from './filter';
import type { HostOverview } from './live';

const tone = (v: number | null): 'ok' | 'warn' | 'crit' | 'plain' =>
  v === null ? 'plain' : v >= 90 ? 'crit' : v >= 75 ? 'warn' : 'plain';

/** One figure of a host: its value now and its last 30 minutes. */
function Metric(props: {
  name: string;
  value: number | null;
  text: string;
  line: readonly (number | null)[];
  max?: number;
}) {
  return (
    <div role="cell" className="fleet-metric" data-col={props.name}>
      <Sparkline
        values={props.line}
        max={props.max}
        tone={props.max === 100 ? tone(props.value) : 'plain'}
        width={64}
        height={22}
        label={`${props.name}, last 30 minutes`}
      />
      <span className="fleet-value">
        <span className="fleet-metric-name" aria-hidden="true">
          {props.name}{' '}
        </span>
        {props.text}
      </span>
    </div>
  );
}

/** The check counts of a host, problems first; `no checks` when it has none. */
function Checks({ c }: { c: HostOverview['checks'] }) {
  const parts = [
    ['critical', c.critical, 'CRIT'],
    ['warning', c.warning, 'WARN'],
    ['unknown', c.unknown, 'UNKN'],
    ['ok', c.ok, 'OK'],
  ] as const;
  const shown = parts.filter(([, n]) => n > 0);
  return (
    <div role="cell" className="fleet-checks">
      {shown.length === 0 ? (
        <span className="muted small">no checks</span>
      ) : (
        shown.map(([state, n, short]) => (
          <span key={state} className={`badge status-${state}`} title={`${n} ${state}`}>
            <span aria-hidden="true">
              {n} {short}
            </span>
            <span className="visually-hidden">
              {n} {state}
            </span>
          </span>
        ))
      )}
    </div>
  );
}

/**
 * One host of the fleet list (a row of fixed height; positioned by the virtual list). Drawn
 * again only when its host object changes, which a stream event does for its own host only.
 */
export const FleetRow = memo(function FleetRow(props: {
  host: HostOverview;
  index: number;
  top: number;
  height: number;
  /** The host's open alerts: how many, and the worst severity among them. */
  alerts?: number;
  alertSeverity?: string | null;
}) {
  const h = props.host;
  const net =
    h.latest.net_rx_bytes_per_second === null && h.latest.net_tx_bytes_per_second === null
      ? null
      : (h.latest.net_rx_bytes_per_second ?? 0) + (h.latest.net_tx_bytes_per_second ?? 0);
  const os = osLabel(h);
  return (
    <div
      role="row"
      aria-rowindex={props.index + 2}
      className={`fleet-row is-${h.status}`}
      style={{ transform: `translateY(${props.top}px)`, height: props.height }}
    >
      <div role="cell" className="fleet-status">
        <StatusBadge status={h.status} />
      </div>
      <div role="cell" className="fleet-name">
        <span>
          <Link to={`/hosts/${encodeURIComponent(h.id)}`}>{h.name}</Link>
          <HostAlertBadge
            hostId={h.id}
            count={props.alerts ?? 0}
            severity={props.alertSeverity ?? null}
          />
        </span>
        <span className="muted small fleet-os">
          {os || 'OS not reported'}
          {h.os.architecture ? ` · ${h.os.architecture}` : ''}
        </span>
      </div>
      <div role="cell" className="fleet-uptime">
        <span className="fleet-metric-name" aria-hidden="true">
          up{' '}
        </span>
        {duration(h.uptime_seconds)}
      </div>
      <Metric
        name="CPU"
        value={h.latest.cpu_percent}
        text={percent(h.latest.cpu_percent)}
        line={h.sparklines.cpu}
        max={100}
      />
      <Metric
        name="Memory"
        value={h.latest.memory_percent}
        text={percent(h.latest.memory_percent)}
        line={h.sparklines.memory}
        max={100}
      />
      <Metric
        name="Disk"
        value={h.latest.disk_percent}
        text={percent(h.latest.disk_percent)}
        line={h.sparklines.disk}
        max={100}
      />
      <Metric name="Network" value={net} text={rate(net)} line={h.sparklines.network} />
      <Checks c={h.checks} />
    </div>
  );
});
