import type { AgentView } from '@vigil/protocol';
import { fieldsOf, type CheckDocument } from '@vigil/protocol/decode';
import { VigilError } from '../errors.js';
import type { IngestEvent } from '../events/types.js';
import {
  MAINTENANCE_OPEN_ENDED,
  type HostListing,
  type HostRow,
  type LivenessRow,
} from './service.js';

/** A host's status: online if any approved agent is, pending if all are, unknown with none. */
export type HostStatus = 'online' | 'offline' | 'pending' | 'unknown';

/** Counts of a host's plugin checks by current state. */
export interface CheckCounts {
  ok: number;
  warning: number;
  critical: number;
  unknown: number;
}

/** What the fleet overview reads of telemetry, for every host at once. Declared where used. */
export interface FleetTelemetry {
  /**
   * Every host's figures from memory: its newest push (head series values in `series` order,
   * NaN where absent) and the averages of its 1-minute buckets with
   * `from <= bucket < to`. Hosts with nothing in memory are absent.
   */
  fleetRecent(
    from: number,
    to: number,
  ): Promise<
    Map<
      string,
      {
        latest: { ts: number; values: Float64Array } | undefined;
        buckets: ReadonlyMap<number, Float64Array>;
      }
    >
  >;
  /** Every host's counts of checks by state (one query). */
  checkCounts(): Promise<Map<string, CheckCounts>>;
}

/**
 * A host's compliance rule states counted by status: `passing` pass, `failing` fail, `errors`
 * error, `not_applicable`, `total` all of them; `score` is passing / (passing + failing), null
 * with neither.
 */
export interface ComplianceCounts {
  passing: number;
  failing: number;
  errors: number;
  not_applicable: number;
  total: number;
  score: number | null;
}

/** What the overview reads of compliance. Declared where used; the compliance domain has it. */
export interface FleetCompliance {
  /**
   * The counts of these hosts' current rule states (of the loaded packs), of the rules of
   * `framework` when given (a pack id, or text one of a rule's references' frameworks contains;
   * any case), with the newest evaluation counted (epoch ms). One query for the whole set;
   * hosts without a counted state are absent.
   */
  summaries(
    hostIds: readonly string[],
    framework: string | null,
  ): Promise<Map<string, ComplianceCounts & { evaluatedAt: number | null }>>;
}

/** Whether a host answers: as last probed, `unknown` without an address, `never_probed` before its first probe. */
export type LivenessState = 'reachable' | 'unreachable' | 'unknown' | 'never_probed';

/**
 * One host in the fleet overview (`GET /api/v1/hosts`). Times are RFC 3339. `hostname` is
 * `name` again, under OpenWatch's word; `ip_address` is the address agentless access uses.
 */
export interface HostOverview {
  id: string;
  name: string;
  hostname: string;
  display_name: string | null;
  ip_address: string | null;
  port: number | null;
  environment: string | null;
  tags: string[];
  description: string | null;
  group_id: string | null;
  username: string | null;
  maintenance: { enabled: boolean; until: string | null; reason: string | null };
  liveness: {
    state: LivenessState;
    checked_at: string | null;
    consecutive_failures: number;
    response_ms: number | null;
  };
  /**
   * The compliance summary of the host's current rule states, of the rules of `framework` when
   * one is asked for (echoed, or null); `total` counts every state, `evaluated_at` is RFC 3339.
   */
  compliance: ComplianceCounts & { framework: string | null; evaluated_at: string | null };
  created_at: string;
  status: HostStatus;
  agents: { id: string; name: string; kind: string; status: string; version: string | null }[];
  os: {
    name: string | null;
    family: string | null;
    version: string | null;
    kernel: string | null;
    architecture: string | null;
  };
  uptime_seconds: number | null;
  last_seen: string | null;
  latest: {
    cpu_percent: number | null;
    memory_percent: number | null;
    swap_percent: number | null;
    disk_percent: number | null;
    load1: number | null;
    net_rx_bytes_per_second: number | null;
    net_tx_bytes_per_second: number | null;
  };
  checks: CheckCounts;
  sparklines: {
    cpu: (number | null)[];
    memory: (number | null)[];
    disk: (number | null)[];
    network: (number | null)[];
  };
}

/** Points of a sparkline: the last 30 minutes, one a minute. */
export const SPARKLINE_POINTS = 30;
const MINUTE = 60_000;

/** What the overview reads of the hosts and agents domains. Declared where used. */
export interface FleetDirectory {
  /** Every host as lists match and sort it. */
  listing(): Promise<HostListing[]>;
  /** The hosts with these ids. */
  byIds(ids: string[]): Promise<HostRow[]>;
  /** Every agent as the agents list shows it, with its status. */
  agents(): Promise<AgentView[]>;
  /** Every host's liveness, by host id. */
  liveness(): Promise<Map<string, LivenessRow>>;
}

/** A page of the host list: `cursor` continues after the last host of the previous page. */
export interface HostListQuery {
  q?: string;
  status?: HostStatus;
  environment?: string;
  tag?: string;
  /** The compliance framework of every item's summary. */
  framework?: string;
  cursor?: string;
  limit?: number;
}

/** The cursor after a host: its name, opaque to clients. */
const cursorOf = (name: string): string => Buffer.from(`n:${name}`, 'utf8').toString('base64url');

/** The name a cursor continues after. @throws VigilError bad_data for a cursor not made here. */
function afterOf(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith('n:') || cursorOf(text.slice(2)) !== cursor)
    throw new VigilError('bad_data', 'cursor: not a cursor of this list', {
      code: 'validation_failed',
    });
  return text.slice(2);
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A figure for JSON: null for NaN and infinities, two decimal places. */
const figure = (v: number | undefined): number | null =>
  v === undefined || !Number.isFinite(v) ? null : Math.round(v * 100) / 100;

/** A text fact, null when empty. */
const fact = (v: string | undefined): string | null => (v ? v : null);

/** Agents by the host they run on; agents without a host are left out. */
function agentsByHost(agents: AgentView[]): Map<string, AgentView[]> {
  const byHost = new Map<string, AgentView[]>();
  for (const a of agents) {
    if (a.host_id === null) continue;
    const list = byHost.get(a.host_id);
    if (list) list.push(a);
    else byHost.set(a.host_id, [a]);
  }
  return byHost;
}

/**
 * The fleet overview: every host with its status, system, newest figures, check counts,
 * compliance summary and sparklines, from a bounded number of reads for the whole fleet (hosts,
 * agents, check counts, and telemetry's memory) and one for the page's compliance, whatever its
 * size. What each host's newest document says about its
 * system is kept from the ingest event (`observe`, constant time per push).
 */
export function createFleetOverview(deps: {
  directory: FleetDirectory;
  telemetry: FleetTelemetry;
  compliance: FleetCompliance;
  /** Where the head series sit in telemetry's values (tsdb/format.ts `HEAD_SERIES`). */
  series: readonly string[];
  now: () => number;
}) {
  const { directory, telemetry, compliance, now } = deps;
  const at = (name: string) => deps.series.indexOf(name);
  const CPU = at('cpu_usage_percent');
  const MEM = at('memory_usage_percent');
  const SWAP = at('swap_usage_percent');
  const DISK = at('disk_usage_percent');
  const LOAD1 = at('load1');
  const RX = at('net_rx_bytes_per_second');
  const TX = at('net_tx_bytes_per_second');
  /** The agent section of each host's newest document, as ingested by this process. */
  const systems = new Map<string, CheckDocument['agent']>();

  function statusOf(agents: AgentView[]): HostStatus {
    if (agents.length === 0) return 'unknown';
    if (agents.some((a) => a.status === 'online')) return 'online';
    if (agents.every((a) => a.status === 'pending')) return 'pending';
    return 'offline';
  }

  /** What one answer reads for the whole fleet: a bounded number of reads, whatever its size. */
  async function readFleet() {
    const t = now();
    const last = Math.floor(t / MINUTE) * MINUTE;
    const first = last - (SPARKLINE_POINTS - 1) * MINUTE;
    const [agents, figures, checks, liveness] = await Promise.all([
      directory.agents(),
      telemetry.fleetRecent(first, last + MINUTE),
      telemetry.checkCounts(),
      directory.liveness(),
    ]);
    return { t, first, last, byHost: agentsByHost(agents), figures, checks, liveness };
  }
  type Fleet = Awaited<ReturnType<typeof readFleet>>;

  type Summaries = Awaited<ReturnType<FleetCompliance['summaries']>>;

  /** A host's compliance summary from what was read of its page. */
  function summaryOf(summaries: Summaries, id: string, framework: string | null) {
    const s = summaries.get(id);
    return {
      framework,
      passing: s?.passing ?? 0,
      failing: s?.failing ?? 0,
      errors: s?.errors ?? 0,
      not_applicable: s?.not_applicable ?? 0,
      total: s?.total ?? 0,
      score: s?.score ?? null,
      evaluated_at: iso(s?.evaluatedAt ?? null),
    };
  }

  /** A host's overview from what was read of the fleet and of its page's compliance. */
  function render(
    fleet: Fleet,
    h: HostRow,
    summaries: Summaries,
    framework: string | null,
  ): HostOverview {
    const { t, first, last, byHost, figures, checks, liveness } = fleet;
    const mine = byHost.get(h.id) ?? [];
    const f = figures.get(h.id);
    const spark = (pick: (avg: Float64Array) => number) => {
      const points: (number | null)[] = [];
      for (let b = first; b <= last; b += MINUTE) {
        const avg = f?.buckets.get(b);
        points.push(avg ? figure(pick(avg)) : null);
      }
      return points;
    };
    // The newest push from memory; for a host that has not pushed since this process
    // started, its newest minute kept.
    let values = f?.latest?.values;
    if (!values && f)
      for (let b = last; b >= first && !values; b -= MINUTE) values = f.buckets.get(b);
    const agentSection = fieldsOf(systems.get(h.id));
    const reporting = mine.find((a) => a.os !== null) ?? mine[0];
    const seen = mine
      .map((a) => (a.last_seen === null ? -Infinity : Date.parse(a.last_seen)))
      .reduce((a, b) => Math.max(a, b), -Infinity);
    const live = liveness.get(h.id);
    const maintenance = h.maintenance_until !== null && h.maintenance_until > t;
    return {
      id: h.id,
      name: h.name,
      hostname: h.name,
      display_name: h.display_name,
      ip_address: h.address,
      port: h.port,
      environment: h.environment,
      tags: h.tags,
      description: h.description,
      group_id: h.group_id,
      username: h.username,
      maintenance: {
        enabled: maintenance,
        until:
          maintenance && h.maintenance_until !== MAINTENANCE_OPEN_ENDED
            ? iso(h.maintenance_until)
            : null,
        reason: maintenance ? h.maintenance_reason : null,
      },
      liveness: {
        state: live ? live.state : h.address === null ? 'unknown' : 'never_probed',
        checked_at: iso(live?.checked_at ?? null),
        consecutive_failures: live?.consecutive_failures ?? 0,
        response_ms: live?.response_ms ?? null,
      },
      compliance: summaryOf(summaries, h.id, framework),
      created_at: new Date(h.created_at).toISOString(),
      status: statusOf(mine),
      agents: mine.map((a) => ({
        id: a.id,
        name: a.name,
        kind: a.kind,
        status: a.status,
        version: a.version,
      })),
      os: {
        name: fact(agentSection.system) ?? reporting?.os ?? null,
        family: fact(agentSection.family),
        version: fact(agentSection.mac_version),
        kernel: fact(agentSection.kernel_version),
        architecture: fact(agentSection.goarch) ?? reporting?.architecture ?? null,
      },
      uptime_seconds: figure(agentSection.system_uptime ?? undefined),
      last_seen: Number.isFinite(seen) ? new Date(seen).toISOString() : null,
      latest: {
        cpu_percent: figure(values?.[CPU]),
        memory_percent: figure(values?.[MEM]),
        swap_percent: figure(values?.[SWAP]),
        disk_percent: figure(values?.[DISK]),
        load1: figure(values?.[LOAD1]),
        net_rx_bytes_per_second: figure(values?.[RX]),
        net_tx_bytes_per_second: figure(values?.[TX]),
      },
      checks: checks.get(h.id) ?? { ok: 0, warning: 0, critical: 0, unknown: 0 },
      sparklines: {
        cpu: spark((a) => a[CPU]!),
        memory: spark((a) => a[MEM]!),
        disk: spark((a) => a[DISK]!),
        network: spark((a) => a[RX]! + a[TX]!),
      },
    };
  }

  return {
    /** Keeps what a new document says about its host's system (an ingest event subscriber). */
    observe(e: IngestEvent): void {
      if (e.doc.agent !== undefined) systems.set(e.hostId, e.doc.agent);
    },

    /**
     * Hosts by name, filtered by a substring of the name, display name or address (`q`,
     * case-insensitive), status, environment and tag, at most `limit` after `cursor`; `total`
     * counts every host that matched; `next_cursor` continues the list, null at its end. The
     * page's compliance summaries (of `framework` when given) are one read for the page.
     * @throws VigilError bad_data for a cursor not made here.
     */
    async list(
      q: HostListQuery,
    ): Promise<{ items: HostOverview[]; total: number; next_cursor: string | null }> {
      const limit = q.limit ?? 100;
      // The query layer lets some non-finite numbers through (`-1e999`).
      if (!Number.isSafeInteger(limit) || limit < 1)
        throw new VigilError('bad_data', 'limit: must be an integer from 1 to 5000', {
          code: 'validation_failed',
        });
      const needle = q.q?.toLowerCase();
      const after = q.cursor === undefined ? undefined : afterOf(q.cursor);
      const [fleet, listing] = await Promise.all([readFleet(), directory.listing()]);
      // Matching reads a few columns of every host (and agents' status); only the page is read
      // in full and rendered.
      const all = listing
        .filter(
          (h) =>
            (!needle ||
              h.name.toLowerCase().includes(needle) ||
              (h.display_name?.toLowerCase().includes(needle) ?? false) ||
              (h.address?.toLowerCase().includes(needle) ?? false)) &&
            (q.environment === undefined || h.environment === q.environment) &&
            (q.tag === undefined || h.tags.includes(q.tag)) &&
            (q.status === undefined || statusOf(fleet.byHost.get(h.id) ?? []) === q.status),
        )
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const start = after === undefined ? 0 : all.findIndex((h) => h.name > after);
      const rest = start < 0 ? [] : all.slice(start);
      const page = rest.slice(0, limit);
      const last = page[page.length - 1];
      const ids = page.map((h) => h.id);
      const framework = q.framework ?? null;
      const [found, summaries] = await Promise.all([
        directory.byIds(ids),
        compliance.summaries(ids, framework),
      ]);
      const rows = new Map(found.map((r) => [r.id, r]));
      return {
        items: page.flatMap((h) => {
          const row = rows.get(h.id);
          return row ? [render(fleet, row, summaries, framework)] : [];
        }),
        total: all.length,
        next_cursor: rest.length > page.length && last ? cursorOf(last.name) : null,
      };
    },

    /**
     * How many hosts are in each status, and how many of them are in maintenance now: a few
     * columns of every host and every agent's status, whatever the fleet's size.
     */
    async statusCounts(): Promise<
      Record<HostStatus, number> & { total: number; maintenance: number }
    > {
      const t = now();
      const [agents, listing] = await Promise.all([directory.agents(), directory.listing()]);
      const byHost = agentsByHost(agents);
      const out = { total: 0, online: 0, offline: 0, pending: 0, unknown: 0, maintenance: 0 };
      for (const h of listing) {
        out.total += 1;
        out[statusOf(byHost.get(h.id) ?? [])] += 1;
        if (h.maintenance_until !== null && h.maintenance_until > t) out.maintenance += 1;
      }
      return out;
    },

    /**
     * One host; `framework` names the compliance framework its summary is for.
     * @throws VigilError not_found (`host.not_found`).
     */
    async get(id: string, framework?: string): Promise<HostOverview> {
      const [fleet, [host], summaries] = await Promise.all([
        readFleet(),
        directory.byIds([id]),
        compliance.summaries([id], framework ?? null),
      ]);
      if (!host) throw new VigilError('not_found', `no host ${id}`, { code: 'host.not_found' });
      return render(fleet, host, summaries, framework ?? null);
    },
  };
}

/** The fleet overview. */
export type FleetOverview = ReturnType<typeof createFleetOverview>;
