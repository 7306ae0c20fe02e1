import type { ServerResponse } from 'node:http';
import { VigilError } from '../errors.js';
import type { EventBus } from '../events/bus.js';
import { LOGS_TOPIC, type LogsEvent } from '../events/types.js';
import type { LogEntryItem, LogFilter } from './model.js';
import { messageMatcher } from './query-language.js';

/** Settings of the live tail. */
export interface LogTailPolicy {
  heartbeatMs: number;
  maxConnectionsPerIdentity: number;
  /**
   * Bytes a subscriber may have waiting in its socket buffer; one that falls further behind is
   * disconnected (it resumes with `Last-Event-ID`), so a slow reader never grows memory.
   */
  maxBufferedBytes: number;
  /** Most lines replayed after a `Last-Event-ID`. */
  replayMax: number;
}

interface Client {
  res: ServerResponse;
  identity: string;
  match(e: LogEntryItem): boolean;
  /** The id of the last line sent. */
  lastSent: number;
  /** Lines that arrived during the replay, sent after it; undefined once live. */
  pending: LogEntryItem[] | undefined;
}

/** Whether a line satisfies a filter, as the store would select it. */
export function entryMatcher(f: LogFilter): (e: LogEntryItem) => boolean {
  const text = messageMatcher(f.terms ?? []);
  const levels = f.levels && f.levels.length > 0 ? new Set<string>(f.levels) : undefined;
  return (e) => {
    if (f.agent_id !== undefined && e.agent_id !== f.agent_id) return false;
    if (f.host_id !== undefined && e.host_id !== f.host_id) return false;
    if (f.source !== undefined && e.source !== f.source) return false;
    if (f.source_name !== undefined && e.source_name !== f.source_name) return false;
    if (levels && !levels.has(e.level)) return false;
    if (f.from !== undefined || f.to !== undefined) {
      const t = Date.parse(e.timestamp);
      if (f.from !== undefined && t < f.from) return false;
      if (f.to !== undefined && t > f.to) return false;
    }
    return text(e.message);
  };
}

/** The SSE text of a line. */
const frameOf = (e: LogEntryItem) => `id: ${e.id}\nevent: log\ndata: ${JSON.stringify(e)}\n\n`;

/**
 * The live tail of log lines (`GET /api/v1/logs/stream`): each committed line that matches a
 * subscriber's filter is one `log` event, its id the line's id. A subscriber that resumes with
 * `Last-Event-ID` first gets the stored lines after it (bounded), then the live ones, without
 * gap or repeat. Only subscribed to the bus while someone listens.
 */
export function createLogTail(deps: {
  bus: EventBus;
  /** Stored lines matching a filter after an id, oldest first, at most `limit`. */
  replay(filter: LogFilter, after: number, limit: number): Promise<LogEntryItem[]>;
  policy: LogTailPolicy;
}) {
  const { policy } = deps;
  const clients = new Set<Client>();
  const perIdentity = new Map<string, number>();
  let unsubscribe: (() => void) | undefined;
  let sent = 0;
  let disconnected = 0;

  /** Writes a line to a client; disconnects it when it has fallen too far behind. */
  function write(c: Client, e: LogEntryItem, text: string): void {
    if (c.res.writableLength > policy.maxBufferedBytes) {
      disconnected += 1;
      drop(c);
      c.res.destroy();
      return;
    }
    c.res.write(text);
    c.lastSent = Number(e.id);
    sent += 1;
  }

  function onLogs(event: LogsEvent): void {
    for (const e of event.entries) {
      let text: string | undefined;
      for (const c of clients) {
        if (!c.match(e)) continue;
        if (c.pending) {
          if (c.pending.length >= policy.replayMax) {
            disconnected += 1;
            drop(c);
            c.res.destroy();
          } else c.pending.push(e);
          continue;
        }
        write(c, e, (text ??= frameOf(e)));
      }
    }
  }

  function drop(c: Client): void {
    if (!clients.delete(c)) return;
    const n = (perIdentity.get(c.identity) ?? 1) - 1;
    if (n <= 0) perIdentity.delete(c.identity);
    else perIdentity.set(c.identity, n);
    if (clients.size === 0 && unsubscribe) {
      unsubscribe();
      unsubscribe = undefined;
    }
  }

  const heartbeat = setInterval(() => {
    for (const c of clients) if (c.res.writableLength === 0) c.res.write(': heartbeat\n\n');
  }, policy.heartbeatMs);
  heartbeat.unref();

  return {
    /**
     * Serves one subscriber on `res` until it disconnects: replays the stored lines after
     * `lastEventId` (at most `replayMax`, then a comment says lines were skipped), then streams.
     * @throws VigilError too_many_requests over the per-identity cap.
     */
    async attach(
      res: ServerResponse,
      opts: {
        identity: string;
        filter: LogFilter;
        lastEventId?: number;
        headers: Record<string, string>;
      },
    ): Promise<void> {
      const open = perIdentity.get(opts.identity) ?? 0;
      if (open >= policy.maxConnectionsPerIdentity)
        throw new VigilError(
          'too_many_requests',
          `at most ${policy.maxConnectionsPerIdentity} log streams per user are allowed`,
          { code: 'stream.too_many', headers: { 'retry-after': '5' } },
        );
      perIdentity.set(opts.identity, open + 1);
      const c: Client = {
        res,
        identity: opts.identity,
        match: entryMatcher(opts.filter),
        lastSent: opts.lastEventId ?? 0,
        pending: opts.lastEventId !== undefined ? [] : undefined,
      };
      clients.add(c);
      unsubscribe ??= deps.bus.subscribe<LogsEvent>(LOGS_TOPIC, onLogs);
      res.once('close', () => drop(c));
      res.writeHead(200, {
        ...opts.headers,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 3000\n\n');
      if (opts.lastEventId === undefined) return;
      try {
        const stored = await deps.replay(opts.filter, opts.lastEventId, policy.replayMax);
        for (const e of stored) if (clients.has(c)) write(c, e, frameOf(e));
        if (stored.length >= policy.replayMax && clients.has(c))
          res.write(': more lines since Last-Event-ID than are replayed; later ones follow\n\n');
      } catch {
        res.write(': the lines since Last-Event-ID could not be read\n\n');
      }
      const pending = c.pending ?? [];
      c.pending = undefined;
      for (const e of pending)
        if (clients.has(c) && Number(e.id) > c.lastSent) write(c, e, frameOf(e));
    },

    /** Counters, for tests and metrics. */
    statistics: () => ({ clients: clients.size, sent, disconnected }),

    /** Ends every stream (the server stops). */
    close(): void {
      clearInterval(heartbeat);
      for (const c of [...clients]) {
        drop(c);
        c.res.end();
      }
    },
  };
}

/** The live tail. */
export type LogTail = ReturnType<typeof createLogTail>;
