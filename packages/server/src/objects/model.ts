/**
 * Configuration objects: hosts and host templates, services and service templates, check
 * commands and host groups, in Icinga Director's vocabulary, which every face shares.
 */

/** The kinds of configuration object. */
export type ObjectKind = 'host' | 'service' | 'command' | 'hostgroup';

/** Every kind, in the order a snapshot lists them. */
export const OBJECT_KINDS: readonly ObjectKind[] = ['command', 'hostgroup', 'host', 'service'];

/** An object proper, or a template that objects import. */
export type ObjectType = 'object' | 'template';

/** A JSON value as kept in `vars` and properties. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A configuration object as every face sees it. */
export interface ConfigObject {
  kind: ObjectKind;
  object_type: ObjectType;
  object_name: string;
  /**
   * For a service: the name of the host, or host template, it is attached to (null: a service
   * template of its own). Null for every other kind.
   */
  host: string | null;
  /** The templates imported, in order: later imports override earlier ones. */
  imports: string[];
  /** Custom variables, merged key by key along the inheritance chain. */
  vars: Record<string, Json>;
  /** Every other property that is set (never null), by its Director name. */
  properties: Record<string, Json>;
  disabled: boolean;
}

/** Where each resolved value comes from: a template's name, or null for the object itself. */
export interface Origins {
  properties: Record<string, string | null>;
  vars: Record<string, string | null>;
}

/** An object with its inherited values filled in. */
export interface ResolvedObject {
  object: ConfigObject;
  /** Its properties and vars with everything inherited applied (the object's own win). */
  properties: Record<string, Json>;
  vars: Record<string, Json>;
  origins: Origins;
}

/** The Director table name of a kind, as its messages name it (`icinga_host`). */
export const TABLE_OF: Record<ObjectKind, string> = {
  host: 'icinga_host',
  service: 'icinga_service',
  command: 'icinga_command',
  hostgroup: 'icinga_hostgroup',
};

/** Names a service by its host for messages: `ping (on web1)`. */
export const describe = (kind: ObjectKind, name: string, host?: string | null): string =>
  host ? `${name} (on ${host})` : name;
