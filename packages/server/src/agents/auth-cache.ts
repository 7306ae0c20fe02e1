import type { AgentRow } from './model.js';

/**
 * The agent rows that requests authenticate against, cached. Agents authenticate on every push:
 * every change made through the agents services drops the cache, so a revocation takes effect at
 * the next request. The time limit only bounds how long a change made outside this process goes
 * unseen; it is well above the agents' interval, or a fleet reporting every 10 s would miss the
 * cache on every push. (Several server processes will need a shared invalidation signal.)
 */
export interface AgentAuthCache {
  /** The cached row, or a promise of it loaded (a hit needs no turn of the event loop). */
  cached(
    key: string,
    load: () => Promise<AgentRow | undefined>,
  ): AgentRow | Promise<AgentRow | undefined>;
  /** Forgets every row. */
  clear(): void;
}

const AUTH_TTL_MS = 300_000;

/** An in-process authentication cache of at most 100,000 rows. */
export function createAgentAuthCache(): AgentAuthCache {
  const rows = new Map<string, { row: AgentRow; at: number }>();
  // Bumped by every clear: a row loaded across a change (read before a revocation committed,
  // answered after) is returned to its request but not kept for the ones after it.
  let generation = 0;
  return {
    cached(key, load) {
      const hit = rows.get(key);
      const t = Date.now();
      if (hit && t - hit.at < AUTH_TTL_MS) return hit.row;
      const started = generation;
      return load().then((row) => {
        if (started !== generation) return row;
        if (row) rows.set(key, { row, at: t });
        else rows.delete(key);
        if (rows.size > 100_000) rows.clear();
        return row;
      });
    },
    clear: () => {
      generation += 1;
      rows.clear();
    },
  };
}
