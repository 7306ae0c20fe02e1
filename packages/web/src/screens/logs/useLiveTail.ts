import { useEffect, useRef, useState } from 'react';
import type { LogEntry } from './queries';

/** Most live lines kept in memory; older ones are dropped from the bottom of the live section. */
export const LIVE_CAP = 2_000;

/** The live tail's connection, as the explorer shows it. */
export type TailStatus = 'off' | 'connecting' | 'live' | 'reconnecting';

/** Whether a parsed event looks like a log entry (the stream is trusted, the JSON is checked). */
const isEntry = (x: unknown): x is LogEntry =>
  typeof x === 'object' &&
  x !== null &&
  typeof (x as LogEntry).id === 'string' &&
  typeof (x as LogEntry).message === 'string' &&
  typeof (x as LogEntry).timestamp === 'string';

/**
 * The live tail of `GET /api/v1/logs/stream` (`event: log`, one line each, `id:` its id) with
 * the search's filters (`params`), while `enabled`: new lines, newest first, at most LIVE_CAP.
 * While `paused` the stream stays open and new lines wait (counted in `waiting`) until resumed.
 * The browser's EventSource sends the session cookie, as the console's main stream does; a lost
 * connection resumes after the last line seen, so no line is shown twice or missed while the
 * server kept it.
 */
export function useLiveTail(params: Record<string, string>, enabled: boolean, paused: boolean) {
  const [rows, setRows] = useState<LogEntry[]>([]);
  const [waiting, setWaiting] = useState(0);
  const [status, setStatus] = useState<TailStatus>('off');
  const held = useRef<LogEntry[]>([]);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const key = new URLSearchParams(params).toString();

  // Resuming shows what waited.
  useEffect(() => {
    if (paused || held.current.length === 0) return;
    const batch = held.current;
    held.current = [];
    setWaiting(0);
    setRows((r) => [...batch, ...r].slice(0, LIVE_CAP));
  }, [paused]);

  useEffect(() => {
    setRows([]);
    held.current = [];
    setWaiting(0);
    if (!enabled) {
      setStatus('off');
      return;
    }
    let source: EventSource | null = null;
    let lastId: string | null = null;
    let failures = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let frame = 0;
    let incoming: LogEntry[] = [];
    const seen = new Set<string>();
    // Lines are shown once per frame, however fast they come.
    const flush = () => {
      frame = 0;
      const batch = incoming;
      incoming = [];
      if (pausedRef.current) {
        held.current = [...batch, ...held.current].slice(0, LIVE_CAP);
        setWaiting(held.current.length);
      } else setRows((r) => [...batch, ...r].slice(0, LIVE_CAP));
    };
    const onData = (ev: MessageEvent<string>) => {
      if (ev.lastEventId) lastId = ev.lastEventId;
      let data: unknown;
      try {
        data = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (!isEntry(data) || seen.has(data.id)) return;
      // Only a resumed connection repeats lines; the set is bounded all the same.
      if (seen.size > 4 * LIVE_CAP) seen.clear();
      seen.add(data.id);
      // The stream sends oldest first; the explorer shows newest first.
      incoming = [data, ...incoming];
      if (!frame) frame = requestAnimationFrame(flush);
    };
    const open = () => {
      setStatus(failures === 0 ? 'connecting' : 'reconnecting');
      const q = new URLSearchParams(params);
      if (lastId) q.set('last_event_id', lastId);
      const es = new EventSource(`/api/v1/logs/stream?${q.toString()}`, { withCredentials: true });
      source = es;
      es.onopen = () => {
        failures = 0;
        setStatus('live');
      };
      es.addEventListener('log', onData as EventListener);
      es.onerror = () => {
        failures += 1;
        setStatus('reconnecting');
        // A dropped connection is retried by the browser, which sends Last-Event-ID itself.
        if (es.readyState !== EventSource.CLOSED) return;
        // A refused one (an answer other than the stream) is not: retried here, with a growing
        // wait, from the last line seen.
        es.close();
        source = null;
        timer = setTimeout(open, Math.min(30_000, 1000 * 2 ** Math.min(failures - 1, 5)));
      };
    };
    open();
    return () => {
      clearTimeout(timer);
      if (frame) cancelAnimationFrame(frame);
      source?.close();
    };
    // `key` stands for `params`, whose object changes on every render.
  }, [key, enabled]);

  return { rows, waiting, status };
}
