import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { api, unwrap } from '../../../api/client';
import { setQueryParam, useLocation } from '../../../app/router';
import { useStreamEvent } from '../../../app/stream';
import { ErrorView } from '../../../ui/ErrorView';
import { Loading } from '../../../ui/Page';
import {
  TimeRangePicker,
  isRangeChoice,
  resolveRange,
  RANGE_SPAN,
  type RangeValue,
} from '../../../ui/TimeRangePicker';
import { TimeSeriesChart } from '../../../ui/TimeSeriesChart';
import type { MetricsEvent } from '../../fleet/live';
import { align, fetchSeries, type LivePoint } from './data';
import { chartSpecs, samplesOf, type ChartSpec } from './specs';
import './charts.css';

const NO_POINTS: LivePoint[] = [];

/** The range in the URL: `?range=24h`, or `?range=custom&from=…&to=…` (epoch ms). */
function rangeFromUrl(q: URLSearchParams): RangeValue {
  const choice = q.get('range');
  if (!isRangeChoice(choice)) return { choice: 'live' };
  if (choice !== 'custom') return { choice };
  const from = Number(q.get('from'));
  const to = Number(q.get('to'));
  return Number.isFinite(from) && Number.isFinite(to) && from < to
    ? { choice, from, to }
    : { choice: '1h' };
}

function setRange(v: RangeValue): void {
  setQueryParam('range', v.choice === 'live' ? '' : v.choice);
  setQueryParam('from', v.choice === 'custom' ? String(v.from) : '');
  setQueryParam('to', v.choice === 'custom' ? String(v.to) : '');
}

/** One chart of the host: its stored points over the range, and the live ones after them. */
function HostChart(props: {
  hostId: string;
  spec: ChartSpec;
  bounds: { from: number; to: number };
  fetchBounds: { from: number; to: number };
  live: readonly LivePoint[];
}) {
  const { spec, hostId, fetchBounds } = props;
  const keys = spec.lines.map((l) => l.key);
  const q = useQuery({
    queryKey: ['series', hostId, 'query', keys, fetchBounds.from, fetchBounds.to],
    queryFn: () => fetchSeries(hostId, keys, fetchBounds.from, fetchBounds.to),
    staleTime: Infinity,
    placeholderData: (prev) => prev,
  });
  const data = useMemo(
    () => (q.data ? align(spec.lines, q.data, props.live) : null),
    [q.data, spec.lines, props.live],
  );
  if (q.isError) return <ErrorView error={q.error} onRetry={() => void q.refetch()} />;
  return (
    <TimeSeriesChart
      title={spec.title}
      unit={spec.unit}
      series={spec.lines.map((l) => l.label)}
      data={data}
      busy={q.isFetching}
      range={props.bounds}
      max={spec.max}
      thresholds={spec.thresholds}
      legend={spec.legend}
      note={spec.legend ? undefined : `${spec.lines.length} lines, no legend`}
      syncKey={`host-${hostId}`}
      onZoom={(from, to) => setRange({ choice: 'custom', from, to })}
    />
  );
}

/**
 * The host's charts over a chosen range: stored history (at the finest resolution that keeps
 * a thousand points), and in live mode the last 15 minutes followed from the stream without
 * fetching again. Dragging across a chart zooms every chart to that span.
 */
export function ChartsTab({ hostId }: { hostId: string }) {
  const { query } = useLocation();
  const range = rangeFromUrl(query);
  const series = useQuery({
    queryKey: ['series', hostId],
    queryFn: () => unwrap(api.GET('/api/v1/series', { params: { query: { host_id: hostId } } })),
    staleTime: 60_000,
  });
  const specs = useMemo(() => chartSpecs(series.data?.series ?? []), [series.data]);
  // When the range was chosen: presets reach back from then, so the query stays the same.
  const rangeKey = `${range.choice}:${range.from ?? ''}:${range.to ?? ''}`;
  const fetchBounds = useMemo(() => resolveRange(range), [rangeKey]);
  // Ranges that end now follow the stream: its points are drawn after the stored ones (the
  // series API answers rolled-up buckets only once they are complete).
  const following = range.choice !== 'custom';
  const [live, setLive] = useState<LivePoint[]>([]);
  const [liveNow, setLiveNow] = useState(() => Date.now());
  useStreamEvent('metrics', (d) => {
    const e = d as MetricsEvent;
    if (!following || e?.host_id !== hostId) return;
    const t = e.timestamp ? Date.parse(e.timestamp) : Date.now();
    const oldest = t - RANGE_SPAN.live;
    setLive((l) => [
      ...l.filter((p) => p.t >= oldest && p.t >= fetchBounds.from),
      { t, samples: samplesOf(e) },
    ]);
    setLiveNow((n) => Math.max(n, t));
  });
  const span = range.choice === 'custom' ? 0 : RANGE_SPAN[range.choice];
  const bounds = following
    ? { from: Math.max(fetchBounds.from, liveNow - span), to: Math.max(fetchBounds.to, liveNow) }
    : fetchBounds;

  return (
    <section aria-label="Charts" className="host-charts">
      <div className="host-charts-bar">
        <p className="muted small">
          {range.choice === 'live'
            ? 'The last 15 minutes, following each report as it arrives.'
            : 'Drag across a chart to zoom into a span.'}
        </p>
        <TimeRangePicker value={range} onChange={setRange} />
      </div>
      {series.isError ? (
        <ErrorView error={series.error} onRetry={() => void series.refetch()} />
      ) : !series.data ? (
        <Loading label="Loading charts…" height={460} />
      ) : specs.length === 0 ? (
        <p className="card muted">
          This host has no stored figures yet; charts appear after its first report.
        </p>
      ) : (
        <div className="chart-grid">
          {specs.map((s) => (
            <HostChart
              key={s.id}
              hostId={hostId}
              spec={s}
              bounds={bounds}
              fetchBounds={fetchBounds}
              live={following ? live : NO_POINTS}
            />
          ))}
        </div>
      )}
    </section>
  );
}
