import { VigilError } from '../../errors.js';
import { parseSeriesKey } from '../ingest/normalize.js';
import { HEAD_SERIES, ROLLUPS, type Resolution, type RollupResolution } from '../tsdb/format.js';
import type { HistoryPoint } from '../tsdb/querier.js';

/**
 * The reads of stored series that history answers from (the tsdb's querier). Declared here,
 * where it is used. Times are epoch ms; ranges are `from <= t < to`.
 */
export interface Querier {
  /** The series of a host: id and key (`metric{label="value",…}`), by key. */
  series(hostId: string): Promise<{ id: number; key: string }[]>;
  /**
   * Points of some series of a host: raw points (each figure its own avg, min and max, count
   * 1), or rollup buckets by their start. A series without a figure at a point is absent from
   * that point's map; a point is there when the host pushed (or its bucket has rows).
   */
  history(
    hostId: string,
    resolution: Resolution,
    from: number,
    to: number,
    seriesIds: number[],
  ): Promise<HistoryPoint[]>;
  /**
   * A host's rollups of the head series (tsdb/format.ts `HEAD_SERIES`), by bucket: per series
   * sum, min, max and count, in that order. Buckets past retention are left out; buckets not
   * rolled up yet are there, `partial`, from what has arrived so far.
   */
  headHistory(
    hostId: string,
    resolution: RollupResolution,
    from: number,
    to: number,
  ): Promise<{ bucket: number; slot: Float64Array; partial?: true }[]>;
}

/**
 * What history asks the hosts domain to resolve its target (the hosts service). Declared here,
 * where it is used.
 */
export interface HostDirectory {
  /** A host and the reporting interval of its agents (the shortest); undefined when absent. */
  summary(
    hostId: string,
  ): Promise<{ id: string; name: string; intervalSeconds: number | null } | undefined>;
  /** The host an agent reports for; undefined for an unknown agent, null when it has none. */
  ofAgent(agentId: string): Promise<string | null | undefined>;
  /** Some host ids (at most `limit`). */
  firstIds(limit: number): Promise<string[]>;
}

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
export function createHistoryReader(deps: {
  telemetry: Querier;
  hosts: HostDirectory;
  now: () => number;
}) {
  const { telemetry, hosts, now } = deps;

  async function hostOf(q: { agent_id?: string; host_id?: string }): Promise<{
    id: string;
    name: string;
    intervalSeconds: number | null;
  }> {
    let hostId = q.host_id;
    if (q.agent_id !== undefined) {
      const h = await hosts.ofAgent(q.agent_id);
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
      const ids = await hosts.firstIds(2);
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
    const host = await hosts.summary(hostId);
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
        // Rollups: from the head chunks, which hold exactly these series, and the buckets not
        // rolled up yet from memory (`partial`). A week at 5m is 2,016 points: the answer is
        // written as JSON text directly, without objects per point.
        const buckets = await telemetry.headHistory(host.id, r.resolution, r.start, r.to);
        return new JsonBytes(headJson(base, names, buckets));
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

/** An answer already serialised as JSON bytes (routes send it as it is). */
export class JsonBytes {
  constructor(readonly body: Buffer) {}
}

/** `JsonWriter.dec2` as a number, for answers built as objects. */
const round2 = (v: number): number => Math.round(v * 100) / 100;

const ZERO = 0x30;
/** The two digits of 0–99, at twice the number. */
const PAIRS = Uint8Array.from({ length: 200 }, (_, i) =>
  i % 2 === 0 ? ZERO + Math.floor(i / 20) : ZERO + (Math.floor(i / 2) % 10),
);

/**
 * Writes JSON straight into bytes: a week of history is thousands of points, and building it as
 * strings cost more than reading it (the text is then scanned again for its length and encoded
 * once more on the way out).
 */
export class JsonWriter {
  private buf: Buffer;
  private n = 0;
  private day = NaN;
  private dayPrefix = Buffer.alloc(0);

  constructor(sizeHint = 4096) {
    this.buf = Buffer.allocUnsafe(Math.max(64, sizeHint));
  }

  private reserve(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }

  /** Appends bytes as they are. */
  bytes(b: Uint8Array): this {
    const k = b.length;
    this.reserve(k);
    const out = this.buf;
    const n = this.n;
    // The pieces between figures are a few bytes: copied by hand, they cost less than a call
    // of `set` each, and a week of history is tens of thousands of them.
    if (k <= 32) for (let i = 0; i < k; i++) out[n + i] = b[i]!;
    else out.set(b, n);
    this.n = n + k;
    return this;
  }

  /** Appends text (already JSON) as UTF-8. */
  text(s: string): this {
    this.reserve(s.length * 3);
    this.n += this.buf.write(s, this.n, 'utf8');
    return this;
  }

  /**
   * A figure rounded to two decimal places (what agents report; a week of averages in full
   * precision would triple the answer), exactly as `JSON.stringify` writes the rounded number,
   * from integers; null for NaN and infinities.
   */
  dec2(v: number): this {
    if (!Number.isFinite(v)) return this.text('null');
    let x = Math.round(v * 100);
    if (!Number.isSafeInteger(x)) return this.text(String(v));
    this.reserve(24);
    const b = this.buf;
    let n = this.n;
    if (x < 0) {
      b[n++] = 0x2d; // -
      x = -x;
    }
    let i = Math.floor(x / 100);
    const f = x - i * 100;
    if (i < 10) b[n++] = ZERO + i;
    else if (i < 100) {
      b[n++] = PAIRS[2 * i]!;
      b[n++] = PAIRS[2 * i + 1]!;
    } else {
      // Integer digits, last first, then turned around.
      const start = n;
      do {
        const q = Math.floor(i / 10);
        b[n++] = ZERO + (i - q * 10);
        i = q;
      } while (i > 0);
      for (let l = start, r = n - 1; l < r; l++, r--) {
        const t = b[l]!;
        b[l] = b[r]!;
        b[r] = t;
      }
    }
    if (f !== 0) {
      b[n++] = 0x2e; // .
      b[n++] = PAIRS[2 * f]!;
      if (f % 10 !== 0) b[n++] = PAIRS[2 * f + 1]!;
    }
    this.n = n;
    return this;
  }

  /**
   * A time as `toISOString` writes it, quoted; whole-second times (bucket starts) come from a
   * table, with the date formatted once per day.
   */
  time(ms: number): this {
    if (ms % 1000 !== 0) return this.text(JSON.stringify(iso(ms)));
    const d = Math.floor(ms / 86_400_000);
    if (d !== this.day) {
      this.day = d;
      this.dayPrefix = Buffer.from(`"${iso(d * 86_400_000).slice(0, 11)}`);
    }
    const s = (ms - d * 86_400_000) / 1000;
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    this.bytes(this.dayPrefix);
    this.reserve(14);
    const b = this.buf;
    const n = this.n;
    const sec = s % 60;
    b[n] = ZERO + Math.floor(h / 10);
    b[n + 1] = ZERO + (h % 10);
    b[n + 2] = 0x3a; // :
    b[n + 3] = ZERO + Math.floor(m / 10);
    b[n + 4] = ZERO + (m % 10);
    b[n + 5] = 0x3a;
    b[n + 6] = ZERO + Math.floor(sec / 10);
    b[n + 7] = ZERO + (sec % 10);
    this.n += 8;
    return this.bytes(MILLIS_ZONE);
  }

  /** The bytes written (sharing this writer's memory). */
  result(): Buffer {
    return this.buf.subarray(0, this.n);
  }
}
const MILLIS_ZONE = Buffer.from('.000Z"');

/** Tyto's history answer from head slots, as JSON bytes. */
function headJson(
  base: { from: string; to: string; resolution: string; host_id: string },
  names: string[],
  buckets: { bucket: number; slot: Float64Array; partial?: true }[],
): Buffer {
  const heads = names.map((name) => ({
    prefix: Buffer.from(`,${JSON.stringify(name)}:{"avg":`),
    at: HEAD_SERIES.indexOf(HISTORY_METRICS[name]!) * 4,
  }));
  const out = new JsonWriter(256 + buckets.length * (48 + names.length * 72));
  const head = JSON.stringify(base);
  out.text(`${head.slice(0, -1)},"data":[`);
  let first = true;
  for (const { bucket, slot, partial } of buckets) {
    out.bytes(first ? POINT_OPEN.subarray(1) : POINT_OPEN).time(bucket);
    first = false;
    for (const h of heads) {
      const count = slot[h.at + 3]!;
      if (count > 0)
        out
          .bytes(h.prefix)
          .dec2(slot[h.at]! / count)
          .bytes(MIN)
          .dec2(slot[h.at + 1]!)
          .bytes(MAX)
          .dec2(slot[h.at + 2]!)
          .bytes(CLOSE);
    }
    if (partial) out.bytes(PARTIAL);
    out.bytes(CLOSE);
  }
  return out.bytes(END).result();
}
const POINT_OPEN = Buffer.from(',{"timestamp":');
const MIN = Buffer.from(',"min":');
const MAX = Buffer.from(',"max":');
const CLOSE = Buffer.from('}');
const END = Buffer.from(']}');
const PARTIAL = Buffer.from(',"partial":true');

/** The history reader. */
export type HistoryReader = ReturnType<typeof createHistoryReader>;
