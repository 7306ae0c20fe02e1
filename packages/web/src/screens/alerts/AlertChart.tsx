import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { api, unwrap } from '../../api/client';
import { useCan } from '../../app/session';
import { ErrorView } from '../../ui/ErrorView';
import { Loading } from '../../ui/Page';
import { TimeSeriesChart, type ChartUnit, type Threshold } from '../../ui/TimeSeriesChart';
import { align, fetchSeries } from '../host/charts/data';
import type { ChartLine } from '../host/charts/specs';
import { AlertCheckChart } from './AlertCheckChart';
import { alertKeys, type Alert } from './queries';

const MINUTE = 60_000;
const HEIGHT = 220;

/** The unit of a metric, from its name's suffix. */
function unitOf(metric: string): { unit: ChartUnit; max?: number } {
  if (metric.endsWith('_percent')) return { unit: 'percent', max: 100 };
  if (metric.endsWith('_bytes_per_second')) return { unit: 'rate' };
  if (metric.endsWith('_bytes')) return { unit: 'bytes' };
  if (metric.endsWith('_celsius')) return { unit: 'celsius' };
  if (metric.endsWith('_watts')) return { unit: 'watts' };
  return { unit: 'number' };
}

/**
 * The span the chart shows: from a while before the alert started (half its length, at least
 * 15 minutes) to its end (or now), plus a little after it ended.
 */
export function chartRange(a: Alert, now = Date.now()): { from: number; to: number } {
  const start = Date.parse(a.started_at);
  const end = a.resolved_at ? Date.parse(a.resolved_at) : now;
  const lead = Math.max(15 * MINUTE, (end - start) / 2);
  return {
    from: Math.round((start - lead) / MINUTE) * MINUTE,
    to: a.resolved_at ? Math.min(now, end + Math.min(lead, 15 * MINUTE)) : now,
  };
}

/**
 * The series an alert of a threshold rule watched, around the alert: the rule's metric on the
 * alert's host, for the alert's labels, with the rule's thresholds drawn. A check rule's alert
 * draws the check's state instead; other kinds (offline agents, certificates) have no series.
 */
export function AlertChart({ alert }: { alert: Alert }) {
  const can = useCan();
  const rule = useQuery({
    queryKey: alertKeys.rule(alert.rule_id),
    queryFn: () =>
      unwrap(api.GET('/api/v1/alerts/rules/{id}', { params: { path: { id: alert.rule_id } } })),
    staleTime: 60_000,
  });
  const metric = rule.data?.kind === 'threshold' ? rule.data.metric : null;
  const series = useQuery({
    queryKey: ['series', alert.host_id],
    queryFn: () =>
      unwrap(api.GET('/api/v1/series', { params: { query: { host_id: alert.host_id } } })),
    enabled: metric !== null && can('host:read'),
    staleTime: 60_000,
  });
  const lines: ChartLine[] = useMemo(() => {
    if (!metric) return [];
    const wanted = Object.entries(alert.labels);
    return (series.data?.series ?? [])
      .filter((s) => s.metric === metric && wanted.every(([k, v]) => s.labels[k] === v))
      .slice(0, 6)
      .map((s) => ({
        key: s.key,
        id: s.key,
        label: Object.values(s.labels).join(' ') || metric,
      }));
  }, [metric, series.data, alert.labels]);
  // The range is fixed when the alert closes; while open it reaches to when the screen asked.
  const range = useMemo(() => chartRange(alert), [alert.started_at, alert.resolved_at]);
  const keys = lines.map((l) => l.key);
  const points = useQuery({
    queryKey: ['series', alert.host_id, 'query', keys, range.from, range.to],
    queryFn: () => fetchSeries(alert.host_id, keys, range.from, range.to),
    enabled: keys.length > 0,
    staleTime: Infinity,
  });
  const data = useMemo(
    () => (points.data ? align(lines, points.data, []) : null),
    [points.data, lines],
  );

  if (rule.isError) return <ErrorView error={rule.error} onRetry={() => void rule.refetch()} />;
  if (!rule.data) return <Loading height={HEIGHT} />;
  if (rule.data.kind === 'check' && alert.labels.check && can('host:read'))
    return (
      <AlertCheckChart
        hostId={alert.host_id}
        check={alert.labels.check}
        range={range}
        height={HEIGHT}
      />
    );
  if (!metric)
    return (
      <p className="muted">
        No chart: this alert's rule ({rule.data.kind.replace('_', ' ')}) watches no series.
      </p>
    );
  if (!can('host:read')) return <p className="muted">Reading the host's series needs host:read.</p>;
  if (series.isError)
    return <ErrorView error={series.error} onRetry={() => void series.refetch()} />;
  if (!series.data) return <Loading height={HEIGHT} />;
  if (!lines.length)
    return (
      <p className="muted">
        No stored series <code>{metric}</code> on this host for these labels.
      </p>
    );
  if (points.isError)
    return <ErrorView error={points.error} onRetry={() => void points.refetch()} />;
  const { unit, max } = unitOf(metric);
  const thresholds: Threshold[] = [];
  const r = rule.data;
  if (r.warning !== null) thresholds.push({ value: r.warning, tone: 'warn' });
  if (r.critical !== null) thresholds.push({ value: r.critical, tone: 'crit' });
  if (!thresholds.length && alert.threshold !== null)
    thresholds.push({
      value: alert.threshold,
      tone: alert.severity === 'critical' ? 'crit' : 'warn',
    });
  return (
    <TimeSeriesChart
      title={`${metric} around the alert`}
      unit={unit}
      max={max}
      series={lines.map((l) => l.label)}
      data={data}
      range={range}
      height={HEIGHT}
      thresholds={thresholds}
      busy={points.isFetching}
    />
  );
}
