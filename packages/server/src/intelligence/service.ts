import type { CursorCodec } from '../audit/service.js';
import { VigilError } from '../errors.js';
import { INTEL_KINDS, type IntelKind, type IntelligenceStore } from './model.js';
import { parseState, portSubject } from './observe.js';

/** What the reads need of hosts. Declared where used. */
export interface IntelligenceHosts {
  /** A live host; undefined when absent or deleted. */
  get(id: string): Promise<{ id: string } | undefined>;
}

/** One event as the API renders it. */
export interface IntelEventItem {
  id: string;
  host_id: string;
  host_name: string | null;
  kind: IntelKind;
  subject: string;
  detail: Record<string, unknown>;
  /** RFC 3339. */
  at: string;
}

/** A host's state as the API renders it. */
export interface HostIntelState {
  host_id: string;
  updated_at: string | null;
  kernel: string | null;
  boot_time: string | null;
  packages: {
    count: number;
    updated_at: string | null;
    items: { name: string; version: string }[];
  };
  listening_ports: {
    subject: string;
    protocol: string;
    address: string;
    port: number;
    process: string | null;
    pid: number | null;
  }[];
  accounts: {
    name: string;
    uid: number | null;
    gid: number | null;
    home: string | null;
    shell: string | null;
  }[];
  failed_units: string[];
}

/** The prefixes a `kind` filter may name (`package` matches every `package.*`). */
export const KIND_PREFIXES = [...new Set(INTEL_KINDS.map((k) => k.split('.')[0]!))];

const invalid = (message: string) =>
  new VigilError('bad_data', message, { code: 'validation_failed' });

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** An epoch-ms time from an RFC 3339 parameter, or undefined when absent. */
function timeOf(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalid(`${field}: not an RFC 3339 time`);
  return ms;
}

/** The kinds a `kind` filter names: one kind, or every kind of a prefix. */
function kindsOf(kind: string | undefined): readonly string[] | undefined {
  if (kind === undefined) return undefined;
  if ((INTEL_KINDS as readonly string[]).includes(kind)) return [kind];
  const matching = INTEL_KINDS.filter((k) => k.startsWith(`${kind}.`));
  if (matching.length === 0)
    throw invalid(
      `kind: unknown ${kind} (one of ${INTEL_KINDS.join(', ')}, or a prefix: ${KIND_PREFIXES.join(', ')})`,
    );
  return matching;
}

/**
 * Host intelligence's reads (`/api/v1/intelligence/…`): the events of what changed on hosts,
 * newest first with a cursor, and a host's last known state.
 */
export const createIntelligenceReads = (deps: {
  store: IntelligenceStore;
  hosts: IntelligenceHosts;
  cursors: CursorCodec;
}) => ({
  /**
   * One page of events, newest first; `next_cursor` continues after the last.
   * @throws VigilError bad_data for an unknown kind, a bad or inverted time range, or a cursor
   * not made here.
   */
  async events(q: {
    host_id?: string;
    kind?: string;
    since?: string;
    until?: string;
    cursor?: string;
    limit?: number;
  }): Promise<{ events: IntelEventItem[]; next_cursor: string | null }> {
    const limit = q.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200)
      throw invalid('limit: must be an integer from 1 to 200');
    const kinds = kindsOf(q.kind);
    const sinceMs = timeOf('since', q.since);
    const untilMs = timeOf('until', q.until);
    if (sinceMs !== undefined && untilMs !== undefined && sinceMs > untilMs)
      throw invalid('since must not be after until');
    let beforeId: number | undefined;
    if (q.cursor !== undefined) {
      const d = deps.cursors.decode(q.cursor);
      if (!Array.isArray(d) || d[0] !== 'intel' || !Number.isSafeInteger(d[1]))
        throw new VigilError('bad_data', 'the cursor is not valid for this query', {
          code: 'pagination.cursor_invalid',
        });
      beforeId = d[1] as number;
    }
    const rows = await deps.store.events({
      hostId: q.host_id,
      kinds,
      sinceMs,
      untilMs,
      beforeId,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      events: page.map((r) => ({
        id: String(r.id),
        host_id: r.host_id,
        host_name: r.host_name,
        kind: r.kind as IntelKind,
        subject: r.subject,
        detail: JSON.parse(r.detail) as Record<string, unknown>,
        at: new Date(r.at).toISOString(),
      })),
      next_cursor: rows.length > limit && last ? deps.cursors.encode(['intel', last.id]) : null,
    };
  },

  /**
   * What host intelligence last knew of a host; empty (nulls and empty lists) before its first
   * document.
   * @throws VigilError not_found for an unknown or deleted host.
   */
  async state(hostId: string): Promise<HostIntelState> {
    if (!(await deps.hosts.get(hostId)))
      throw new VigilError('not_found', `no host ${hostId}`, { code: 'host.not_found' });
    const row = await deps.store.state(hostId);
    const s = row ? parseState(row.state) : undefined;
    const packages = Object.entries(s?.packages ?? {}).map(([name, version]) => ({
      name,
      version,
    }));
    return {
      host_id: hostId,
      updated_at: iso(row?.updated_at ?? null),
      kernel: s?.kernel ?? null,
      boot_time: iso(s?.boot_time ?? null),
      packages: {
        count: packages.length,
        updated_at: iso(s?.packages_at ?? null),
        items: packages,
      },
      listening_ports: (s?.ports ?? []).map((p) => ({
        subject: portSubject(p),
        protocol: p.protocol,
        address: p.address,
        port: p.port,
        process: p.process ?? null,
        pid: p.pid ?? null,
      })),
      accounts: (s?.accounts ?? []).map((a) => ({
        name: a.name,
        uid: a.uid ?? null,
        gid: a.gid ?? null,
        home: a.home ?? null,
        shell: a.shell ?? null,
      })),
      failed_units: s?.failed_units ?? [],
    };
  },
});

/** Host intelligence's reads. */
export type IntelligenceReads = ReturnType<typeof createIntelligenceReads>;
