// What the live stream (`GET /api/v1/stream`) says about hosts, and how the fleet's cached list
// follows it. The stream's event bodies are not part of the OpenAPI document (it describes the
// stream as text/event-stream), so their shapes are declared here, as the server's Tyto face
// writes them, and read defensively: a field may be null.
import type { QueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { Answer } from '../../api/types';

/** The fleet list as `GET /api/v1/hosts` answers it. */
export type HostList = Answer<'/api/v1/hosts'>;
/** One host of the fleet list. */
export type HostOverview = HostList['items'][number];

/** The query key of the fleet list. */
export const HOSTS_KEY = ['hosts'] as const;

/** Every host of the fleet: the list read page by page (5,000 a page) to its end. */
export async function fetchFleet(): Promise<HostList> {
  const items: HostOverview[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await unwrap(
      api.GET('/api/v1/hosts', {
        params: { query: { limit: 5000, ...(cursor ? { cursor } : {}) } },
      }),
    );
    items.push(...page.items);
    if (!page.next_cursor) return { items, total: page.total, next_cursor: null };
    cursor = page.next_cursor;
  }
}

type N = number | null;

/** `event: metrics`: the figures of one new document of an agent (Tyto's metrics structure). */
export interface MetricsEvent {
  timestamp: string | null;
  agent_id: string;
  host_id: string;
  system?: { uptime: N; kernel: string | null };
  cpu?: {
    cores: { id: number; usage: N }[];
    totalUsage: N;
    loadAverage: { one: N; five: N; fifteen: N };
  };
  memory?: { total: N; used: N; available: N; swapTotal: N; swapUsed: N };
  disk?: {
    mounts: { mountpoint: string | null; total: N; used: N; free: N }[];
    io: { device: string; readRate: N; writeRate: N }[];
  };
  network?: { interfaces: { name: string; rxRate: N; txRate: N }[] };
  temperature?: { sensors: { name: string | null; value: N }[] };
  gpu?: { gpus: { index: N; utilization: N; memoryUsed: N; temperature: N }[] };
}

/** `event: agent`: an agent's status changed. */
export interface AgentEvent {
  agent_id: string;
  host_id: string | null;
  status: string;
  previous_status: string | null;
  at: string;
}

/** `event: enrollment`: an agent asked to enroll or was decided. */
export interface EnrollmentEvent {
  agent_id: string;
  status: 'pending' | 'approved' | 'rejected';
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A used/total share in percent, or null when either is unknown. */
const share = (used: N, total: N): number | null =>
  used !== null && total !== null && total > 0 ? (used / total) * 100 : null;

/** The host-level figures of a metrics event, as the fleet list names them. */
export function latestOf(e: MetricsEvent): HostOverview['latest'] {
  const m = e.memory;
  const mounts = e.disk?.mounts ?? [];
  let disk: number | null = null;
  for (const d of mounts) {
    // As the agent reports it: used of used plus free (the root reserve is not usable space).
    const p = share(
      num(d.used),
      num(d.used) !== null && num(d.free) !== null ? d.used! + d.free! : null,
    );
    if (p !== null && (disk === null || p > disk)) disk = p;
  }
  let rx: number | null = null;
  let tx: number | null = null;
  for (const i of e.network?.interfaces ?? []) {
    // Loopback is this host talking to itself, as the server's host-level series leave it out.
    if (i.name === 'lo') continue;
    if (num(i.rxRate) !== null) rx = (rx ?? 0) + i.rxRate!;
    if (num(i.txRate) !== null) tx = (tx ?? 0) + i.txRate!;
  }
  const total = num(m?.total);
  const available = num(m?.available);
  return {
    cpu_percent: num(e.cpu?.totalUsage),
    memory_percent: total !== null && available !== null ? share(total - available, total) : null,
    swap_percent: share(num(m?.swapUsed), num(m?.swapTotal)),
    disk_percent: disk,
    load1: num(e.cpu?.loadAverage.one),
    net_rx_bytes_per_second: rx,
    net_tx_bytes_per_second: tx,
  };
}

/**
 * The status of a host from its agents', as the server derives it: online when any agent is,
 * pending when all are, unknown with none, offline otherwise.
 */
export function hostStatus(agents: HostOverview['agents']): HostOverview['status'] {
  if (agents.length === 0) return 'unknown';
  if (agents.some((a) => a.status === 'online')) return 'online';
  if (agents.every((a) => a.status === 'pending')) return 'pending';
  return 'offline';
}

/** Running one-minute averages of each host's newest sparkline point. */
const minuteState = new Map<string, { minute: number; n: number }>();

/** Adds a value to a sparkline: into the current minute's average, or as a new minute. */
function pushPoint(
  line: readonly N[],
  v: N,
  minute: number,
  state: { minute: number; n: number },
): N[] {
  const out = [...line];
  if (minute === state.minute) {
    const last = out[out.length - 1] ?? null;
    if (v !== null) out[out.length - 1] = last === null ? v : (last * state.n + v) / (state.n + 1);
    return out;
  }
  // New minutes: shift the line left, leaving gaps for minutes without data.
  const steps = Math.min(out.length, Math.max(1, minute - state.minute));
  for (let i = 0; i < steps; i++) {
    out.shift();
    out.push(null);
  }
  out[out.length - 1] = v;
  return out;
}

/** A host of the list updated by a metrics event: newest figures, sparklines, uptime, status. */
export function applyMetrics(h: HostOverview, e: MetricsEvent, listAt: number): HostOverview {
  const latest = latestOf(e);
  const at = e.timestamp ? Date.parse(e.timestamp) : Date.now();
  const minute = Math.floor(at / 60_000);
  const state = minuteState.get(h.id) ?? { minute: Math.floor(listAt / 60_000), n: 1 };
  const network =
    latest.net_rx_bytes_per_second === null && latest.net_tx_bytes_per_second === null
      ? null
      : (latest.net_rx_bytes_per_second ?? 0) + (latest.net_tx_bytes_per_second ?? 0);
  const s = h.sparklines;
  const sparklines =
    minute < state.minute
      ? s
      : {
          cpu: pushPoint(s.cpu, latest.cpu_percent, minute, state),
          memory: pushPoint(s.memory, latest.memory_percent, minute, state),
          disk: pushPoint(s.disk, latest.disk_percent, minute, state),
          network: pushPoint(s.network, network, minute, state),
        };
  if (minute === state.minute) state.n += 1;
  else if (minute > state.minute) {
    state.minute = minute;
    state.n = 1;
  }
  minuteState.set(h.id, state);
  const agents = h.agents.map((a) =>
    a.id === e.agent_id && a.status === 'offline' ? { ...a, status: 'online' } : a,
  );
  return {
    ...h,
    latest,
    sparklines,
    agents,
    status: hostStatus(agents),
    uptime_seconds: num(e.system?.uptime) ?? h.uptime_seconds,
    last_seen: e.timestamp ?? h.last_seen,
  };
}

/**
 * Applies a batch of stream events to the cached fleet list in one update (a fleet of a
 * thousand hosts sends hundreds of events a second: one list copy per batch, not per event).
 * Returns whether the list lacks a host the events name, so the caller refetches it.
 */
export function applyBatch(
  qc: QueryClient,
  metrics: readonly MetricsEvent[],
  agents: readonly AgentEvent[],
): boolean {
  const list = qc.getQueryData<HostList>(HOSTS_KEY);
  if (!list) return false;
  const listAt = qc.getQueryState(HOSTS_KEY)?.dataUpdatedAt ?? Date.now();
  const index = new Map(list.items.map((h, i) => [h.id, i]));
  const items = [...list.items];
  let missing = false;
  for (const e of metrics) {
    const i = index.get(e.host_id);
    if (i === undefined) missing = true;
    else items[i] = applyMetrics(items[i]!, e, listAt);
  }
  for (const e of agents) {
    const i = e.host_id === null ? undefined : index.get(e.host_id);
    const h = i === undefined ? undefined : items[i];
    if (!h || !h.agents.some((a) => a.id === e.agent_id)) {
      missing = true;
      continue;
    }
    const updated = h.agents.map((a) => (a.id === e.agent_id ? { ...a, status: e.status } : a));
    items[i!] = { ...h, agents: updated, status: hostStatus(updated) };
  }
  qc.setQueryData<HostList>(HOSTS_KEY, { ...list, items });
  return missing;
}
