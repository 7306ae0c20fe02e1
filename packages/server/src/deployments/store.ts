import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { DeploymentRow, DeploymentStore, DeploymentSummaryRow } from './stored.js';

const SUMMARY = ['id', 'checksum', 'created_at', 'created_by', 'objects', 'activated_at'] as const;

/** The deployments table on a connection or transaction. */
export function createDeploymentStore(db: Kysely<Database>): DeploymentStore {
  return {
    async byId(id) {
      return (await db
        .selectFrom('deployments')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst()) as DeploymentRow | undefined;
    },
    async byChecksum(checksum) {
      return (await db
        .selectFrom('deployments')
        .selectAll()
        .where('checksum', '=', checksum)
        .executeTakeFirst()) as DeploymentRow | undefined;
    },
    async active() {
      return (await db
        .selectFrom('deployments')
        .selectAll()
        .where('activated_at', 'is not', null)
        .orderBy('activated_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst()) as DeploymentRow | undefined;
    },
    async insert(row) {
      await db.insertInto('deployments').values(row).execute();
    },
    async activate(id, at) {
      await db.updateTable('deployments').set({ activated_at: at }).where('id', '=', id).execute();
    },
    async list(opts) {
      let q = db.selectFrom('deployments').select([...SUMMARY]);
      const b = opts.before;
      if (b)
        q = q.where((eb) =>
          eb.or([
            eb('created_at', '<', b.createdAt),
            eb.and([eb('created_at', '=', b.createdAt), eb('id', '<', b.id)]),
          ]),
        );
      return (await q
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(opts.limit)
        .execute()) as DeploymentSummaryRow[];
    },
    async byChecksums(checksums) {
      if (checksums.length === 0) return [];
      return (await db
        .selectFrom('deployments')
        .select([...SUMMARY])
        .where('checksum', 'in', checksums)
        .execute()) as DeploymentSummaryRow[];
    },
  };
}
