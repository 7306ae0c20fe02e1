// Bulk-loads days of history into a stopped Vigil's database, in the server's own packed layout:
// for each chosen host (one that has reported, so its series and layout exist), raw rows every
// 10 s for the raw retention (47 h) and rollup rows (sum, min, max, count per series) at 1m, 5m
// and 1h for the whole span, all ending where the host's real data begins. That is the store a
// host leaves after `days` days of 10 s data under the default retention.
import Database from 'better-sqlite3';
import pg from 'pg';
import { headPositions } from '../packages/server/src/telemetry/tsdb/format.js';
import {
  HEAD_CHUNK_BUCKETS,
  HEAD_SLOT,
  ROLLUPS,
  bucketOf,
  headChunkOf,
  headSlot,
  packValues,
  unpackValues,
} from '../packages/server/src/telemetry/tsdb/format.js';

const RAW_STEP_MS = 10_000;
const RAW_SPAN_MS = 47 * 3_600_000;
/** Distinct value rows per host and table, cycled through. */
const VARIANTS = 32;

export interface LoadedHost {
  id: string;
  /** The key the time-series tables name the host by (`host_keys`). */
  key: number;
  layoutId: number;
  seriesCount: number;
  /** Where the head series sit in the layout. */
  positions: Int32Array;
}

export interface LoadResult {
  hosts: LoadedHost[];
  /** End of the loaded span (exclusive): the hour where the host's real data begins. */
  end: number;
  rows: Record<'raw' | '1m' | '5m' | '1h', number>;
  seconds: number;
}

/** A small deterministic generator, so that two runs load the same figures. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4_294_967_296;
  };
}

const r2 = (v: number) => Math.round(v * 100) / 100;

/** Value rows for one host: raw rows, and rollup rows of `count` raw values each. */
function variants(base: Float64Array, seed: number, count?: number): Uint8Array[] {
  const rnd = random(seed);
  return Array.from({ length: VARIANTS }, () => {
    if (count === undefined) return packValues(base.map((v) => r2(v * (0.9 + 0.2 * rnd()))));
    const out = new Float64Array(base.length * 4);
    base.forEach((v, i) => {
      // Agents report two decimals; an average is whatever the sum gives.
      const lo = r2(v * (0.85 + 0.1 * rnd()));
      const hi = r2(v * (1.05 + 0.1 * rnd()));
      const avg = lo + (hi - lo) * rnd();
      out[i * 4] = avg * count;
      out[i * 4 + 1] = lo;
      out[i * 4 + 2] = hi;
      out[i * 4 + 3] = count;
    });
    return new Uint8Array(out.buffer);
  });
}

/** Typical magnitudes per series, so that the loaded figures look like a host's. */
const baseValues = (n: number, seed: number) => {
  const rnd = random(seed);
  return Float64Array.from({ length: n }, () => 1 + rnd() * 99);
};

interface Spans {
  end: number;
  tables: { table: string; name: 'raw' | '1m' | '5m' | '1h'; step: number; from: number }[];
}

function spans(firstTs: number, days: number): Spans {
  const end = bucketOf(firstTs, ROLLUPS['1h']);
  const start = end - days * 86_400_000;
  return {
    end,
    tables: [
      { table: 'samples', name: 'raw', step: RAW_STEP_MS, from: end - RAW_SPAN_MS },
      { table: 'rollup_1m', name: '1m', step: ROLLUPS['1m'], from: start },
      { table: 'rollup_5m', name: '5m', step: ROLLUPS['5m'], from: start },
      { table: 'rollup_1h', name: '1h', step: ROLLUPS['1h'], from: start },
    ],
  };
}

/**
 * The rollup watermarks a server that kept the loaded days has: every resolution rolled up to
 * the end of the load (a later watermark is kept), and, where the server has not started its
 * head chunks yet, those starting at the chunk that holds the end (the loader wrote the earlier
 * ones). Without them a restarted server would roll every loaded hour up again.
 */
function watermarks(end: number): { key: string; value: string; onlyIfAbsent: boolean }[] {
  return (['1m', '5m', '1h'] as const).flatMap((r) => [
    { key: `rollup_watermark_${r}`, value: String(end), onlyIfAbsent: false },
    {
      key: `rollup_heads_watermark_${r}`,
      value: String(headChunkOf(end, ROLLUPS[r])),
      onlyIfAbsent: true,
    },
  ]);
}

const countOf = (step: number) => step / RAW_STEP_MS;

/** Which value row the bucket at `ts` gets (the same rule on both databases). */
const variantAt = (ts: number, step: number) => Math.floor(ts / step) % VARIANTS;

/**
 * The head chunks (server: telemetry/tsdb/store/heads.ts) of the loaded rollup rows of one host,
 * merged into the chunks the host already has (slots already filled are kept).
 */
function headChunks(
  positions: Int32Array,
  rowsOf: Uint8Array[],
  step: number,
  from: number,
  end: number,
  existing: Map<number, Float64Array>,
): { chunk: number; data: Uint8Array }[] {
  const slots = rowsOf.map((r) => headSlot(positions, unpackValues(r)));
  const out: { chunk: number; data: Uint8Array }[] = [];
  for (let chunk = headChunkOf(from, step); chunk < end; chunk += step * HEAD_CHUNK_BUCKETS) {
    const data = new Float64Array(HEAD_SLOT * HEAD_CHUNK_BUCKETS);
    const had = existing.get(chunk);
    if (had) data.set(had.subarray(0, data.length));
    for (let i = 0; i < HEAD_CHUNK_BUCKETS; i++) {
      const bucket = chunk + i * step;
      if (bucket < from || bucket >= end || data[i * HEAD_SLOT + 3]! > 0) continue;
      data.set(slots[variantAt(bucket, step)]!, i * HEAD_SLOT);
    }
    out.push({ chunk, data: packValues(data) });
  }
  return out;
}

/** Loads `days` of history for the first `hostCount` hosts (by name) of a SQLite file. */
export function loadSqlite(file: string, hostCount: number, days: number): LoadResult {
  const began = performance.now();
  const db = new Database(file);
  try {
    // The server is stopped; a bulk load needs no per-transaction fsync.
    db.pragma('synchronous = OFF');
    const hosts = chooseSqlite(db, hostCount);
    const first = db.prepare('SELECT min(ts) AS ts FROM samples').get() as { ts: number | null };
    if (first.ts === null) throw new Error('no host has reported: nothing to load history for');
    const plan = spans(Number(first.ts), days);
    const rows = { raw: 0, '1m': 0, '5m': 0, '1h': 0 };
    for (const t of plan.tables) {
      const key = t.table === 'samples' ? 'ts, layout_id, vals' : 'bucket, layout_id, data';
      const insert = db.prepare(
        `INSERT OR IGNORE INTO ${t.table} (host_key, ${key}) VALUES (?, ?, ?, ?)`,
      );
      hosts.forEach((h, hi) => {
        const base = baseValues(h.seriesCount, hi + 1);
        const rowsOf = variants(base, hi * 7 + 3, t.name === 'raw' ? undefined : countOf(t.step));
        const write = db.transaction(() => {
          for (let ts = t.from; ts < plan.end; ts += t.step) {
            insert.run(h.key, ts, h.layoutId, rowsOf[variantAt(ts, t.step)]);
            rows[t.name] += 1;
          }
        });
        write();
        if (t.name === 'raw') return;
        const existing = new Map<number, Float64Array>();
        for (const r of db
          .prepare('SELECT chunk, data FROM rollup_heads WHERE resolution = ? AND host_key = ?')
          .all(t.name, h.key) as { chunk: number; data: Buffer }[])
          existing.set(Number(r.chunk), unpackValues(r.data));
        const upsert = db.prepare(
          'INSERT OR REPLACE INTO rollup_heads (resolution, host_key, chunk, data) VALUES (?, ?, ?, ?)',
        );
        db.transaction(() => {
          for (const c of headChunks(h.positions, rowsOf, t.step, t.from, plan.end, existing))
            upsert.run(t.name, h.key, c.chunk, c.data);
        })();
      });
      process.stderr.write(`  loaded ${t.name}: ${rows[t.name]} rows\n`);
    }
    const upsert = db.prepare(
      `INSERT INTO settings (key, value) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value
         WHERE CAST(settings.value AS INTEGER) < CAST(excluded.value AS INTEGER)`,
    );
    const keep = db.prepare(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING',
    );
    for (const w of watermarks(plan.end)) (w.onlyIfAbsent ? keep : upsert).run(w.key, w.value);
    // Written out before the server starts, as a server's days of data would be: with the
    // sync on, the checkpoint ends with an fsync of the database file, so that gigabytes of
    // loaded pages are not still being written back while the server is measured.
    db.pragma('synchronous = FULL');
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { hosts, end: plan.end, rows, seconds: (performance.now() - began) / 1000 };
  } finally {
    db.close();
  }
}

function chooseSqlite(db: Database.Database, hostCount: number): LoadedHost[] {
  const picked = db
    .prepare(
      `SELECT h.id AS id, k.id AS key,
              (SELECT layout_id FROM samples s WHERE s.host_key = k.id ORDER BY ts DESC LIMIT 1) AS layout_id
         FROM hosts h LEFT JOIN host_keys k ON k.host_id = h.id ORDER BY h.name LIMIT ?`,
    )
    .all(hostCount) as { id: string; key: number | null; layout_id: number | null }[];
  return picked.map((p) => {
    if (p.key === null || p.layout_id === null) throw new Error(`host ${p.id} has no samples`);
    const l = db.prepare('SELECT series_ids FROM series_layouts WHERE id = ?').get(p.layout_id) as {
      series_ids: string;
    };
    const ids = JSON.parse(l.series_ids) as number[];
    const keys = db.prepare(`SELECT id, key FROM series WHERE host_id = ?`).all(p.id) as {
      id: number;
      key: string;
    }[];
    return {
      id: p.id,
      key: Number(p.key),
      layoutId: Number(p.layout_id),
      seriesCount: ids.length,
      positions: headPositions(ids, new Map(keys.map((k) => [Number(k.id), k.key]))),
    };
  });
}

/** Loads `days` of history for the first `hostCount` hosts (by name) of a PostgreSQL database. */
export async function loadPostgres(
  url: string,
  hostCount: number,
  days: number,
): Promise<LoadResult> {
  const began = performance.now();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SET synchronous_commit = off');
    const picked = (
      await client.query<{
        id: string;
        key: number | null;
        layout_id: number | null;
        series_ids: string | null;
      }>(
        `SELECT h.id, k.id AS key, s.layout_id, l.series_ids
           FROM (SELECT id, name FROM hosts ORDER BY name LIMIT $1) h
           LEFT JOIN host_keys k ON k.host_id = h.id
           LEFT JOIN LATERAL (SELECT layout_id FROM samples WHERE host_key = k.id ORDER BY ts DESC LIMIT 1) s ON true
           LEFT JOIN series_layouts l ON l.id = s.layout_id
          ORDER BY h.name`,
        [hostCount],
      )
    ).rows;
    const hosts: LoadedHost[] = [];
    for (const p of picked) {
      if (p.key === null || p.layout_id === null || p.series_ids === null)
        throw new Error(`host ${p.id} has no samples`);
      const ids = JSON.parse(p.series_ids) as number[];
      const keys = await client.query<{ id: number; key: string }>(
        'SELECT id, key FROM series WHERE host_id = $1',
        [p.id],
      );
      hosts.push({
        id: p.id,
        key: Number(p.key),
        layoutId: Number(p.layout_id),
        seriesCount: ids.length,
        positions: headPositions(ids, new Map(keys.rows.map((k) => [Number(k.id), k.key]))),
      });
    }
    const first = (await client.query<{ ts: string | null }>('SELECT min(ts) AS ts FROM samples'))
      .rows[0]!.ts;
    if (first === null) throw new Error('no host has reported: nothing to load history for');
    const plan = spans(Number(first), days);
    const rows = { raw: 0, '1m': 0, '5m': 0, '1h': 0 };
    for (const t of plan.tables) {
      const cols = t.table === 'samples' ? 'ts, layout_id, vals' : 'bucket, layout_id, data';
      for (const [hi, h] of hosts.entries()) {
        const base = baseValues(h.seriesCount, hi + 1);
        const rowsOf = variants(base, hi * 7 + 3, t.name === 'raw' ? undefined : countOf(t.step));
        // The rows are generated by the database from the host's value rows, cycled.
        const r = await client.query(
          `INSERT INTO ${t.table} (host_key, ${cols})
             SELECT $1, t, $2, ($3::bytea[])[1 + ((t / $6) % ${VARIANTS})::int]
               FROM generate_series($4::bigint, $5::bigint - 1, $6::bigint) t
           ON CONFLICT DO NOTHING`,
          [h.key, h.layoutId, rowsOf.map((b) => Buffer.from(b)), t.from, plan.end, t.step],
        );
        rows[t.name] += r.rowCount ?? 0;
        if (t.name === 'raw') continue;
        const had = await client.query<{ chunk: string; data: Buffer }>(
          'SELECT chunk, data FROM rollup_heads WHERE resolution = $1 AND host_key = $2',
          [t.name, h.key],
        );
        const existing = new Map(had.rows.map((r) => [Number(r.chunk), unpackValues(r.data)]));
        const chunks = headChunks(h.positions, rowsOf, t.step, t.from, plan.end, existing);
        for (let i = 0; i < chunks.length; i += 100) {
          const part = chunks.slice(i, i + 100);
          await client.query(
            `INSERT INTO rollup_heads (resolution, host_key, chunk, data)
               SELECT $1, $2, c, d FROM unnest($3::bigint[], $4::bytea[]) AS u(c, d)
             ON CONFLICT (resolution, host_key, chunk) DO UPDATE SET data = excluded.data`,
            [t.name, h.key, part.map((c) => c.chunk), part.map((c) => Buffer.from(c.data))],
          );
        }
      }
      process.stderr.write(`  loaded ${t.name}: ${rows[t.name]} rows\n`);
    }
    for (const w of watermarks(plan.end))
      await client.query(
        w.onlyIfAbsent
          ? 'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING'
          : `INSERT INTO settings (key, value) VALUES ($1, $2)
               ON CONFLICT (key) DO UPDATE SET value = excluded.value
               WHERE settings.value::bigint < excluded.value::bigint`,
        [w.key, w.value],
      );
    await client.query('CHECKPOINT');
    await client.query('ANALYZE');
    return { hosts, end: plan.end, rows, seconds: (performance.now() - began) / 1000 };
  } finally {
    await client.end();
  }
}
