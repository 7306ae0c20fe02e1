import {
  createContext,
  useContext,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from 'react';

/** The live stream's connection, as the header shows it. */
export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'off';

/** A handler of one event type of `/api/v1/stream`; `data` is the parsed JSON. */
type Handler = (data: unknown) => void;

/**
 * The one connection of the console to `GET /api/v1/stream` (Server-Sent Events). Screens
 * subscribe to event types (`metrics`, `agent`, `enrollment`, `alert`) and update their cached queries;
 * nothing polls. A lost connection is retried with backoff and resumes after the last event seen
 * (`last_event_id`), so no event is missed while the server kept it.
 */
class Stream {
  status: StreamStatus = 'off';
  private source: EventSource | null = null;
  private lastId: string | null = null;
  private handlers = new Map<string, Set<Handler>>();
  private statusListeners = new Set<() => void>();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private wanted = false;

  private setStatus(s: StreamStatus): void {
    this.status = s;
    for (const l of this.statusListeners) l();
  }

  start(): void {
    this.wanted = true;
    if (this.source) return;
    this.setStatus(this.failures === 0 ? 'connecting' : 'reconnecting');
    const url = this.lastId
      ? `/api/v1/stream?last_event_id=${encodeURIComponent(this.lastId)}`
      : '/api/v1/stream';
    const es = new EventSource(url, { withCredentials: true });
    this.source = es;
    es.onopen = () => {
      this.failures = 0;
      this.setStatus('live');
    };
    es.onerror = () => {
      // The browser's own retry keeps no backoff and cannot tell a refused stream from a lost
      // one: close and retry here, doubling the wait up to 30 s.
      es.close();
      this.source = null;
      if (!this.wanted) return;
      this.failures += 1;
      this.setStatus('reconnecting');
      const wait = Math.min(30_000, 1000 * 2 ** Math.min(this.failures - 1, 5));
      this.retryTimer = setTimeout(() => this.start(), wait);
    };
    for (const type of this.handlers.keys()) this.listen(es, type);
  }

  stop(): void {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
    this.setStatus('off');
  }

  private listen(es: EventSource, type: string): void {
    es.addEventListener(type, (ev) => {
      const me = ev as MessageEvent<string>;
      if (me.lastEventId) this.lastId = me.lastEventId;
      let data: unknown;
      try {
        data = JSON.parse(me.data);
      } catch {
        return;
      }
      for (const h of this.handlers.get(type) ?? []) h(data);
    });
  }

  subscribe(type: string, h: Handler): () => void {
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
      if (this.source) this.listen(this.source, type);
    }
    set.add(h);
    return () => set.delete(h);
  }

  onStatus = (l: () => void): (() => void) => {
    this.statusListeners.add(l);
    return () => this.statusListeners.delete(l);
  };
}

const StreamContext = createContext<Stream | null>(null);

/** Opens the stream while mounted (only for callers that may read hosts: `enabled`). */
export function StreamProvider({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  const [stream] = useState(() => new Stream());
  useEffect(() => {
    if (!enabled) return;
    stream.start();
    return () => stream.stop();
  }, [stream, enabled]);
  return <StreamContext.Provider value={stream}>{children}</StreamContext.Provider>;
}

/** The stream's connection state. */
export function useStreamStatus(): StreamStatus {
  const s = useContext(StreamContext);
  return useSyncExternalStore(s?.onStatus ?? (() => () => undefined), () => s?.status ?? 'off');
}

/**
 * Calls `handler` with each event of `type` while mounted. The latest handler is used, so it may
 * close over fresh state without resubscribing.
 */
export function useStreamEvent(
  type: 'metrics' | 'agent' | 'enrollment' | 'alert',
  handler: Handler,
): void {
  const s = useContext(StreamContext);
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => s?.subscribe(type, (d) => ref.current(d)), [s, type]);
}
