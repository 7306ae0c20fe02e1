import type { SyslogStats } from '../../logs/syslog/listener.js';
import {
  CounterFn,
  DURATION_BUCKETS,
  Gauge,
  Histogram,
  LOOP_DELAY_BUCKETS,
  watchEventLoop,
  type MetricsRegistry,
} from './registry.js';

/** What the server metrics read of ingest: its counters, and every host's latest values. */
export interface IngestStatistics {
  statistics(): {
    pushes: number;
    samples: number;
    duplicates: number;
    batches: number;
    droppedFields: number;
    queued: number;
  };
  /** A host's latest values as (series key, value) pairs; undefined when it has none. */
  current(hostId: string): Promise<{ values: readonly (readonly [string, number])[] } | undefined>;
}

/** What the server metrics ask the hosts domain: every host, a page at a time. */
export interface HostPages {
  /** Up to `limit` hosts with an id after `after`, in id order (`''` starts at the first). */
  page(after: string, limit: number): Promise<readonly { id: string }[]>;
}

/** What the server metrics read of the live stream. */
export interface StreamStatistics {
  statistics(): { clients: number; dropped: number };
}

/** What the server metrics read of the agents: each one's status. */
export interface AgentLister {
  list(): Promise<readonly { status: string }[]>;
}

/**
 * Registers the server's histograms: HTTP request durations, ingest commit durations, and the
 * event loop's delay, which is watched from now on until `stopLoopWatch` is called.
 */
export function registerServerHistograms(registry: MetricsRegistry): {
  requestSeconds: Histogram;
  commitSeconds: Histogram;
  stopLoopWatch: () => void;
} {
  const requestSeconds = registry.register(
    new Histogram(
      'vigil_http_request_duration_seconds',
      'Time to answer HTTP requests, by method, route and status class.',
      DURATION_BUCKETS,
    ),
  );
  const commitSeconds = registry.register(
    new Histogram(
      'vigil_db_commit_duration_seconds',
      'Time of each ingest group commit (one transaction for many pushes).',
      DURATION_BUCKETS,
    ),
  );
  const stopLoopWatch = watchEventLoop(
    registry.register(
      new Histogram(
        'nodejs_eventloop_delay_seconds',
        'How late the event loop ran a timer due every 20 ms: how long synchronous work, a collection or a blocking disk sync held every request up.',
        LOOP_DELAY_BUCKETS,
      ),
    ),
  );
  return { requestSeconds, commitSeconds, stopLoopWatch };
}

/** The server's own gauges, read at each scrape, and (optionally) every host's latest values. */
export function registerServerMetrics(
  registry: MetricsRegistry,
  deps: {
    telemetry: IngestStatistics;
    hosts: HostPages;
    stream: StreamStatistics;
    agents: AgentLister;
    exposeHosts: boolean;
    /** The log ingest's group commits, lines stored and pushes waiting. */
    logs?: () => { groups: number; stored: number; queued: number };
    /** The syslog listener's counters, while it runs. */
    syslog?: () => SyslogStats | undefined;
    /** Pushes the alert rules judged, and the event-loop time that took. */
    evaluation?: { readonly pushes: number; readonly seconds: number };
  },
): void {
  const t = () => deps.telemetry.statistics();
  const g = (name: string, help: string, read: () => number) =>
    registry.register(new Gauge(name, help, () => [{ value: read() }]));
  const c = (name: string, help: string, read: () => number) =>
    registry.register(new CounterFn(name, help, read));
  c('vigil_ingest_pushes_total', 'Check-data documents ingested since start.', () => t().pushes);
  c('vigil_ingest_samples_total', 'Numeric samples ingested since start.', () => t().samples);
  c(
    'vigil_ingest_duplicates_total',
    'Documents received again and not stored twice.',
    () => t().duplicates,
  );
  c('vigil_ingest_batches_total', 'Group commits since start.', () => t().batches);
  c(
    'vigil_ingest_dropped_fields_total',
    'Fields of check-data documents dropped for having the wrong type, since start.',
    () => t().droppedFields,
  );
  const logs = deps.logs;
  if (logs) {
    c('vigil_logs_lines_total', 'Log lines stored since start.', () => logs().stored);
    c('vigil_logs_commits_total', 'Group commits of log lines since start.', () => logs().groups);
    g('vigil_logs_queue_depth', 'Log pushes waiting for their group commit.', () => logs().queued);
  }
  const syslog = deps.syslog;
  if (syslog) {
    const s = (read: (x: SyslogStats) => number) => () => {
      const now = syslog();
      return now ? read(now) : 0;
    };
    c(
      'vigil_syslog_received_total',
      'Syslog lines received since start.',
      s((x) => x.received),
    );
    c(
      'vigil_syslog_stored_total',
      'Syslog lines stored since start.',
      s((x) => x.stored),
    );
    c(
      'vigil_syslog_dropped_queue_full_total',
      'Syslog datagrams dropped because the queue was full, since start.',
      s((x) => x.droppedQueueFull),
    );
    c(
      'vigil_syslog_dropped_failed_total',
      'Syslog lines dropped because storing them failed three times, since start.',
      s((x) => x.droppedFailed),
    );
    c(
      'vigil_syslog_refused_connections_total',
      'Syslog TCP connections refused at the connection limit, since start.',
      s((x) => x.refusedConnections),
    );
    g(
      'vigil_syslog_connections',
      'Syslog TCP connections open now.',
      s((x) => x.connections),
    );
  }
  const ev = deps.evaluation;
  if (ev) {
    c(
      'vigil_alert_evaluations_total',
      'Pushes judged by the alert rules, since start.',
      () => ev.pushes,
    );
    c(
      'vigil_alert_evaluation_seconds_total',
      'Event-loop time spent judging pushes by the alert rules, since start.',
      () => ev.seconds,
    );
  }
  g('vigil_ingest_queue_depth', 'Pushes waiting for their group commit.', () => t().queued);
  g(
    'vigil_stream_clients',
    'Open live-stream (SSE) connections.',
    () => deps.stream.statistics().clients,
  );
  c(
    'vigil_stream_events_dropped_total',
    'Stream events not delivered to subscribers that could not keep up, since start.',
    () => deps.stream.statistics().dropped,
  );
  g('process_resident_memory_bytes', 'Resident memory of the server process.', () =>
    process.memoryUsage.rss(),
  );
  g('nodejs_heap_used_bytes', 'V8 heap in use.', () => process.memoryUsage().heapUsed);
  c('process_cpu_seconds_total', 'CPU time of the server process.', () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
  registry.addExtra(async () => {
    const counts = new Map<string, number>();
    for (const a of await deps.agents.list()) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
    return new Gauge('vigil_agents', 'Agents by status.', () =>
      ['online', 'offline', 'pending', 'rejected', 'revoked'].map((status) => ({
        labels: { status },
        value: counts.get(status) ?? 0,
      })),
    ).render();
  });
  if (deps.exposeHosts)
    registry.addExtra(async () => {
      const families = new Map<string, string[]>();
      for (let after = ''; ;) {
        const page = await deps.hosts.page(after, 500);
        for (const { id: hostId } of page) {
          const cur = await deps.telemetry.current(hostId);
          for (const [key, value] of cur?.values ?? []) {
            const brace = key.indexOf('{');
            const metric = `vigil_host_${brace < 0 ? key : key.slice(0, brace)}`;
            const labels = brace < 0 ? '' : `,${key.slice(brace + 1, -1)}`;
            const lines = families.get(metric) ?? [];
            lines.push(
              `${metric}{host_id="${hostId.replace(/["\\\n]/g, '_')}"${labels}} ${Number.isFinite(value) ? value : 'NaN'}`,
            );
            families.set(metric, lines);
          }
        }
        if (page.length < 500) break;
        after = page[page.length - 1]!.id;
      }
      let out = '';
      for (const [metric, lines] of families) {
        // Series named `…_total` are the agents' counters since boot.
        const type = metric.endsWith('_total') ? 'counter' : 'gauge';
        out += `# HELP ${metric} Latest value reported by each host.\n# TYPE ${metric} ${type}\n${lines.join('\n')}\n`;
      }
      return out;
    });
}
