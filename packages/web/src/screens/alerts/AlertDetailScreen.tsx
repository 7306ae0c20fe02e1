import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { Link } from '../../app/router';
import { useCan } from '../../app/session';
import { ErrorView } from '../../ui/ErrorView';
import { dateTime, duration } from '../../ui/format';
import { Loading, Page } from '../../ui/Page';
import { AlertActions } from './AlertActions';
import { AlertChart } from './AlertChart';
import { AlertHistory, DeliveryLog } from './AlertHistory';
import { SeverityBadge, StateBadge } from './badges';
import { alertKeys, useAlertsLive, type AlertDetail } from './queries';
import './alerts.css';

/** A value with its threshold, as the rule measured them. */
function figure(v: number | null): string {
  if (v === null) return '—';
  return Math.abs(v) >= 100 ? v.toFixed(0) : String(Math.round(v * 100) / 100);
}

/** The fields of an alert, as a description list. */
function AlertFields({ a }: { a: AlertDetail }) {
  const can = useCan();
  const end = a.resolved_at ? Date.parse(a.resolved_at) : Date.now();
  const labels = Object.entries(a.labels);
  return (
    <dl className="alert-fields">
      <dt>Severity</dt>
      <dd>
        <SeverityBadge severity={a.severity} />
      </dd>
      <dt>State</dt>
      <dd>
        <StateBadge state={a.state} />
        {a.state === 'silenced' && a.silenced_until && <> until {dateTime(a.silenced_until)}</>}
        {a.suppressed && (
          <span className="muted small">
            {' '}
            · suppressed (maintenance or a silence): notifies no one
          </span>
        )}
      </dd>
      <dt>Host</dt>
      <dd>
        {can('host:read') ? (
          <Link to={`/hosts/${encodeURIComponent(a.host_id)}`}>{a.host_name ?? a.host_id}</Link>
        ) : (
          (a.host_name ?? a.host_id)
        )}
      </dd>
      <dt>Rule</dt>
      <dd>
        {a.rule_name ?? a.rule_id} <span className="muted small">({a.type})</span>
      </dd>
      <dt>Value</dt>
      <dd>
        {figure(a.value)}
        {a.threshold !== null && <span className="muted"> (threshold {figure(a.threshold)})</span>}
      </dd>
      <dt>Labels</dt>
      <dd>
        {labels.length === 0
          ? '—'
          : labels.map(([k, v]) => (
              <code key={k} className="alert-label">
                {k}={v}{' '}
              </code>
            ))}
      </dd>
      <dt>Started</dt>
      <dd>{dateTime(a.started_at)}</dd>
      <dt>{a.resolved_at ? 'Ended' : 'Open for'}</dt>
      <dd>
        {a.resolved_at
          ? `${dateTime(a.resolved_at)} (after ${duration((end - Date.parse(a.started_at)) / 1000)})`
          : duration((end - Date.parse(a.started_at)) / 1000)}
      </dd>
      {a.agent_id && (
        <>
          <dt>Agent</dt>
          <dd>
            <code>{a.agent_id}</code>
          </dd>
        </>
      )}
      <dt>Dedup key</dt>
      <dd>
        <code>{a.dedup_key}</code>
      </dd>
    </dl>
  );
}

/**
 * One alert: its fields, the actions the caller may take in its state, the chart of the series
 * around it, its history (who, when, why) and its delivery log. Live from the stream.
 */
export function AlertDetailScreen({ id }: { id: string }) {
  const q = useQuery({
    queryKey: alertKeys.detail(id),
    queryFn: () => unwrap(api.GET('/api/v1/alerts/{id}', { params: { path: { id } } })),
    staleTime: Infinity,
    refetchOnMount: 'always',
  });
  useAlertsLive();
  const back = <Link to="/alerts">← Alerts</Link>;
  if (q.isError)
    return (
      <Page title="Alert" subtitle={back}>
        <ErrorView error={q.error} onRetry={() => void q.refetch()} />
      </Page>
    );
  const a = q.data;
  return (
    <Page title={a ? a.message : 'Alert'} subtitle={back} actions={a && <AlertActions alert={a} />}>
      {!a ? (
        <Loading height={480} />
      ) : (
        <div className="stack">
          <section className="card" aria-label="Alert fields">
            <AlertFields a={a} />
          </section>
          <section className="card stack" aria-labelledby="alert-chart">
            <h2 id="alert-chart">Around the alert</h2>
            <AlertChart alert={a} />
          </section>
          <AlertHistory transitions={a.transitions} />
          <DeliveryLog id={id} />
        </div>
      )}
    </Page>
  );
}
