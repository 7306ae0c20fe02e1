import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';

/**
 * The keys the time-series tables name hosts by (`host_keys`), as this process has looked them
 * up. A key is never changed or deleted once given, so what is cached stays true; a host gets
 * one when its first samples are stored.
 */
export class HostKeys {
  private readonly byId = new Map<string, number>();

  constructor(private readonly db: Kysely<Database>) {}

  /** The key of a host; undefined when it has none (nothing of it has been stored). */
  async find(hostId: string): Promise<number | undefined> {
    const known = this.byId.get(hostId);
    if (known !== undefined) return known;
    const row = await this.db
      .selectFrom('host_keys')
      .select('id')
      .where('host_id', '=', hostId)
      .executeTakeFirst();
    if (row) this.byId.set(hostId, Number(row.id));
    return row ? Number(row.id) : undefined;
  }

  /**
   * Gives keys to the hosts of `rows` that have none; afterwards `of` knows every one of them.
   * When all are known, as for nearly every call, it looks at each row once and allocates nothing.
   */
  async ensure<T>(rows: readonly T[], hostOf: (row: T) => string): Promise<void> {
    let unknown: Set<string> | undefined;
    for (const r of rows) if (!this.byId.has(hostOf(r))) (unknown ??= new Set()).add(hostOf(r));
    if (!unknown) return;
    const missing = [...unknown];
    for (let i = 0; i < missing.length; i += 500) {
      const part = missing.slice(i, i + 500);
      await this.db
        .insertInto('host_keys')
        .values(part.map((host_id) => ({ host_id })))
        .onConflict((oc) => oc.column('host_id').doNothing())
        .execute();
      const rows = await this.db
        .selectFrom('host_keys')
        .select(['id', 'host_id'])
        .where('host_id', 'in', part)
        .execute();
      for (const r of rows) this.byId.set(r.host_id, Number(r.id));
    }
  }

  /** The key of a host given one by `ensure`. */
  of(hostId: string): number {
    const key = this.byId.get(hostId);
    if (key === undefined) throw new Error(`host ${hostId} has no key yet`);
    return key;
  }
}
