/** A configuration object's properties and imports, as stored (JSON text). */
export interface StoredConfig {
  /** A JSON object: the properties set on the object itself. */
  properties: string;
  /** A JSON array of host template names, in import order. */
  imports: string;
}

/** What the agent-host check reads of the configuration. */
export interface AgentHostConfigStore {
  /** The host named `name`; undefined when absent, soft-deleted or disabled. */
  host(name: string): Promise<(StoredConfig & { id: string }) | undefined>;
  /** The host template named `name`; undefined when absent or disabled. */
  template(name: string): Promise<StoredConfig | undefined>;
}

/** Whether hosts are configured to have an agent, as a ticket enrollment asks. */
export interface AgentHostDirectory {
  /**
   * The host named `name` and whether its configuration gives it an agent (`has_agent`, set on
   * the host or inherited from the templates it imports); undefined when there is no such host,
   * or it is soft-deleted or disabled.
   */
  agentHost(name: string): Promise<{ id: string; hasAgent: boolean } | undefined>;
}

/** Templates imported deeper than this are ignored (a chain that long is a mistake). */
const MAX_DEPTH = 32;

/** Parses stored JSON, treating damaged text as empty rather than failing an enrollment. */
function parse<T>(text: string, fallback: T, ok: (v: unknown) => boolean): T {
  try {
    const v: unknown = JSON.parse(text);
    return ok(v) ? (v as T) : fallback;
  } catch {
    return fallback;
  }
}

const propertiesOf = (c: StoredConfig): Record<string, unknown> =>
  parse(c.properties, {}, (v) => typeof v === 'object' && v !== null && !Array.isArray(v));
const importsOf = (c: StoredConfig): string[] =>
  parse<unknown[]>(c.imports, [], Array.isArray).filter((x): x is string => typeof x === 'string');

/** Director writes booleans as JSON `true`; its database and older exports say `'y'`. */
const asFlag = (v: unknown): boolean | undefined =>
  v === true || v === 'y' ? true : v === false || v === 'n' ? false : undefined;

/**
 * Reads `has_agent` along the inheritance chain: the imports in order (a later one wins over an
 * earlier one, each resolved the same way through its own imports), then the object's own value,
 * which wins over all. A template that imports itself, directly or not, is not read again
 * within its own chain.
 */
export function createAgentHostDirectory(store: AgentHostConfigStore): AgentHostDirectory {
  async function resolved(
    c: StoredConfig,
    seen: Set<string>,
    depth: number,
  ): Promise<boolean | undefined> {
    let value: boolean | undefined;
    if (depth < MAX_DEPTH)
      for (const name of importsOf(c)) {
        if (seen.has(name)) continue;
        const template = await store.template(name);
        if (!template) continue;
        const inherited = await resolved(template, new Set([...seen, name]), depth + 1);
        if (inherited !== undefined) value = inherited;
      }
    return asFlag(propertiesOf(c).has_agent) ?? value;
  }
  return {
    async agentHost(name) {
      const host = await store.host(name);
      if (!host) return undefined;
      return { id: host.id, hasAgent: (await resolved(host, new Set(), 0)) === true };
    },
  };
}
