/**
 * The permission registry: every permission a route may require, with what it grants.
 *
 * Permissions are `domain:action` strings. A role grants permissions by exact name or by pattern:
 * `*` (everything), `domain:*` (every action of a domain) and `*:action` (that action in every
 * domain). Entries marked `sensitive` are granted only by `*`, by their own `domain:*` or by exact
 * name, never by `*:action`: the built-in `viewer` role holds `*:read`, and reading the audit log
 * must stay with the auditor, security and admin roles.
 */
export interface PermissionInfo {
  readonly name: string;
  readonly description: string;
  readonly sensitive?: boolean;
}

/** Every permission Vigil knows, in registry order. */
export const PERMISSIONS: readonly PermissionInfo[] = [
  { name: 'activity:read', description: 'Read the recent-activity feed (`GET /api/v1/activity`).' },
  { name: 'agents:read', description: 'List agents and read their state.' },
  {
    name: 'agents:write',
    description: 'Add, approve, reject, revoke and remove agents; issue enrollment tokens.',
  },
  {
    name: 'alerts:read',
    description: 'Read alerts and their history, alert rules, silences and thresholds.',
  },
  {
    name: 'alerts:write',
    description:
      'Acknowledge, silence, resolve and dismiss alerts; change alert rules, silences and thresholds.',
  },
  {
    name: 'api:access',
    description:
      'Use the API through an OAuth 2.0 API client (`POST /oauth/token`, password grant).',
  },
  { name: 'audit:read', description: 'Read the audit log.', sensitive: true },
  {
    name: 'compliance:read',
    description: "Read compliance rules and results, and the fleet's compliance pages.",
  },
  {
    name: 'config:read',
    description:
      'Read configuration objects (templates, services, commands, host groups) and deployments.',
  },
  {
    name: 'config:write',
    description: 'Create, change and delete configuration objects; issue template API keys.',
  },
  {
    name: 'config:deploy',
    description: 'Deploy the configuration: snapshot it into the active deployment.',
  },
  {
    name: 'credentials:read',
    description: 'List and read SSH credentials (never their secrets).',
  },
  {
    name: 'credentials:write',
    description: 'Create, change, clone and delete SSH credentials.',
    sensitive: true,
  },
  {
    name: 'dashboard:view',
    description: 'Read the dashboard summary (`GET /api/dashboard`, the Cockpit face).',
  },
  {
    name: 'director:api',
    description: 'Use the Icinga Director compatible API (`/director/…`, HTTP Basic auth allowed).',
  },
  {
    name: 'host:read',
    description: 'Read hosts and what they report: history, series, live metrics, system facts.',
  },
  {
    name: 'host:write',
    description:
      'Create and change hosts, toggle maintenance, run connectivity checks and discovery.',
  },
  { name: 'host:delete', description: 'Delete hosts (soft delete).' },
  { name: 'jobs:read', description: 'List background jobs and their outcome.' },
  { name: 'jobs:write', description: 'Retry failed and dead-lettered background jobs.' },
  {
    name: 'logs:read',
    description:
      'Search log entries and follow the live tail (`GET /api/v1/logs`, `/logs/stream`).',
  },
  { name: 'metrics:read', description: "Scrape Vigil's own metrics (`GET /metrics`)." },
  {
    name: 'notifications:read',
    description: 'List notification channels (never their secrets) and delivery logs.',
  },
  {
    name: 'notifications:write',
    description: 'Create, change, test and delete notification channels.',
  },
  { name: 'oauth:read', description: 'List OAuth 2.0 API clients (never their secrets).' },
  {
    name: 'oauth:write',
    description: 'Create, change and delete OAuth 2.0 API clients.',
    sensitive: true,
  },
  { name: 'processes:read', description: "Read a process's detail from its agent." },
  { name: 'processes:signal', description: 'Send a signal to a process through its agent.' },
  { name: 'settings:read', description: 'Read fleet-wide settings (collection interval).' },
  { name: 'settings:write', description: 'Change fleet-wide settings (collection interval).' },
  { name: 'roles:read', description: 'List roles and their permissions.' },
  { name: 'roles:write', description: 'Create, change and delete custom roles.' },
  { name: 'system:read', description: 'Read server configuration and status.' },
  {
    name: 'system:write',
    description: 'Change server configuration: connectivity, discovery and intelligence settings.',
  },
  { name: 'users:read', description: 'List users and read their profiles and roles.' },
  {
    name: 'users:write',
    description: 'Create, change, disable and enable users; reset passwords; assign roles.',
  },
];

const BY_NAME = new Map(PERMISSIONS.map((p) => [p.name, p]));

/** Tells whether `name` is a permission in the registry. */
export const isKnownPermission = (name: string): boolean => BY_NAME.has(name);

/**
 * Tells whether a grant (an exact permission or a pattern, as held by a role) is well formed and
 * refers to something that exists: an exact name must be in the registry, a `domain:*` pattern must
 * name a registered domain and a `*:action` pattern a registered action.
 */
export function isValidGrant(grant: string): boolean {
  if (grant === '*') return true;
  const [domain, action, ...rest] = grant.split(':');
  if (rest.length > 0 || !domain || !action) return false;
  if (domain === '*') return PERMISSIONS.some((p) => p.name.endsWith(`:${action}`));
  if (action === '*') return PERMISSIONS.some((p) => p.name.startsWith(`${domain}:`));
  return BY_NAME.has(grant);
}

/** Tells whether one grant covers the required permission, following the rules above. */
export function grantCovers(grant: string, required: string): boolean {
  if (grant === '*' || grant === required) return true;
  const sep = required.indexOf(':');
  const domain = required.slice(0, sep);
  const action = required.slice(sep + 1);
  if (grant === `${domain}:*`) return true;
  if (grant === `*:${action}`) return BY_NAME.get(required)?.sensitive !== true;
  return false;
}

/** Tells whether any of the grants covers the required permission. */
export const permits = (grants: readonly string[], required: string): boolean =>
  grants.some((g) => grantCovers(g, required));

/** Expands grants into the registry permissions they cover, in registry order. */
export const effectivePermissions = (grants: readonly string[]): string[] =>
  PERMISSIONS.filter((p) => permits(grants, p.name)).map((p) => p.name);

/** A role that ships with Vigil; it cannot be changed or deleted. */
export interface SystemRole {
  readonly name: string;
  readonly description: string;
  readonly grants: readonly string[];
}

/** The built-in roles. Their grants are brought up to date at every migration run. */
export const SYSTEM_ROLES: readonly SystemRole[] = [
  { name: 'admin', description: 'Full system administration.', grants: ['*'] },
  {
    name: 'operator',
    description:
      'Day-to-day operation: read everything but the audit log, signal processes, handle alerts.',
    grants: ['*:read', 'dashboard:view', 'processes:signal', 'alerts:write'],
  },
  { name: 'viewer', description: 'Read-only access.', grants: ['*:read', 'dashboard:view'] },
  {
    name: 'auditor',
    description: 'Read-only access plus the audit log.',
    grants: ['*:read', 'dashboard:view', 'audit:read'],
  },
  {
    name: 'security_admin',
    description: 'Security configuration and the audit log.',
    grants: ['*:read', 'dashboard:view', 'audit:read'],
  },
];
