import { createAudited, type Transact } from '../audit/audited.js';
import type { AuditEntry, AuditStore, RequestContext } from '../audit/service.js';
import type { AgentPatch, AgentRow } from './model.js';

/** The agents table as a mutation writes it, within the mutation's transaction. */
export interface AgentWriter {
  /** Returns undefined when absent. */
  get(id: string): Promise<AgentRow | undefined>;
  insert(row: AgentRow): Promise<void>;
  update(id: string, patch: AgentPatch): Promise<void>;
  /** Returns false when there was no such agent. */
  remove(id: string): Promise<boolean>;
  /** Sets a value of the `settings` table. */
  setSetting(key: string, value: string): Promise<void>;
}

/** What the agents domain asks the hosts domain, within a mutation's transaction. */
export interface HostFinder {
  /** The id of the host named `name`, created at `at` (epoch ms) when there is none. */
  hostFor(name: string, at: number): Promise<string>;
}

/** The stores a mutation writes to, within one transaction. */
export interface AgentStores {
  agents: AgentWriter;
  audit: AuditStore;
  hosts: HostFinder;
}

/** Something that keeps agent rows and must forget them when agents change. */
export interface AuthCacheInvalidation {
  clear(): void;
}

/** Applies a change with its audit event, in one transaction. */
export type Mutate = (
  ctx: RequestContext,
  entry: AuditEntry,
  fn: (s: AgentStores) => Promise<void>,
) => Promise<void>;

/**
 * The one way the agents services change agents: `fn` and the audit event in one transaction,
 * and the authentication cache dropped before and after, so that a change (a revocation above
 * all) takes effect at the agent's very next request.
 */
export function createMutator(deps: {
  transact: Transact<AgentStores>;
  authCache: AuthCacheInvalidation;
  now: () => number;
}): Mutate {
  const audited = createAudited(deps.transact, deps.now);
  return async (ctx, entry, fn) => {
    deps.authCache.clear();
    await audited(ctx, entry, (s) => fn(s));
    deps.authCache.clear();
  };
}
