import { VigilError } from '../errors.js';
import { parseSeriesKey } from './normalize.js';
import type { TelemetryService } from './service.js';
import { HEAD_SERIES, ROLLUPS, type Resolution } from './tsdb.js';

/**
 * The short metric names of Tyto's history and what series each one reads: the host-level
 * series the normaliser writes (the fullest file system for `disk`, all interfaces but loopback
 * for `network_*`).
 */
export const HISTORY_METRICS: Record<string, (typeof HEAD_SERIES)[number]> = {
  cpu: 'cpu_usage_percent',
  memory: 'memory_usage_percent',
  swap: 'swap_usage_percent',
  disk: 'disk_usage_percent',
  load: 'load1',
  load5: 'load5',
  load15: 'load15',
  iowait: 'cpu_iowait_percent',
  network_rx: 'net_rx_bytes_per_second',
  network_tx: 'net_tx_bytes_per_second',
  processes: 'processes',
  connections: 'tcp_connections',
};
/** Without `metrics`: what Tyto's history answers, CPU and memory. */
const DEFAULT_METRICS = ['cpu', 'memory'];

/** Longest range a history request may span. */
const MAX_RANGE_MS = 400 * 86_400_000;
/** `auto` picks the finest resolution with at most this many points. */
const MAX_AUTO_POINTS = 1000;

interface RangeQuery {
  from?: string;
  to?: string;
  resolution?: 'raw' | '1m' | '5m' | '1h' | 'auto';
  agent_id?: string;
  host_id?: string;
}

const parseTime = (name: string, text: string): number => {
  // RFC 3339: a date, a time and a zone (Z or an offset).
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(text))
    throw new VigilError(
      'bad_data',
      `${name} must be an RFC 3339 time such as 2026-01-15T10:30:00Z`,
      {
        code: 'history.bad_time',
      },
    );
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new VigilError('bad_data', `${name} is not a valid time: ${text}`, {
      code: 'history.bad_time',
    });
  return t;
};

const iso = (ms: number) => new Date(ms).toISOString();

/** Reads history for the HTTP faces: resolves the host, the range and the resolution. */
export function createHistoryReader(deps: { telemetry: TelemetryService; now: () => number }) {
  const { telemetry, now } = deps;

  async function hostOf(q: { agent_id?: string; host_id?: string }): Promise<{
    id: string;
    intervalSeconds: number | null;
  }> {
    let hostId = q.host_id;
    if (q.agent_id !== undefined) {
      const h = await telemetry.hostOfAgent(q.agent_id);
      if (h === undefined)
        throw new VigilError('not_found', `no agent ${q.agent_id}`, { code: 'agent.not_found' });
      if (h === null)
        throw new VigilError('not_found', `agent ${q.agent_id} has not reported yet`, {
          code: 'agent.no_host',
        });
      if (hostId !== undefined && hostId !== h)
        throw new VigilError('bad_data', 'agent_id and host_id name different hosts');
      hostId = h;
    }
    if (hostId === undefined) {
      // Tyto's single-machine mode: without a filter, the only host there is.
      const ids = await telemetry.hostIds(2);
      if (ids.length === 1) hostId = ids[0]!;
      else
        throw new VigilError(
          'bad_data',
          'agent_id or host_id is required (there are several hosts)',
          {
            code: 'history.target_required',
          },
        );
    }
    const host = await telemetry.host(hostId);
    if (!host) throw new VigilError('not_found', `no host ${hostId}`, { code: 'host.not_found' });
    return host;
  }

  function rangeOf(q: RangeQuery, intervalSeconds: number | null) {
    const to = q.to !== undefined ? parseTime('to', q.to) : now();
    const from = q.from !== undefined ? parseTime('from', q.from) : to - 3_600_000;
    if (from > to)
      throw new VigilError('bad_data', 'from is after to', { code: 'history.bad_range' });
    if (to - from > MAX_RANGE_MS)
      throw new VigilError('bad_data', 'the range is longer than 400 days', {
        code: 'history.bad_range',
      });
    let resolution: Resolution =
      q.resolution === undefined || q.resolution === 'auto' ? 'raw' : q.resolution;
    if (q.resolution === undefined || q.resolution === 'auto') {
      const rawStep = (intervalSeconds ?? 10) * 1000;
      const steps: [Resolution, number][] = [
        ['raw', rawStep],
        ['1m', ROLLUPS['1m']],
        ['5m', ROLLUPS['5m']],
        ['1h', ROLLUPS['1h']],
      ];
      resolution = steps.find(([, step]) => (to - from) / step <= MAX_AUTO_POINTS)?.[0] ?? '1h';
    }
    // Buckets are addressed by their start: a bucket that began before `from` but reaches into
    // the range is part of it.
    const start =
      resolution === 'raw' ? from : Math.floor(from / ROLLUPS[resolution]) * ROLLUPS[resolution];
    return { from, to, start, resolution };
  }

  async function seriesIdsFor(hostId: string, keys: string[]) {
    const all = await telemetry.series(hostId);
    const byKey = new Map(all.map((s) => [s.key, s.id]));
    return keys.map((k) => byKey.get(k));
  }

  return {
    /** The host a request names by `agent_id` or `host_id` (or the only one). */
    resolveHost: hostOf,

    /** A validated `from`/`to` range (default: the last 24 hours, at most 400 days). */
    range(q: { from?: string; to?: string }) {
      const to = q.to !== undefined ? parseTime('to', q.to) : now();
      const from = q.from !== undefined ? parseTime('from', q.from) : to - 86_400_000;
      if (from > to)
        throw new VigilError('bad_data', 'from is after to', { code: 'history.bad_range' });
      if (to - from > MAX_RANGE_MS)
        throw new VigilError('bad_data', 'the range is longer than 400 days', {
          code: 'history.bad_range',
        });
      return { from, to };
    },

    /** Tyto's history answer: `{from, to, resolution, data: [{timestamp, cpu: {avg,min,max}}]}`. */
    async tyto(q: RangeQuery & { metrics?: string }) {
      const names =
        q.metrics === undefined || q.metrics.trim() === ''
          ? DEFAULT_METRICS
          : q.metrics
              .split(',')
              .map((m) => m.trim())
              .filter(Boolean);
      for (const n of names)
        if (!HISTORY_METRICS[n])
          throw new VigilError(
            'bad_data',
            `unknown metric '${n}'; known: ${Object.keys(HISTORY_METRICS).join(', ')}`,
            { code: 'history.unknown_metric' },
          );
      const host = await hostOf(q);
      const r = rangeOf(q, host.intervalSeconds);
      const base = { from: iso(r.from), to: iso(r.to), resolution: r.resolution, host_id: host.id };
      if (r.resolution !== 'raw') {
        // Rollups: from the head chunks, which hold exactly these series. A week at 5m is 2,016
        // points: the answer is written as JSON text directly, without objects per point.
        const buckets = await telemetry.headHistory(host.id, r.resolution, r.start, r.to);
        return new JsonText(headJson(base, names, buckets));
      }
      const ids = await seriesIdsFor(
        host.id,
        names.map((n) => HISTORY_METRICS[n]!),
      );
      const wanted = names
        .map((name, i) => ({ name, id: ids[i] }))
        .filter((x): x is { name: string; id: number } => x.id !== undefined);
      const points = await telemetry.history(
        host.id,
        r.resolution,
        r.start,
        r.to,
        wanted.map((w) => w.id),
      );
      const data = points.map((p) => {
        const out: Record<string, unknown> = { timestamp: iso(p.timestamp) };
        for (const w of wanted) {
          const v = p.values.get(w.id);
          if (v) out[w.name] = { avg: round2(v.avg), min: round2(v.min), max: round2(v.max) };
        }
        return out;
      });
      return { ...base, data: data as { timestamp: string }[] };
    },

    /** The series of a host with their metric and labels. */
    async listSeries(q: { agent_id?: string; host_id?: string }) {
      const host = await hostOf(q);
      const series = (await telemetry.series(host.id)).map((s) => ({
        key: s.key,
        ...parseSeriesKey(s.key),
      }));
      return { host_id: host.id, series };
    },

    /** Points `[epoch ms, value]` of series of a host at a resolution, with one aggregation. */
    async query(
      q: RangeQuery & { series: string[]; aggregation?: 'avg' | 'min' | 'max' | 'count' },
    ) {
      const host = await hostOf(q);
      const r = rangeOf(q, host.intervalSeconds);
      const ids = await seriesIdsFor(host.id, q.series);
      const unknown = q.series.filter((_, i) => ids[i] === undefined);
      if (unknown.length > 0)
        throw new VigilError('bad_data', `host ${host.id} has no series ${unknown.join(', ')}`, {
          code: 'series.unknown',
        });
      const agg = q.aggregation ?? 'avg';
      const points = await telemetry.history(host.id, r.resolution, r.start, r.to, ids as number[]);
      return {
        host_id: host.id,
        from: iso(r.from),
        to: iso(r.to),
        resolution: r.resolution,
        aggregation: agg,
        series: q.series.map((key, i) => ({
          key,
          points: points
            .filter((p) => p.values.has(ids[i]!))
            .map((p) => [p.timestamp, p.values.get(ids[i]!)![agg]] as [number, number]),
        })),
      };
    },
  };
}

/** An answer already serialised as JSON (routes send it as it is). */
export class JsonText {
  constructor(readonly text: string) {}
}

/**
 * A figure of the history as JSON: rounded to two decimal places (what agents report; a week of
 * averages in full precision would triple the answer), written from integers, which is several
 * times faster than the general number formatting; null for NaN and infinities.
 */
export function dec2(v: number): string {
  if (!Number.isFinite(v)) return 'null';
  let n = Math.round(v * 100);
  if (!Number.isSafeInteger(n)) return String(v);
  let sign = '';
  if (n < 0) {
    sign = '-';
    n = -n;
  }
  const i = Math.floor(n / 100);
  const f = n - i * 100;
  if (f === 0) return `${sign}${i}`;
  if (f % 10 === 0) return `${sign}${i}.${f / 10}`;
  return f < 10 ? `${sign}${i}.0${f}` : `${sign}${i}.${f}`;
}

/** `dec2` as a number, for answers built as objects. */
const round2 = (v: number): number => Math.round(v * 100) / 100;

const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

/**
 * `toISOString` for whole-second times in ascending order: the date part is formatted once per
 * day, the rest from a table (thousands of buckets per answer).
 */
export function isoOfBuckets(): (ms: number) => string {
  let day = NaN;
  let prefix = '';
  return (ms) => {
    if (ms % 1000 !== 0) return iso(ms);
    const d = Math.floor(ms / 86_400_000);
    if (d !== day) {
      day = d;
      prefix = iso(d * 86_400_000).slice(0, 11);
    }
    const s = (ms - d * 86_400_000) / 1000;
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return `${prefix}${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[s % 60]}.000Z`;
  };
}

/** Tyto's history answer from head slots, as JSON text. */
function headJson(
  base: { from: string; to: string; resolution: string; host_id: string },
  names: string[],
  buckets: { bucket: number; slot: Float64Array }[],
): string {
  const heads = names.map((name) => ({
    prefix: `,${JSON.stringify(name)}:{"avg":`,
    at: HEAD_SERIES.indexOf(HISTORY_METRICS[name]!) * 4,
  }));
  const parts: string[] = [];
  const stamp = isoOfBuckets();
  for (const { bucket, slot } of buckets) {
    let p = `{"timestamp":"${stamp(bucket)}"`;
    for (const h of heads) {
      const count = slot[h.at + 3]!;
      if (count > 0)
        p += `${h.prefix}${dec2(slot[h.at]! / count)},"min":${dec2(slot[h.at + 1]!)},"max":${dec2(slot[h.at + 2]!)}}`;
    }
    parts.push(`${p}}`);
  }
  const head = JSON.stringify(base);
  return `${head.slice(0, -1)},"data":[${parts.join(',')}]}`;
}

/** The history reader. */
export type HistoryReader = ReturnType<typeof createHistoryReader>;
