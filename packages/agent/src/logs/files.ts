import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { isRecord } from '@vigil/protocol/guards';
import { FileTail, type TailEntry } from './file-tail.js';
import { expandGlobs } from './glob.js';
import { levelOfLine } from './levels.js';
import type { LogLine, LogSink, LogSourceReader } from './model.js';
import { positionFile } from './positions.js';
import { leadingTimestamp } from './timestamps.js';

/** How the file source reads; every period in milliseconds. */
export interface FileSourceOptions {
  /** Globs of the files to follow (`/var/log/app/*.log`); see {@link expandGlobs}. */
  globs: string[];
  /** The folder the reading positions are kept in (`files.json`). */
  stateDir: string;
  /** Matches the first line of a multi-line entry; other lines join the entry before them. */
  multilineStart?: RegExp;
  /** How often files are checked for new data, rotation and truncation (default 250). */
  pollMs?: number;
  /** How often the globs are expanded again to pick up new files (default 2,000). */
  rescanMs?: number;
  /** Quiet time after which an open multi-line entry is sent (default 1,000). */
  multilineFlushMs?: number;
  /** Quiet time after which a last line without its newline is sent as it is (default 30,000). */
  partialFlushMs?: number;
  /** Quiet time after which a rotated file at its end is closed (default 5,000). */
  drainMs?: number;
  /** Most lines in one sink call (default 1,000). */
  batchMax?: number;
  /** The agent's own log. */
  log?: (msg: string) => void;
}

/** Bytes read per file per poll, so that one busy file cannot hold up the others. */
const READ_PER_POLL = 1024 * 1024;

type Saved = Record<string, { ino: string; offset: number }[]>;

const decodeSaved = (json: unknown): { files: Saved } | undefined => {
  if (!isRecord(json) || !isRecord(json.files)) return undefined;
  const out: Saved = {};
  for (const [file, list] of Object.entries(json.files)) {
    if (!Array.isArray(list)) continue;
    out[file] = list.filter(
      (p): p is { ino: string; offset: number } =>
        isRecord(p) && typeof p.ino === 'string' && Number.isSafeInteger(p.offset),
    );
  }
  return { files: out };
};

/** The inode of `file` as text, or undefined when it is gone. */
const inodeOf = async (file: string): Promise<string | undefined> =>
  (await stat(file, { bigint: true }).catch(() => undefined))?.ino.toString();

/**
 * The file source: follows the files its globs match, in order, line by line.
 *
 * - Position: per path, the inode and the byte offset up to which the sink took every line,
 *   saved in `<stateDir>/files.json` after each sink call resolves (never before: a rejected call
 *   is retried and moves nothing).
 * - First start (no `files.json` yet): the files found then are read from their END (the agent
 *   does not flood the server with history). Every file found later, and on a restart every
 *   file without a saved position (created while the agent was stopped), is read from 0.
 * - Rotation by rename and create (logrotate): the inode at the path changes; the old file stays
 *   open and is read to its end, then closed after a quiet time, and the new one is read from 0.
 *   A restart in between finds the old file again by its inode in the same folder. A rotated name
 *   the globs also match carries on under that name, never read twice.
 * - Truncation in place (copytruncate): a size below the read offset starts over at 0.
 * - An incomplete last line is held until its newline comes, or sent as it is after a long quiet
 *   time (`partialFlushMs`): a writer that never ends its last line loses nothing.
 * - Files are polled (stat and read every `pollMs`): inotify misses renames on some filesystems
 *   and does not cross into containers' bind mounts reliably.
 */
export function createFileSource(opts: FileSourceOptions): LogSourceReader {
  const pollMs = opts.pollMs ?? 250;
  const rescanMs = opts.rescanMs ?? 2_000;
  const multilineMs = opts.multilineFlushMs ?? 1_000;
  const partialMs = opts.partialFlushMs ?? 30_000;
  const drainMs = opts.drainMs ?? 5_000;
  const batchMax = opts.batchMax ?? 1_000;
  const log = opts.log ?? (() => undefined);
  const positions = positionFile(opts.stateDir, 'files', decodeSaved);
  /** The file followed at each path. */
  const tails = new Map<string, FileTail>();
  /** Renamed-away or deleted files being read to their end. */
  const drains: FileTail[] = [];
  const queue: TailEntry[] = [];
  let saved: Saved | undefined;
  let firstScan = true;
  /** Whether a position file existed at the start (a restart, not the first start). */
  let hadState = false;
  let nextScan = 0;
  let retryAt = 0;
  let retryDelay = 1_000;
  let sink: LogSink | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  /** The path a draining file's position is kept under (the name it was followed as). */
  const drainKey = new WeakMap<FileTail, string>();
  /** The order files were opened in: older files are read first (a rotated one before its successor). */
  const opened = new WeakMap<FileTail, number>();
  let openCount = 0;
  const openTail = async (file: string, start: number | 'end', now: number) => {
    const t = await FileTail.open(file, start, opts.multilineStart, now);
    if (t) opened.set(t, openCount++);
    return t;
  };
  const openTails = () => [...tails.values(), ...drains];

  const save = (): void => {
    const files: Saved = {};
    for (const t of openTails()) {
      const key = t.draining ? (drainKey.get(t) ?? t.path) : t.path;
      (files[key] ??= []).push({ ino: t.ino, offset: t.committed });
    }
    try {
      positions.save({ files });
    } catch (err) {
      log(`logs: cannot save file positions to ${positions.file}: ${(err as Error).message}`);
    }
  };

  const startDrain = (t: FileTail): void => {
    t.draining = true;
    drainKey.set(t, t.path);
    drains.push(t);
  };

  /** Finds a file with inode `ino` in `dir` (a rotated file under its new name). */
  const findInode = async (dir: string, ino: string): Promise<string | undefined> => {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const file = path.join(dir, name);
      if ((await inodeOf(file)) === ino) return file;
    }
    return undefined;
  };

  /** Starts following a path the globs matched and nothing follows yet. */
  const discover = async (file: string, now: number, adoptOnly = false): Promise<void> => {
    const ino = await inodeOf(file);
    if (ino === undefined) return;
    const drained = drains.findIndex((d) => d.ino === ino);
    if (drained >= 0) {
      // A rotated file the globs match too: it carries on under its new name.
      const [t] = drains.splice(drained, 1);
      t!.draining = false;
      t!.path = file;
      tails.set(file, t!);
      return;
    }
    if (adoptOnly || [...tails.values()].some((t) => t.ino === ino)) return;
    const known = saved?.[file];
    let start: number | 'end' = firstScan && !hadState ? 'end' : 0;
    if (known?.length) {
      start = known.find((p) => p.ino === ino)?.offset ?? 0;
      for (const p of known.filter((k) => k.ino !== ino)) {
        const old = await findInode(path.dirname(file), p.ino);
        const t = old && (await openTail(old, p.offset, now));
        if (t) {
          t.path = file;
          startDrain(t);
        }
      }
    }
    const t = await openTail(file, start, now);
    if (t) tails.set(file, t);
  };

  const rescan = async (now: number): Promise<void> => {
    const files = await expandGlobs(opts.globs);
    const fresh = files.filter((f) => !tails.has(f));
    // Paths with a saved position first: their rotated files are found before the globs could
    // match those under their new names.
    fresh.sort((a, b) => Number(!saved?.[a]) - Number(!saved?.[b]));
    // Rotated files that carry on under a matched name first: their lines are older.
    for (const f of fresh) await discover(f, now, true);
    for (const f of fresh) if (!tails.has(f)) await discover(f, now);
    // The first positions are saved at once: a restart before any line reads no history.
    if (firstScan) save();
    firstScan = false;
    saved = undefined;
  };

  /** Notices renames, deletions and truncations of the followed paths. */
  const check = async (now: number): Promise<void> => {
    for (const [file, t] of tails) {
      const st = await stat(file, { bigint: true }).catch(() => undefined);
      if (!st || st.ino.toString() !== t.ino) {
        tails.delete(file);
        startDrain(t);
        if (st) await discover(file, now);
      } else if (Number(st.size) < t.pos) {
        log(`logs: ${file} was truncated; reading it from the start`);
        queue.push(...t.truncated(now));
      }
    }
  };

  const toLine = (e: TailEntry): LogLine => ({
    timestamp: leadingTimestamp(e.text, e.readAt) ?? e.readAt,
    source: 'file',
    source_name: e.tail.path,
    level: levelOfLine(e.text),
    message: e.text,
    fields: {},
  });

  const deliver = async (now: number): Promise<void> => {
    while (queue.length > 0 && sink && !stopped && now >= retryAt) {
      const batch = queue.slice(0, batchMax);
      try {
        await sink(batch.map(toLine));
      } catch (err) {
        retryAt = Date.now() + retryDelay;
        log(`logs: file lines not taken (${(err as Error).message}); retrying in ${retryDelay} ms`);
        retryDelay = Math.min(retryDelay * 2, 30_000);
        return;
      }
      retryDelay = 1_000;
      queue.splice(0, batch.length);
      for (const e of batch) {
        e.tail.queued -= 1;
        e.tail.committed = e.generation === e.tail.generation ? e.end : 0;
      }
      save();
    }
  };

  const tick = async (): Promise<void> => {
    const now = Date.now();
    await check(now);
    if (now >= nextScan) {
      await rescan(now);
      nextScan = now + rescanMs;
    }
    const byAge = openTails().sort((a, b) => opened.get(a)! - opened.get(b)!);
    for (const t of byAge) {
      if (queue.length >= batchMax * 4) break;
      try {
        queue.push(...(await t.read(READ_PER_POLL, now)));
      } catch (err) {
        log(`logs: cannot read ${t.path}: ${(err as Error).message}`);
      }
      queue.push(
        ...t.quiet(now, multilineMs, t.draining ? Math.min(partialMs, drainMs) : partialMs),
      );
    }
    await deliver(now);
    for (const t of [...drains]) {
      if (t.atEnd && !t.holding && t.queued === 0 && now - t.lastDataAt >= drainMs) {
        drains.splice(drains.indexOf(t), 1);
        await t.close();
        save();
      }
    }
  };

  const loop = (): void => {
    if (stopped) return;
    running = tick()
      .catch((err: unknown) => log(`logs: file source: ${(err as Error).message}`))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, pollMs);
      });
  };

  return {
    description: `files ${opts.globs.join(', ')}`,
    start(s) {
      sink = s;
      saved = positions.load()?.files;
      hadState = saved !== undefined;
      loop();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      if (sink) save();
      for (const t of openTails()) await t.close();
      tails.clear();
      drains.length = 0;
    },
  };
}
