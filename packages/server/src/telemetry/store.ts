import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { chunks } from './chunks.js';
import { MAX_DATE_MS } from './iso-time.js';
import type { TelemetryStore } from './service.js';

/** A stored time as a number when a Date can hold it; -Infinity for none, text or damage. */
function usableTime(v: unknown): number {
  const t = v === null || v === undefined ? NaN : Number(v);
  return Number.isFinite(t) && Math.abs(t) <= MAX_DATE_MS ? t : -Infinity;
}

/** The telemetry store (what is not the tsdb's) on the shared query layer. */
export const createTelemetryStore = (db: Kysely<Database>): TelemetryStore => ({
  async touchAgents(seen) {
    // One statement per slice: the agents and their times as a table of values.
    for (const part of chunks(seen, 400)) {
      const values = sql.join(part.map((s) => sql`(${s.agentId}, cast(${s.at} as bigint))`));
      await sql`with v(id, at) as (values ${values})
        update agents set last_seen = v.at from v
        where agents.id = v.id and (agents.last_seen is null or agents.last_seen < v.at)`.execute(
        db,
      );
    }
  },

  async checkStates(hostId) {
    const rows = await db
      .selectFrom('check_states')
      .selectAll()
      .where('host_id', '=', hostId)
      .execute();
    return rows.map((r) => ({
      name: r.name,
      state: {
        state: Number(r.state),
        stateType: r.state_type,
        attempt: Number(r.attempt),
        hardState: Number(r.hard_state),
        lastCheck: Number(r.last_check),
        lastStateChange: Number(r.last_state_change),
        lastHardChange: Number(r.last_hard_change),
        output: r.output,
        perfdata: r.perfdata,
      },
    }));
  },

  async checkHistory(hostId, name, from, to, limit) {
    const rows = await db
      .selectFrom('check_history')
      .select(['ts', 'state', 'state_type', 'attempt', 'output'])
      .where('host_id', '=', hostId)
      .where('name', '=', name)
      .where('ts', '>=', from)
      .where('ts', '<', to)
      .orderBy('ts', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      ts: Number(r.ts),
      state: Number(r.state),
      stateType: r.state_type,
      attempt: Number(r.attempt),
      output: r.output,
    }));
  },

  async saveInventory(agentId, receivedAt, inventory) {
    await db
      .insertInto('agent_inventories')
      .values({ agent_id: agentId, received_at: receivedAt, inventory })
      .onConflict((oc) => oc.column('agent_id').doUpdateSet({ received_at: receivedAt, inventory }))
      .execute();
  },

  async inventoryOfHost(hostId) {
    const r = await db
      .selectFrom('agent_inventories as i')
      .innerJoin('agents as a', 'a.id', 'i.agent_id')
      .select(['i.agent_id', 'i.received_at', 'i.inventory'])
      .where('a.host_id', '=', hostId)
      .orderBy('i.received_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r
      ? { agent_id: r.agent_id, received_at: Number(r.received_at), inventory: r.inventory }
      : undefined;
  },

  async checkStateCounts() {
    const rows = await db
      .selectFrom('check_states')
      .select((eb) => ['host_id', 'state', eb.fn.countAll<number>().as('n')])
      .groupBy(['host_id', 'state'])
      .execute();
    return rows.map((r) => ({ hostId: r.host_id, state: Number(r.state), count: Number(r.n) }));
  },

  async failingChecks(limit) {
    // Hosts that are deleted or disabled are out of every view.
    const rows = await db
      .selectFrom('check_states')
      .innerJoin('hosts', 'hosts.id', 'check_states.host_id')
      .select((eb) => [
        'check_states.name',
        eb.fn.countAll<number>().as('hosts'),
        eb.fn
          .sum<number>(eb.case().when('check_states.state', '=', 1).then(1).else(0).end())
          .as('warning'),
        eb.fn
          .sum<number>(eb.case().when('check_states.state', '=', 2).then(1).else(0).end())
          .as('critical'),
      ])
      .where('check_states.state_type', '=', 'hard')
      .where('check_states.state', '<>', 0)
      .where('hosts.deleted_at', 'is', null)
      .where('hosts.disabled', '=', 0)
      .groupBy('check_states.name')
      .orderBy('hosts', 'desc')
      .orderBy('check_states.name')
      .limit(limit)
      .execute();
    return rows.map((r) => {
      const hosts = Number(r.hosts);
      const warning = Number(r.warning);
      const critical = Number(r.critical);
      return { name: r.name, hosts, warning, critical, unknown: hosts - warning - critical };
    });
  },

  async latestDocumentOfHost(hostId) {
    const r = await db
      .selectFrom('agent_documents as d')
      .innerJoin('agents as a', 'a.id', 'd.agent_id')
      .select(['d.agent_id', 'd.collected_at', 'd.received_at', 'd.document'])
      .where('a.host_id', '=', hostId)
      // Documents stored with a time no Date can hold (or text there) come last.
      .orderBy(
        sql`case when d.collected_at >= ${-MAX_DATE_MS} and d.collected_at <= ${MAX_DATE_MS} then 0 else 1 end`,
      )
      .orderBy('d.collected_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r
      ? {
          agent_id: r.agent_id,
          collected_at: Number(r.collected_at),
          received_at: Number(r.received_at),
          document: r.document,
        }
      : undefined;
  },

  async reportingAgents(hostIds) {
    const out = new Map<string, string>();
    if (hostIds.length === 0) return out;
    // Every agent of the page's hosts with its document's time, ranked here: a few rows per host.
    const rows = await db
      .selectFrom('agents as a')
      .leftJoin('agent_documents as d', 'd.agent_id', 'a.id')
      .select(['a.host_id', 'a.id', 'a.last_seen', 'd.collected_at'])
      .where('a.host_id', 'in', hostIds)
      .orderBy('a.id')
      .execute();
    const best = new Map<string, { id: string; rank: number[]; agents: number }>();
    for (const r of rows) {
      if (r.host_id === null) continue;
      // Ranked by: whether it has a document, that document's time (newest first; one no Date
      // holds last), then its last contact.
      const documented = r.collected_at !== null && r.collected_at !== undefined;
      const rank = [documented ? 1 : 0, usableTime(r.collected_at), usableTime(r.last_seen)];
      const cur = best.get(r.host_id);
      if (!cur) best.set(r.host_id, { id: r.id, rank, agents: 1 });
      else {
        cur.agents += 1;
        const i = rank.findIndex((x, k) => x !== cur.rank[k]);
        if (i >= 0 && rank[i]! > cur.rank[i]!) Object.assign(cur, { id: r.id, rank });
      }
    }
    for (const [hostId, b] of best)
      // Of several agents none of which reported, none is the host's.
      if (b.agents === 1 || b.rank[0] === 1 || b.rank[2] !== -Infinity) out.set(hostId, b.id);
    return out;
  },
});
