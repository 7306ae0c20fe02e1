import type { ServerResponse } from 'node:http';
import { VigilError } from '../../errors.js';
import type { EventBus } from '../../events/bus.js';
import {
  AGENT_STATUS_TOPIC,
  ALERT_TOPIC,
  type AlertEvent,
  ENROLLMENT_TOPIC,
  INGEST_TOPIC,
  type AgentStatusEvent,
  type EnrollmentEvent,
  type IngestEvent,
} from '../../events/types.js';
import { tytoMetrics } from './metrics.js';

/**
 * One event of the stream. Its text is rendered when a subscriber first receives it: events kept
 * only for a subscriber that may come back (after a restart, say) cost nothing until it does.
 */
interface Frame {
  id: number;
  agentId: string;
  event: IngestEvent | undefined;
  text: string | undefined;
  /** Sent only to subscribers allowed to read alerts (`event: alert`). */
  alertsOnly?: boolean;
}

/** The frame's SSE text, rendered once; the event is let go then. */
function textOf(f: Frame): string {
  if (f.text === undefined) {
    const e = f.event!;
    f.text = `id: ${f.id}\nevent: metrics\ndata: ${JSON.stringify(tytoMetrics(e.doc, e))}\n\n`;
    f.event = undefined;
  }
  return f.text;
}

interface Client {
  res: ServerResponse;
  agentId: string | undefined;
  identity: string;
  /** Whether it may read alerts (`alerts:read`, decided when it connected). */
  alerts: boolean;
  /** Whether it may read hosts' data and agents' changes (`host:read`). */
  hosts: boolean;
  blocked: boolean;
  dropped: number;
}

/** Settings of the live stream. */
export interface StreamPolicy {
  /** Frames kept for `Last-Event-ID` resumption. */
  bufferFrames: number;
  heartbeatMs: number;
  maxConnectionsPerIdentity: number;
}

/**
 * The live stream (Tyto's `GET /api/v1/stream`): every new document becomes one `metrics` event,
 * serialised once and written to each subscriber it concerns; agents' status changes and
 * enrollments become `agent` and `enrollment` events, and alerts' changes `alert` events (only
 * for subscribers allowed to read alerts), in the same sequence of ids. A subscriber
 * that cannot keep up (its socket buffer is full) misses events, which are counted, instead of
 * having them queued without bound; recent events are kept for resumption with `Last-Event-ID`.
 */
export function createStreamHub(deps: {
  bus: EventBus;
  policy: StreamPolicy;
  /** The clock event ids start from (epoch ms). */
  now?: () => number;
}) {
  const { policy } = deps;
  const now = deps.now ?? Date.now;
  const clients = new Set<Client>();
  const perIdentity = new Map<string, number>();
  const ring: Frame[] = [];
  /**
   * Ids go on from where a previous process left off without anything stored: they start at
   * the clock in microseconds and count up by one, so a client resuming after a restart with a
   * `Last-Event-ID` of the old process gets exactly what the new one sent. That holds while a
   * process sends fewer events than it has lived microseconds (a million a second), and for
   * some 250 years before the ids pass 2^53.
   */
  let nextId = now() * 1000;
  let dropped = 0;
  let delivered = 0;

  /**
   * When the last subscriber left; events are still buffered for a while, for its return. A
   * fresh process counts as just left: the subscribers of the one before it come back.
   */
  let lastClientAt = now();
  const RESUME_WINDOW_MS = 60_000;

  /**
   * Whether anyone listens or may come back to resume. Once nobody can, the buffered events are
   * let go: a fleet's worth of documents kept for nobody is tens of megabytes.
   */
  const listened = () => {
    if (clients.size > 0 || now() - lastClientAt <= RESUME_WINDOW_MS) return true;
    ring.length = 0;
    return false;
  };

  function emit(frame: Frame): void {
    ring.push(frame);
    if (ring.length > policy.bufferFrames) ring.shift();
    for (const c of clients) send(c, frame);
  }

  deps.bus.subscribe<IngestEvent>(INGEST_TOPIC, (e) => {
    // Without listeners, recent or current, there is nobody to serve or resume: skip the work.
    if (!listened()) return;
    emit({ id: nextId++, agentId: e.agentId, event: e, text: undefined });
  });

  /** A rare event (an agent's status, an enrollment): rendered at once. */
  function emitNow(event: string, agentId: string, data: object, alertsOnly = false): void {
    if (!listened()) return;
    const id = nextId++;
    emit({
      id,
      agentId,
      event: undefined,
      text: `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`,
      alertsOnly,
    });
  }

  deps.bus.subscribe<AgentStatusEvent>(AGENT_STATUS_TOPIC, (e) =>
    emitNow('agent', e.agentId, {
      agent_id: e.agentId,
      host_id: e.hostId,
      status: e.status,
      previous_status: e.previousStatus,
      at: new Date(e.at).toISOString(),
    }),
  );
  deps.bus.subscribe<EnrollmentEvent>(ENROLLMENT_TOPIC, (e) =>
    emitNow('enrollment', e.agentId, {
      agent_id: e.agentId,
      name: e.name,
      hostname: e.hostname,
      kind: e.kind,
      status: e.status,
      at: new Date(e.at).toISOString(),
    }),
  );

  // An alert's change, for those who may read alerts; an alert raised by no agent has none.
  deps.bus.subscribe<AlertEvent>(ALERT_TOPIC, (e) =>
    emitNow('alert', e.alert.agent_id ?? '', { alert: e.alert, transition: e.transition }, true),
  );

  function send(c: Client, frame: Frame): void {
    if (frame.alertsOnly ? !c.alerts : !c.hosts) return;
    if (c.agentId !== undefined && c.agentId !== frame.agentId) return;
    if (c.blocked) {
      c.dropped += 1;
      dropped += 1;
      return;
    }
    delivered += 1;
    if (!c.res.write(textOf(frame))) {
      c.blocked = true;
      c.res.once('drain', () => {
        c.blocked = false;
      });
    }
  }

  const heartbeat = setInterval(() => {
    for (const c of clients) if (!c.blocked) c.res.write(': heartbeat\n\n');
  }, policy.heartbeatMs);
  heartbeat.unref();

  return {
    /**
     * Serves one subscriber on `res` until it disconnects: replays the buffered events after
     * `lastEventId`, then streams. @throws VigilError too_many_requests over the per-identity cap.
     */
    attach(
      res: ServerResponse,
      opts: {
        identity: string;
        agentId?: string;
        lastEventId?: number;
        headers: Record<string, string>;
        /** Whether the subscriber may read alerts (gets `event: alert`). */
        alerts?: boolean;
        /** Whether it gets the other events (`host:read`); true when not given. */
        hosts?: boolean;
      },
    ): void {
      const open = perIdentity.get(opts.identity) ?? 0;
      if (open >= policy.maxConnectionsPerIdentity)
        throw new VigilError(
          'too_many_requests',
          `at most ${policy.maxConnectionsPerIdentity} streams per user are allowed`,
          { code: 'stream.too_many', headers: { 'retry-after': '5' } },
        );
      perIdentity.set(opts.identity, open + 1);
      res.writeHead(200, {
        ...opts.headers,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const c: Client = {
        res,
        agentId: opts.agentId,
        identity: opts.identity,
        alerts: opts.alerts === true,
        hosts: opts.hosts !== false,
        blocked: false,
        dropped: 0,
      };
      // Tell the client how long to wait before reconnecting, then replay what it missed.
      res.write('retry: 3000\n\n');
      if (opts.lastEventId !== undefined) {
        const first = ring[0]?.id;
        if (first !== undefined && opts.lastEventId < first - 1)
          res.write(': some events since Last-Event-ID are no longer buffered\n\n');
        for (const f of ring) if (f.id > opts.lastEventId) send(c, f);
      }
      clients.add(c);
      res.once('close', () => {
        clients.delete(c);
        lastClientAt = now();
        const n = (perIdentity.get(c.identity) ?? 1) - 1;
        if (n <= 0) perIdentity.delete(c.identity);
        else perIdentity.set(c.identity, n);
      });
    },

    /** Counters, for `/metrics` and tests; `queuedBytes` is the most any subscriber has pending. */
    statistics: () => ({
      clients: clients.size,
      dropped,
      delivered,
      buffered: ring.length,
      queuedBytes: Math.max(0, ...[...clients].map((c) => c.res.writableLength)),
    }),

    /** Ends every stream (the server stops). */
    close(): void {
      clearInterval(heartbeat);
      for (const c of clients) c.res.end();
      clients.clear();
    },
  };
}

/** The stream hub. */
export type StreamHub = ReturnType<typeof createStreamHub>;
