import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorView } from '../../ui/ErrorView';
import { Loading } from '../../ui/Page';
import { TimeSeriesChart, type ChartData } from '../../ui/TimeSeriesChart';

/** A check's recorded results: `[time (epoch ms), state id]`, oldest first. */
type Steps = readonly (readonly [number, number])[];

/**
 * The columns of a step line: each state holds until the next result (a point just before each
 * change keeps the line flat), and the last one until `to`.
 */
export function stepData(steps: Steps, to: number): ChartData {
  const xs: number[] = [];
  const ys: (number | null)[] = [];
  steps.forEach(([t, v], i) => {
    if (i > 0) {
      xs.push(t / 1000 - 0.001);
      ys.push(steps[i - 1]![1]);
    }
    xs.push(t / 1000);
    ys.push(v);
  });
  const last = steps[steps.length - 1];
  if (last && to > last[0]) {
    xs.push(to / 1000);
    ys.push(last[1]);
  }
  return [xs, ys];
}

/**
 * The state of a custom check around its alert, as a step line (0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN) from the check's recorded results on the host.
 */
export function AlertCheckChart(props: {
  hostId: string;
  check: string;
  range: { from: number; to: number };
  height: number;
}) {
  const { hostId, check, range } = props;
  const q = useQuery({
    queryKey: ['hosts', hostId, 'checks', check, 'history', range.from, range.to],
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/hosts/{id}/checks/{name}/history', {
          params: {
            path: { id: hostId, name: check },
            query: {
              from: new Date(range.from).toISOString(),
              to: new Date(range.to).toISOString(),
              limit: 1000,
            },
          },
        }),
      ),
    staleTime: Infinity,
  });
  const data = useMemo(() => {
    if (!q.data) return null;
    const steps = q.data.history
      .filter((r) => r.timestamp !== null)
      .map((r) => [Date.parse(r.timestamp!), r.state_id] as const)
      .sort((a, b) => a[0] - b[0]);
    return stepData(steps, range.to);
  }, [q.data, range.to]);
  if (q.isError) return <ErrorView error={q.error} onRetry={() => void q.refetch()} />;
  if (!data) return <Loading height={props.height} />;
  if (data[0].length === 0)
    return <p className="muted">No result of the check {check} recorded around the alert.</p>;
  return (
    <TimeSeriesChart
      title={`State of the check ${check}`}
      note="0 OK · 1 WARNING · 2 CRITICAL · 3 UNKNOWN"
      unit="number"
      max={3}
      series={[check]}
      data={data}
      range={range}
      height={props.height}
      thresholds={[
        { value: 1, tone: 'warn' },
        { value: 2, tone: 'crit' },
      ]}
    />
  );
}
