import type { ConfigObject, Json } from '../objects/model.js';
import { PROPERTIES } from '../objects/properties.js';
import { hostServices, templateChain } from './checks.js';
import { templateIndex, type Snapshot } from './snapshot.js';

/** A string literal of the Icinga 2 configuration language. */
export function quote(s: string): string {
  return `"${s
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')}"`;
}

/** A value of the Icinga 2 configuration language: strings, numbers, booleans, arrays, dictionaries. */
export function literal(v: Json, indent = ''): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[ ${v.map((x) => literal(x, indent)).join(', ')} ]`;
  const inner = `${indent}    `;
  const entries = Object.entries(v);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, x]) => `${inner}${quote(k)} = ${literal(x, inner)}`).join('\n')}\n${indent}}`;
}

/** Properties that are Director's own: Icinga 2's hosts and services have no such attribute. */
const DIRECTOR_ONLY = new Set([
  'has_agent',
  'master_should_connect',
  'accept_config',
  'use_agent',
  'apply_for',
  'use_var_overrides',
  'assign_filter',
]);

/** How each property of a host or service is written (intervals as seconds). */
const ATTRIBUTES: Record<string, 'string' | 'number' | 'boolean' | 'names'> = Object.fromEntries(
  Object.entries({ ...PROPERTIES.host, ...PROPERTIES.service })
    .filter(([key, type]) => !DIRECTOR_ONLY.has(key) && type !== 'arguments')
    .map(([key, type]) => [key, type === 'interval' ? 'number' : type]),
) as Record<string, 'string' | 'number' | 'boolean' | 'names'>;

/** The value of a stored property written as its Icinga type wants it. */
function typed(type: 'string' | 'number' | 'boolean' | 'names', v: Json): Json {
  if (type === 'number' && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)))
    return Number(v);
  if (type === 'names' && typeof v === 'string') return [v];
  return v;
}

/** The lines of an object's body: imports, then attributes (sorted), then custom variables. */
function body(o: ConfigObject, extra: string[] = []): string[] {
  const lines = o.imports.map((t) => `    import ${quote(t)}`);
  if (lines.length > 0) lines.push('');
  lines.push(...extra);
  for (const key of Object.keys(o.properties).sort()) {
    const type = ATTRIBUTES[key];
    if (!type) continue;
    lines.push(`    ${key} = ${literal(typed(type, o.properties[key]!), '    ')}`);
  }
  for (const [k, v] of Object.entries(o.vars))
    lines.push(`    vars[${quote(k)}] = ${literal(v, '    ')}`);
  return lines;
}

function block(head: string, lines: string[]): string {
  const body = lines.filter((l, i, a) => !(l === '' && i === a.length - 1));
  return body.length === 0 ? `${head} {\n}\n` : `${head} {\n${body.join('\n')}\n}\n`;
}

/** Icinga's command types by Director's `methods_execute`. */
const COMMAND_TYPES: Record<string, string> = {
  PluginEvent: 'EventCommand',
  PluginNotification: 'NotificationCommand',
};

/** An argument's fields written as Icinga's command argument attributes. */
function argumentLiteral(v: Json): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === 'order' && typeof x === 'string' && Number.isFinite(Number(x))) out[k] = Number(x);
    else if ((k === 'required' || k === 'skip_key' || k === 'repeat_key') && typeof x !== 'boolean')
      out[k] = x === 'y' || x === 'true' || x === 1 || x === '1';
    else out[k] = x;
  }
  return out;
}

function renderCommand(c: ConfigObject): string {
  const type = COMMAND_TYPES[String(c.properties.methods_execute ?? '')] ?? 'CheckCommand';
  const lines = c.imports.map((t) => `    import ${quote(t)}`);
  if (lines.length > 0) lines.push('');
  const command = c.properties.command;
  if (typeof command === 'string' && command.trim() !== '') {
    const exe = command.trim();
    // Director writes a relative command under the plugin directory, as Icinga's ITL does.
    lines.push(
      `    command = [ ${exe.startsWith('/') || exe.startsWith('$') ? quote(exe) : `PluginDir + ${quote(`/${exe}`)}`} ]`,
    );
  }
  const timeout = c.properties.timeout;
  if (timeout !== undefined) lines.push(`    timeout = ${literal(typed('number', timeout))}`);
  const args = c.properties.arguments;
  if (args && typeof args === 'object' && !Array.isArray(args)) {
    const entries = Object.fromEntries(
      Object.entries(args).map(([k, v]) => [k, argumentLiteral(v)]),
    );
    lines.push(`    arguments += ${literal(entries, '    ')}`);
  }
  for (const [k, v] of Object.entries(c.vars))
    lines.push(`    vars[${quote(k)}] = ${literal(v, '    ')}`);
  const head = c.object_type === 'template' ? `template ${type}` : `object ${type}`;
  return block(`${head} ${quote(c.object_name)}`, lines);
}

/**
 * Renders a snapshot as Icinga 2 configuration, in the order Director writes its zones.d
 * files: commands, host groups, host templates, hosts, service templates, services on hosts
 * (`object Service`), and services on host templates as apply rules assigned to every host
 * that imports the template (`assign where "T" in host.templates`), left out where a host gets
 * a service of the same name elsewhere (its own, or a later template's). A host that resolves
 * to no check command gets Icinga's default, `hostalive`.
 */
export function renderIcinga2(snapshot: Snapshot, header?: string): string {
  const out: string[] = [];
  if (header)
    out.push(
      `${header
        .split('\n')
        .map((l) => `// ${l}`)
        .join('\n')}\n`,
    );
  const index = templateIndex(snapshot);
  const section = (title: string, parts: string[]) => {
    if (parts.length > 0) out.push(`// ${title}\n`, ...parts);
  };
  section('Commands', snapshot.commands.map(renderCommand));
  section(
    'Host groups',
    snapshot.hostgroups.map((g) =>
      block(
        `${g.object_type === 'template' ? 'template' : 'object'} HostGroup ${quote(g.object_name)}`,
        body(g),
      ),
    ),
  );
  section(
    'Host templates',
    snapshot.host_templates.map((t) => block(`template Host ${quote(t.object_name)}`, body(t))),
  );
  section(
    'Hosts',
    snapshot.hosts.map((h) => {
      const inherited = index.resolve(h).properties.check_command;
      const extra = typeof inherited === 'string' ? [] : ['    check_command = "hostalive"'];
      return block(`object Host ${quote(h.object_name)}`, body(h, extra));
    }),
  );
  section(
    'Service templates',
    snapshot.service_templates.map((t) =>
      block(`template Service ${quote(t.object_name)}`, body(t)),
    ),
  );
  const hostNames = new Set(snapshot.hosts.map((h) => h.object_name));
  section(
    'Services',
    snapshot.services
      .filter((s) => s.host !== null && hostNames.has(s.host))
      .map((s) =>
        block(
          `object Service ${quote(s.object_name)}`,
          body(s, [`    host_name = ${quote(s.host!)}`]),
        ),
      ),
  );
  const chains = new Map(snapshot.hosts.map((h) => [h, templateChain(snapshot, h)]));
  // Which hosts run which template's service: the others get theirs from elsewhere.
  const runs = new Map<ConfigObject, string[]>();
  for (const h of snapshot.hosts)
    for (const s of hostServices(snapshot, h)) runs.set(s, [...(runs.get(s) ?? []), h.object_name]);
  section(
    'Services applied to the hosts of a template',
    snapshot.services
      .filter((s) => s.host !== null && !hostNames.has(s.host))
      .map((s) => {
        const importers = snapshot.hosts.filter((h) => chains.get(h)!.includes(s.host!));
        const running = new Set(runs.get(s) ?? []);
        const ignored = importers.map((h) => h.object_name).filter((n) => !running.has(n));
        const rules = [`    assign where ${quote(s.host!)} in host.templates`];
        if (ignored.length > 0) rules.push(`    ignore where host.name in ${literal(ignored)}`);
        return block(`apply Service ${quote(s.object_name)}`, [...body(s), ...rules]);
      }),
  );
  return out.join('\n');
}
