import { randomUUID } from 'node:crypto';
import type { ActorType, AuditEvent } from '@vigil/protocol';
import { VigilError } from '../errors.js';

/** Who performs a request, as the audit log records it. */
export interface Actor {
  readonly type: ActorType;
  readonly id: string | null;
  readonly label: string | null;
  /** The OAuth client (`client_id`) a user acts through, if any. */
  readonly via?: string;
}

/** What every mutation needs to know about the request that caused it. */
export interface RequestContext {
  readonly actor: Actor;
  readonly correlationId: string | null;
  readonly sourceAddress: string | null;
}

/** The system itself as an actor (start-up bootstrap, CLI commands, scheduled work). */
export const SYSTEM_ACTOR: Actor = { type: 'system', id: null, label: 'vigil' };

/** A context for work that no request caused. */
export const systemContext = (label = 'vigil'): RequestContext => ({
  actor: { ...SYSTEM_ACTOR, label },
  correlationId: null,
  sourceAddress: null,
});

/** What a mutation reports about itself. */
export interface AuditEntry {
  readonly action: string;
  readonly resourceType?: string;
  readonly resourceId?: string;
  readonly detail?: Record<string, unknown>;
}

/** A stored audit event, timestamps in epoch milliseconds. */
export interface AuditRow {
  id: string;
  occurred_at: number;
  actor_type: string;
  actor_id: string | null;
  actor_label: string | null;
  action: string;
  resource_type: string | null;
  resource_id: string | null;
  correlation_id: string | null;
  source_address: string | null;
  detail: string;
  redactions: string;
  actor_client: string | null;
}

/** Filters of an audit query; `before` is the keyset position of the previous page's last row. */
export interface AuditFilter {
  action?: string;
  /** Only events whose action starts with one of these. */
  actionPrefixes?: readonly string[];
  correlationId?: string;
  actorType?: string;
  resourceType?: string;
  resourceId?: string;
  sinceMs?: number;
  untilMs?: number;
  before?: { occurredAt: number; id: string };
  limit: number;
}

/** Where audit events are kept. */
export interface AuditStore {
  insert(row: AuditRow): Promise<void>;
  /** Newest first; returns at most `filter.limit` rows. */
  list(filter: AuditFilter): Promise<AuditRow[]>;
}

const SECRET_KEY = /pass(word)?|secret|token|otp|private|authorization|api_?key|credential/i;

/**
 * Removes secret-looking keys from a detail object, at any depth, and returns the cleaned copy
 * with the dotted paths of what was removed.
 */
export function redact(detail: Record<string, unknown>): {
  clean: Record<string, unknown>;
  redactions: string[];
} {
  const redactions: string[] = [];
  const walk = (v: unknown, at: string): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${at}[${i}]`));
    if (typeof v !== 'object' || v === null) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const p = at ? `${at}.${k}` : k;
      if (SECRET_KEY.test(k)) redactions.push(p);
      else out[k] = walk(x, p);
    }
    return out;
  };
  return { clean: walk(detail, '') as Record<string, unknown>, redactions };
}

/** Builds the row for one audit event; the caller inserts it in the mutation's transaction. */
export function auditRow(ctx: RequestContext, entry: AuditEntry, nowMs: number): AuditRow {
  const { clean, redactions } = redact(entry.detail ?? {});
  return {
    id: randomUUID(),
    occurred_at: nowMs,
    actor_type: ctx.actor.type,
    actor_id: ctx.actor.id,
    actor_label: ctx.actor.label,
    action: entry.action,
    resource_type: entry.resourceType ?? null,
    resource_id: entry.resourceId ?? null,
    correlation_id: ctx.correlationId,
    source_address: ctx.sourceAddress,
    detail: JSON.stringify(clean),
    redactions: JSON.stringify(redactions),
    actor_client: ctx.actor.via ?? null,
  };
}

/** The public form of a stored row. */
export function toAuditEvent(row: AuditRow): AuditEvent {
  return {
    id: row.id,
    occurred_at: new Date(row.occurred_at).toISOString(),
    actor_type: row.actor_type as ActorType,
    actor_id: row.actor_id,
    actor_label: row.actor_label,
    actor_client: row.actor_client,
    action: row.action,
    resource_type: row.resource_type,
    resource_id: row.resource_id,
    correlation_id: row.correlation_id,
    source_address: row.source_address,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
    redactions: JSON.parse(row.redactions) as string[],
  };
}

/** Signs and checks opaque cursors so that a client cannot forge a position. */
export interface CursorCodec {
  encode(payload: unknown): string;
  /** Returns undefined for a cursor that was not made by `encode` with the same key. */
  decode(cursor: string): unknown;
}

/** The audit log's query side. */
export const createAuditService = (deps: { store: AuditStore; cursors: CursorCodec }) => ({
  /**
   * Lists events newest first.
   * @throws VigilError bad_data for an inverted time range or a cursor that was tampered with.
   */
  async list(q: {
    action?: string;
    correlation_id?: string;
    actor_type?: string;
    resource_type?: string;
    resource_id?: string;
    since?: string;
    until?: string;
    limit?: number;
    cursor?: string;
  }): Promise<{ items: AuditEvent[]; next_cursor: string | null }> {
    const limit = q.limit ?? 50;
    const sinceMs = q.since === undefined ? undefined : Date.parse(q.since);
    const untilMs = q.until === undefined ? undefined : Date.parse(q.until);
    if (sinceMs !== undefined && untilMs !== undefined && sinceMs > untilMs)
      throw new VigilError('bad_data', 'since must not be after until', {
        code: 'validation_failed',
      });
    let before: AuditFilter['before'];
    if (q.cursor !== undefined) {
      const decoded = deps.cursors.decode(q.cursor);
      if (
        !Array.isArray(decoded) ||
        decoded.length !== 2 ||
        typeof decoded[0] !== 'number' ||
        typeof decoded[1] !== 'string'
      )
        throw new VigilError('bad_data', 'the cursor is not valid for this query', {
          code: 'pagination.cursor_invalid',
        });
      before = { occurredAt: decoded[0], id: decoded[1] };
    }
    const rows = await deps.store.list({
      action: q.action,
      correlationId: q.correlation_id,
      actorType: q.actor_type,
      resourceType: q.resource_type,
      resourceId: q.resource_id,
      sinceMs,
      untilMs,
      before,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toAuditEvent),
      next_cursor:
        rows.length > limit && last ? deps.cursors.encode([last.occurred_at, last.id]) : null,
    };
  },
});

/** The audit service's type. */
export type AuditService = ReturnType<typeof createAuditService>;
