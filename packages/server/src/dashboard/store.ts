import type { Kysely } from 'kysely';
import { OPEN_STATES, SEVERITIES, type Severity } from '../alerts/model.js';
import type { Database } from '../db/schema.js';
import type { DashboardAlerts } from './service.js';

/** The dashboard's read of alerts: open ones by severity and state, one grouped query. */
export const createDashboardStore = (db: Kysely<Database>): DashboardAlerts => ({
  async countsBySeverity() {
    const rows = await db
      .selectFrom('alerts')
      .select((eb) => ['severity', 'state', eb.fn.countAll<number>().as('n')])
      .where('state', 'in', [...OPEN_STATES])
      .groupBy(['severity', 'state'])
      .execute();
    const out: Record<Severity, number> & { unacknowledged: number } = {
      info: 0,
      warning: 0,
      critical: 0,
      unacknowledged: 0,
    };
    for (const r of rows) {
      const n = Number(r.n);
      if (SEVERITIES.includes(r.severity as Severity)) out[r.severity as Severity] += n;
      if (r.state === 'active') out.unacknowledged += n;
    }
    return out;
  },
});
