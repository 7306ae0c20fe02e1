import type { Migration } from './migration.js';

/** A built-in rule as this migration seeds it (frozen here: later code may tune its own). */
interface Seed {
  id: string;
  name: string;
  description: string;
  kind: string;
  metric?: string;
  matchers?: Record<string, unknown>;
  comparator?: string;
  warning?: number;
  critical?: number;
  for_seconds?: number;
  params?: Record<string, unknown>;
}

const SEEDS: Seed[] = [
  {
    id: 'builtin-cpu',
    name: 'CPU usage',
    description: "Total CPU usage above the global thresholds (Tyto's cpu).",
    kind: 'threshold',
    metric: 'cpu_usage_percent',
    comparator: '>',
    for_seconds: 300,
    params: { global: 'cpu' },
  },
  {
    id: 'builtin-memory',
    name: 'Memory usage',
    description: "Memory usage above the global thresholds (Tyto's memory).",
    kind: 'threshold',
    metric: 'memory_usage_percent',
    comparator: '>',
    for_seconds: 300,
    params: { global: 'memory' },
  },
  {
    id: 'builtin-disk',
    name: 'Disk usage',
    description: "A file system's usage above the global thresholds (Tyto's disk).",
    kind: 'threshold',
    metric: 'disk_usage_percent',
    matchers: { mount: { op: '=~', value: '.+' } },
    comparator: '>',
    for_seconds: 60,
    params: { global: 'disk' },
  },
  {
    id: 'builtin-check',
    name: 'Check problem',
    description: 'A custom check or service in a non-OK hard state.',
    kind: 'check',
  },
  {
    id: 'builtin-check-flapping',
    name: 'Check flapping',
    description: 'A custom check changing state too often (Nagios flap detection).',
    kind: 'check',
    params: { flapping: true },
  },
  {
    id: 'builtin-agent-offline',
    name: 'Agent offline',
    description: 'An agent sent nothing for three of its intervals.',
    kind: 'agent_offline',
  },
  {
    id: 'builtin-cert-expiry',
    name: 'Agent certificate expiring',
    description: "An agent's client certificate expires soon (days).",
    kind: 'cert_expiry',
    warning: 14,
    critical: 3,
  },
  {
    id: 'builtin-host-unreachable',
    name: 'Host unreachable',
    description: 'The connectivity worker cannot reach the host.',
    kind: 'host_unreachable',
  },
  {
    id: 'builtin-disk-forecast',
    name: 'Disk predicted full',
    description: 'A file system predicted full within the hours given (linear fit over 6 h).',
    kind: 'disk_forecast',
    params: { hours: 24 },
  },
];

/** Schema version 20, `alert_rules`, with the built-in rules. */
export const migration: Migration = {
  version: 20,
  name: 'alert-rules',
  async up(db) {
    // Alert rules: what the evaluator checks on ingest and on its ticks. `matchers`, `scope`
    // and `params` are JSON. Built-in rules have fixed ids; they can be tuned and disabled,
    // never deleted. Null thresholds of a built-in threshold rule mean the global ones.
    await db.schema
      .createTable('alert_rules')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('metric', 'text')
      .addColumn('matchers', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('comparator', 'text')
      .addColumn('warning', 'double precision')
      .addColumn('critical', 'double precision')
      .addColumn('for_seconds', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('recovery', 'double precision')
      .addColumn('keep_firing_for_seconds', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('scope', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('params', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('builtin', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    const at = Date.now();
    await db
      .insertInto('alert_rules')
      .values(
        SEEDS.map((s) => ({
          id: s.id,
          name: s.name,
          description: s.description,
          enabled: 1,
          kind: s.kind,
          metric: s.metric ?? null,
          matchers: JSON.stringify(s.matchers ?? {}),
          comparator: s.comparator ?? null,
          warning: s.warning ?? null,
          critical: s.critical ?? null,
          for_seconds: s.for_seconds ?? 0,
          recovery: null,
          keep_firing_for_seconds: 0,
          scope: '{}',
          params: JSON.stringify(s.params ?? {}),
          builtin: 1,
          created_at: at,
          updated_at: at,
        })),
      )
      .execute();
  },
};
