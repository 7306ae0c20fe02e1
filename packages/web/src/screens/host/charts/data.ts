import { api, unwrap } from '../../../api/client';
import type { ChartData } from '../../../ui/TimeSeriesChart';
import type { ChartLine } from './specs';

/** Points of one stored series: `[epoch ms, value]`. */
export type Points = readonly (readonly number[])[];

/** A live sample set: the time (epoch ms) and the values by sample id. */
export interface LivePoint {
  t: number;
  samples: Map<string, number>;
}

/** The API takes at most this many series in one query. */
const MAX_SERIES = 100;

/** Fetches the points of series over a range (at the finest resolution that keeps ≤ 1,000). */
export async function fetchSeries(
  hostId: string,
  keys: readonly string[],
  from: number,
  to: number,
): Promise<Map<string, Points>> {
  const out = new Map<string, Points>();
  const chunks: string[][] = [];
  for (let i = 0; i < keys.length; i += MAX_SERIES) chunks.push(keys.slice(i, i + MAX_SERIES));
  const answers = await Promise.all(
    chunks.map((series) =>
      unwrap(
        api.GET('/api/v1/series/query', {
          params: {
            query: {
              host_id: hostId,
              series,
              from: new Date(from).toISOString(),
              to: new Date(to).toISOString(),
              resolution: 'auto',
            },
          },
        }),
      ),
    ),
  );
  for (const a of answers) for (const s of a.series) out.set(s.key, s.points);
  return out;
}

/**
 * The columns of a chart: the union of its lines' times (seconds), one value or null per line
 * at each; live points later than the stored ones are appended.
 */
export function align(
  lines: readonly ChartLine[],
  stored: Map<string, Points> | undefined,
  live: readonly LivePoint[],
): ChartData {
  const rows = new Map<number, (number | null)[]>();
  const row = (ms: number) => {
    const t = Math.round(ms / 1000);
    let r = rows.get(t);
    if (!r) rows.set(t, (r = new Array<number | null>(lines.length).fill(null)));
    return r;
  };
  let lastStored = -Infinity;
  lines.forEach((l, i) => {
    for (const [t = 0, v = null] of stored?.get(l.key) ?? []) {
      row(t)[i] = v;
      if (t > lastStored) lastStored = t;
    }
  });
  for (const p of live) {
    if (p.t <= lastStored) continue;
    let any = false;
    const r = lines.map((l) => {
      const v = p.samples.get(l.id);
      if (v !== undefined) any = true;
      return v ?? null;
    });
    if (any) rows.set(Math.round(p.t / 1000), r);
  }
  const xs = [...rows.keys()].sort((a, b) => a - b);
  const ys = lines.map((_, i) => xs.map((t) => rows.get(t)![i] ?? null));
  return [xs, ...ys];
}
