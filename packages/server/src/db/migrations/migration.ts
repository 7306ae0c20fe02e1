import type { Kysely } from 'kysely';
import type { Dialect } from '../connection.js';

/**
 * The schema builder as migrations see it: untyped, since a migration describes tables that the
 * typed schema may not have yet, or no longer has.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type MigrationDb = Kysely<any>;

/**
 * One forward-only schema change. Versions are never renumbered; new ones are appended. A
 * migration imports no live domain code: what it needs of the domain is frozen in its own file,
 * as it was when the migration was written.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: MigrationDb, dialect: Dialect): Promise<void>;
}
