import { auditRow, type AuditEntry, type AuditStore, type RequestContext } from './service.js';

/** Runs `fn` in one transaction: all of its writes commit together or not at all. */
export type Transact<S> = <T>(fn: (stores: S) => Promise<T>) => Promise<T>;

/**
 * The audit event of a mutation under way. It starts as the context and entry given to
 * `audited`; the mutation completes it with what it learns as it runs (the id it created, the
 * detail of what changed, the user a token belongs to), or skips it when it changed nothing.
 */
export interface AuditDraft {
  /** Who acts, and the request's correlation id and source address. */
  ctx: RequestContext;
  /** What is recorded. */
  entry: {
    action: string;
    resourceType?: string;
    resourceId?: string;
    detail?: Record<string, unknown>;
  };
  /** Records no event for this run (the mutation found nothing to change). */
  skip(): void;
}

/**
 * Runs an audited mutation: `fn` in one transaction, then its audit event (`ctx` and `entry` as
 * `fn` left them in the draft) in the same transaction, so that the change and its record commit
 * together or not at all. What `fn` returns is returned; when `fn` throws, nothing is written.
 */
export type Audited<S> = <T>(
  ctx: RequestContext,
  entry: AuditEntry,
  fn: (stores: S, draft: AuditDraft) => Promise<T>,
) => Promise<T>;

/**
 * The `audited` helper of a domain, on its unit of work (`transact`, whose stores include the
 * audit store bound to the same transaction) and its clock. Every audited mutation goes through
 * it: a service builds it once, `const audited = createAudited(deps.transact, deps.now)`, and
 * writes each mutation as `audited(ctx, { action, resourceType, resourceId }, async (s, draft)
 * => { ...; draft.entry.detail = {...}; return result; })`.
 */
export function createAudited<S extends { audit: AuditStore }>(
  transact: Transact<S>,
  now: () => number,
): Audited<S> {
  return (ctx, entry, fn) =>
    transact(async (stores) => {
      let skipped = false;
      const draft: AuditDraft = {
        ctx,
        entry: { ...entry },
        skip: () => {
          skipped = true;
        },
      };
      const result = await fn(stores, draft);
      if (!skipped) await stores.audit.insert(auditRow(draft.ctx, draft.entry, now()));
      return result;
    });
}
