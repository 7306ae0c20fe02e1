import type { Kysely } from 'kysely';
import type { AlertState, Severity, TransitionActor } from '../alerts/model.js';
import type { Database } from '../db/schema.js';
import type { ActivityAlerts } from './service.js';

/** The feed's read of alert transitions, with each one's alert and host. */
export const createActivityStore = (db: Kysely<Database>): ActivityAlerts => ({
  async transitions(q) {
    let query = db
      .selectFrom('alert_transitions as t')
      .innerJoin('alerts as a', 'a.id', 't.alert_id')
      .leftJoin('hosts as h', 'h.id', 'a.host_id')
      .select([
        't.id',
        't.at',
        't.alert_id',
        't.from_state',
        't.to_state',
        't.severity',
        't.actor_type',
        't.actor_id',
        't.actor_label',
        't.reason',
        'a.host_id',
        'h.name as host_name',
        'a.message',
      ]);
    if (q.hostId !== undefined) query = query.where('a.host_id', '=', q.hostId);
    if (q.sinceMs !== undefined) query = query.where('t.at', '>=', q.sinceMs);
    if (q.untilMs !== undefined) query = query.where('t.at', '<=', q.untilMs);
    const before = q.before;
    if (before)
      query = query.where((eb) =>
        eb.or([
          eb('t.at', '<', before.at),
          eb.and([eb('t.at', '=', before.at), eb('t.id', '<', before.id)]),
        ]),
      );
    const rows = await query
      .orderBy('t.at', 'desc')
      .orderBy('t.id', 'desc')
      .limit(q.limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      at: Number(r.at),
      alert_id: r.alert_id,
      from: r.from_state as AlertState | null,
      to: r.to_state as AlertState,
      severity: r.severity as Severity,
      actor: {
        type: r.actor_type as TransitionActor['type'],
        id: r.actor_id,
        label: r.actor_label,
      },
      reason: r.reason,
      host_id: r.host_id,
      host_name: r.host_name ?? null,
      message: r.message,
    }));
  },
});
