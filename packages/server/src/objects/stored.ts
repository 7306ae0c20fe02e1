/** Stored configuration objects: the rows, their reading, and the store interface. */
import type { AuditStore } from '../audit/service.js';
import type { ConfigObject, Json, ObjectKind } from './model.js';

/** A host row as configuration reads it (JSON columns as text). */
export interface HostConfigRow {
  id: string;
  name: string;
  address: string | null;
  address6: string | null;
  display_name: string | null;
  imports: string;
  vars: string;
  properties: string;
  disabled: number;
  api_key_hash: string | null;
  created_at: number;
  updated_at: number;
}

/** A stored configuration object other than a host (JSON columns as text). */
export interface ConfigObjectRow {
  id: string;
  kind: ObjectKind;
  object_type: 'object' | 'template';
  object_name: string;
  /** The id of the host or host template a service is attached to; '' for none. */
  scope: string;
  imports: string;
  vars: string;
  properties: string;
  disabled: number;
  api_key_hash: string | null;
  created_at: number;
  updated_at: number;
}

/** Host properties kept in columns of their own rather than in `properties`. */
export const HOST_COLUMNS = ['display_name', 'address', 'address6'] as const;

/** The configuration object of a host row. */
export function hostObject(row: HostConfigRow): ConfigObject {
  const properties = JSON.parse(row.properties) as Record<string, Json>;
  for (const c of HOST_COLUMNS) if (row[c] !== null) properties[c] = row[c];
  return {
    kind: 'host',
    object_type: 'object',
    object_name: row.name,
    host: null,
    imports: JSON.parse(row.imports) as string[],
    vars: JSON.parse(row.vars) as Record<string, Json>,
    properties,
    disabled: row.disabled === 1,
  };
}

/** The configuration object of a stored row; `host` is the name of the host it is attached to. */
export const rowObject = (row: ConfigObjectRow, host: string | null): ConfigObject => ({
  kind: row.kind,
  object_type: row.object_type,
  object_name: row.object_name,
  host,
  imports: JSON.parse(row.imports) as string[],
  vars: JSON.parse(row.vars) as Record<string, Json>,
  properties: JSON.parse(row.properties) as Record<string, Json>,
  disabled: row.disabled === 1,
});

/** Where configuration objects are kept: hosts' configuration and the other objects. */
export interface ObjectStore {
  /** A host that is not deleted, by name (disabled ones too). */
  hostByName(name: string): Promise<HostConfigRow | undefined>;
  /** A host that is not deleted, by id. */
  hostById(id: string): Promise<HostConfigRow | undefined>;
  /** Hosts that are not deleted, by name; `q` keeps those whose name, display name or address holds every word. */
  hosts(q?: string): Promise<HostConfigRow[]>;
  /**
   * Creates the host, or revives a deleted one of the same name with this configuration;
   * returns its id, or undefined where a host of that name is live (created meanwhile).
   */
  insertHost(o: ConfigObject, at: number): Promise<string | undefined>;
  /** Writes a host's configuration. */
  updateHost(id: string, o: ConfigObject, at: number): Promise<void>;
  /** Marks a host deleted. */
  deleteHost(id: string, at: number): Promise<void>;
  /**
   * Gives a host its self-service API key hash unless it has one already; false when it had
   * one (another registration won), atomically on both databases.
   */
  claimHostKey(id: string, hash: string, at: number): Promise<boolean>;
  /** A host by the hash of its self-service API key. */
  hostByKey(hash: string): Promise<HostConfigRow | undefined>;

  /** An object of a kind by name within a scope ('' for none). */
  object(kind: ObjectKind, scope: string, name: string): Promise<ConfigObjectRow | undefined>;
  /** An object by id. */
  objectById(id: string): Promise<ConfigObjectRow | undefined>;
  /** Objects of a kind, by name; optionally of one type, or within some scopes. */
  objects(
    kind: ObjectKind,
    opts?: { type?: 'object' | 'template'; scopes?: string[] },
  ): Promise<ConfigObjectRow[]>;
  /** Adds an object; returns its id, or undefined where one of that name exists (created meanwhile). */
  insertObject(o: ConfigObject, scope: string, at: number): Promise<string | undefined>;
  /** Writes an object's configuration (and scope). */
  updateObject(id: string, o: ConfigObject, scope: string, at: number): Promise<void>;
  /** Removes an object. */
  deleteObject(id: string): Promise<void>;
  /** Removes the objects attached to a scope (a host's services). */
  deleteScope(scope: string): Promise<void>;
  /** Sets (or clears) a template's self-service API key hash. */
  setObjectKey(id: string, hash: string | null, at: number): Promise<void>;
  /** A host template by the hash of its self-service API key. */
  objectByKey(hash: string): Promise<ConfigObjectRow | undefined>;
  /** The names of the hosts and objects whose check or event command is `name`. */
  commandUsersOf(name: string): Promise<string[]>;
  /** The names of the hosts and host templates that are members of host group `name`. */
  groupMembersOf(name: string): Promise<string[]>;
  /** The names of the hosts, and of the objects of a kind, whose imports mention `name`. */
  importersOf(kind: ObjectKind, name: string): Promise<string[]>;
}

/** The stores a configuration change writes, within one transaction. */
export interface ObjectStores {
  objects: ObjectStore;
  audit: AuditStore;
}
