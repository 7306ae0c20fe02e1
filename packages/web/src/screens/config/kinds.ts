/** The kinds of configuration object, as the server's configuration API names them. */
export type ObjectKind = 'host' | 'service' | 'command' | 'hostgroup';

/** How a property is edited. */
export type FieldType =
  'text' | 'interval' | 'number' | 'boolean' | 'command' | 'groups' | 'textarea';

/** One property of a kind, with its label and how it is edited. */
export interface Field {
  key: string;
  label: string;
  type: FieldType;
  hint?: string;
}

/** The configuration screens, one per list in the menu. */
export type ScreenId =
  'host-templates' | 'service-templates' | 'services' | 'commands' | 'host-groups';

/** What a configuration screen lists and edits. */
export interface KindInfo {
  id: ScreenId;
  /** The menu's label and the list's title. */
  title: string;
  /** One object, in a sentence: "host template". */
  one: string;
  kind: ObjectKind;
  objectType: 'object' | 'template';
  fields: readonly Field[];
  /** Whether objects of this kind have custom variables and imports. */
  vars: boolean;
  imports: boolean;
  /** Which list the imported templates come from. */
  templates: ScreenId | null;
}

const CHECKS: readonly Field[] = [
  { key: 'display_name', label: 'Display name', type: 'text' },
  { key: 'check_command', label: 'Check command', type: 'command' },
  {
    key: 'check_interval',
    label: 'Check interval',
    type: 'interval',
    hint: 'Seconds, or 30s, 5m, 1h',
  },
  { key: 'retry_interval', label: 'Retry interval', type: 'interval', hint: 'Seconds, or 1m' },
  { key: 'max_check_attempts', label: 'Check attempts', type: 'number' },
];

const HOST_FIELDS: readonly Field[] = [
  ...CHECKS,
  { key: 'address', label: 'Address', type: 'text' },
  { key: 'address6', label: 'IPv6 address', type: 'text' },
  { key: 'has_agent', label: 'Has an Icinga agent', type: 'boolean' },
  { key: 'groups', label: 'Host groups', type: 'groups' },
  { key: 'notes', label: 'Notes', type: 'text' },
];

const SERVICE_FIELDS: readonly Field[] = [
  ...CHECKS,
  { key: 'use_agent', label: 'Runs on the agent', type: 'boolean' },
  { key: 'notes', label: 'Notes', type: 'text' },
];

/** Every configuration screen, in menu order. */
export const KINDS: Record<ScreenId, KindInfo> = {
  'host-templates': {
    id: 'host-templates',
    title: 'Host templates',
    one: 'host template',
    kind: 'host',
    objectType: 'template',
    fields: HOST_FIELDS,
    vars: true,
    imports: true,
    templates: 'host-templates',
  },
  'service-templates': {
    id: 'service-templates',
    title: 'Service templates',
    one: 'service template',
    kind: 'service',
    objectType: 'template',
    fields: SERVICE_FIELDS,
    vars: true,
    imports: true,
    templates: 'service-templates',
  },
  services: {
    id: 'services',
    title: 'Services',
    one: 'service',
    kind: 'service',
    objectType: 'object',
    fields: SERVICE_FIELDS,
    vars: true,
    imports: true,
    templates: 'service-templates',
  },
  commands: {
    id: 'commands',
    title: 'Commands',
    one: 'command',
    kind: 'command',
    objectType: 'object',
    fields: [
      {
        key: 'command',
        label: 'Command line',
        type: 'text',
        hint: 'An absolute path, or a plugin name under the plugin directory',
      },
      { key: 'timeout', label: 'Timeout', type: 'interval', hint: 'Seconds, or 1m' },
    ],
    vars: true,
    imports: true,
    templates: 'commands',
  },
  'host-groups': {
    id: 'host-groups',
    title: 'Host groups',
    one: 'host group',
    kind: 'hostgroup',
    objectType: 'object',
    fields: [
      { key: 'display_name', label: 'Display name', type: 'text' },
      {
        key: 'assign_filter',
        label: 'Assign filter',
        type: 'textarea',
        hint: 'Which hosts join the group, in Director filter syntax',
      },
    ],
    vars: false,
    imports: false,
    templates: null,
  },
};

/** The screen ids in menu order. */
export const SCREEN_IDS = Object.keys(KINDS) as ScreenId[];

/** Tells whether a path segment names a configuration screen. */
export const isScreenId = (s: string): s is ScreenId => s in KINDS;

/** The path of an object's editor: `/config/host-templates/linux`, a service with `?host=`. */
export function editorPath(screen: ScreenId, name: string, host?: string | null): string {
  const base = `/config/${screen}/${encodeURIComponent(name)}`;
  return host ? `${base}?host=${encodeURIComponent(host)}` : base;
}

/** The editor path of a template imported by an object of `kind`. */
export function templatePath(kind: ObjectKind, name: string): string {
  if (kind === 'host') return editorPath('host-templates', name);
  if (kind === 'service') return editorPath('service-templates', name);
  return editorPath('commands', name);
}
