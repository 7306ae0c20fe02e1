/**
 * The console's navigation: each entry names its path, its label, its group, and the permission
 * that reads it (an entry the caller cannot read is not shown). New screens add an entry here and
 * a route in `routes.tsx`.
 */
export interface NavEntry {
  path: string;
  label: string;
  group: 'Monitor' | 'Configuration' | 'Administration';
  permission: string;
}

/** Every navigation entry, in menu order. */
export const NAV: readonly NavEntry[] = [
  { path: '/', label: 'Fleet', group: 'Monitor', permission: 'host:read' },
  // Its compliance panels need compliance:read; liveness and connectivity show with host:read.
  { path: '/fleet/health', label: 'Fleet health', group: 'Monitor', permission: 'host:read' },
  { path: '/agents', label: 'Agents', group: 'Monitor', permission: 'agents:read' },
  { path: '/alerts', label: 'Alerts', group: 'Monitor', permission: 'alerts:read' },
  { path: '/alerts/silences', label: 'Silences', group: 'Monitor', permission: 'alerts:read' },
  { path: '/alerts/rules', label: 'Alert rules', group: 'Monitor', permission: 'alerts:read' },
  { path: '/logs', label: 'Logs', group: 'Monitor', permission: 'logs:read' },
  {
    path: '/notifications',
    label: 'Notifications',
    group: 'Monitor',
    permission: 'notifications:read',
  },
  {
    path: '/config/host-templates',
    label: 'Host templates',
    group: 'Configuration',
    permission: 'config:read',
  },
  {
    path: '/config/service-templates',
    label: 'Service templates',
    group: 'Configuration',
    permission: 'config:read',
  },
  {
    path: '/config/services',
    label: 'Services',
    group: 'Configuration',
    permission: 'config:read',
  },
  {
    path: '/config/commands',
    label: 'Commands',
    group: 'Configuration',
    permission: 'config:read',
  },
  {
    path: '/config/host-groups',
    label: 'Host groups',
    group: 'Configuration',
    permission: 'config:read',
  },
  { path: '/deploy', label: 'Deploy', group: 'Configuration', permission: 'config:read' },
  {
    path: '/credentials',
    label: 'Credentials',
    group: 'Configuration',
    permission: 'credentials:read',
  },
  { path: '/admin/users', label: 'Users', group: 'Administration', permission: 'users:read' },
  { path: '/admin/roles', label: 'Roles', group: 'Administration', permission: 'roles:read' },
  {
    path: '/admin/clients',
    label: 'API clients',
    group: 'Administration',
    permission: 'oauth:read',
  },
  { path: '/admin/audit', label: 'Audit log', group: 'Administration', permission: 'audit:read' },
  { path: '/admin/jobs', label: 'Jobs', group: 'Administration', permission: 'jobs:read' },
  {
    path: '/admin/settings',
    label: 'Settings',
    group: 'Administration',
    permission: 'settings:read',
  },
];
