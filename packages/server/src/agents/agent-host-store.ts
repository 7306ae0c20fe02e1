import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { AgentHostConfigStore } from './agent-hosts.js';

/**
 * Reads the configuration that says whether a host has an agent: the host row (not soft-deleted,
 * not disabled) and host templates (not disabled), with their properties and imports as stored
 * (JSON text). Only reads; pass a transaction to read within it.
 */
export const createAgentHostStore = (db: Kysely<Database>): AgentHostConfigStore => ({
  host: (name) =>
    db
      .selectFrom('hosts')
      .select(['id', 'properties', 'imports'])
      .where('name', '=', name)
      .where('deleted_at', 'is', null)
      .where('disabled', '=', 0)
      .executeTakeFirst(),
  template: (name) =>
    db
      .selectFrom('config_objects')
      .select(['properties', 'imports'])
      .where('kind', '=', 'host')
      .where('object_type', '=', 'template')
      .where('scope', '=', '')
      .where('object_name', '=', name)
      .where('disabled', '=', 0)
      .executeTakeFirst(),
});
