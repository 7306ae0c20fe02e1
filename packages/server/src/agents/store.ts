import type { Kysely, Updateable } from 'kysely';
import type { Database } from '../db/schema.js';
import type { CommandStore } from './commands.js';
import type { EnrollmentStore } from './enrollment.js';
import type { FactsStore } from './facts.js';
import type { IntakeStore } from './intake.js';
import type { AgentWriter } from './mutate.js';
import type { RegistryStore } from './registry.js';

/** Every query on the agents table that the agents services declare. */
export type AgentStore = RegistryStore &
  EnrollmentStore &
  IntakeStore &
  FactsStore &
  CommandStore &
  AgentWriter;

/** The agents store on the shared query layer; pass a transaction to write within it. */
export const createAgentStore = (db: Kysely<Database>): AgentStore => ({
  get: (id) => db.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst(),
  byFingerprint: (fingerprint) =>
    db
      .selectFrom('agents')
      .selectAll()
      .where('cert_fingerprint', '=', fingerprint)
      .executeTakeFirst(),
  byTokenHash: (hash) =>
    db
      .selectFrom('agents')
      .selectAll()
      .where('enrollment_token_hash', '=', hash)
      .executeTakeFirst(),
  list: (approval) => {
    let q = db.selectFrom('agents').selectAll();
    if (approval) q = q.where('approval', '=', approval);
    return q.orderBy('registered_at').orderBy('id').execute();
  },
  pullAgents: () =>
    db
      .selectFrom('agents')
      .selectAll()
      .where('kind', '=', 'pull')
      .where('approval', '=', 'approved')
      .execute(),
  async insert(row) {
    await db.insertInto('agents').values(row).execute();
  },
  async update(id, patch: Updateable<Database['agents']>) {
    await db.updateTable('agents').set(patch).where('id', '=', id).execute();
  },
  async remove(id) {
    const r = await db.deleteFrom('agents').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },
  async setting(key) {
    const r = await db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirst();
    return r?.value;
  },
  async setSetting(key, value) {
    await db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  },
  async countPending(from) {
    let q = db
      .selectFrom('agents')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('approval', '=', 'pending');
    if (from !== undefined) q = q.where('enrolled_from', '=', from);
    const r = await q.executeTakeFirstOrThrow();
    return Number(r.n);
  },
  pendingBefore: (before) =>
    db
      .selectFrom('agents')
      .selectAll()
      .where('approval', '=', 'pending')
      .where('registered_at', '<', before)
      .orderBy('registered_at')
      .limit(1000)
      .execute(),
  latestDocument: (id) =>
    db
      .selectFrom('agent_documents')
      .select(['collected_at', 'document'])
      .where('agent_id', '=', id)
      .executeTakeFirst(),
});
