import { VigilError } from '../errors.js';
import type { ConfigObject, Json, ObjectKind, Origins, ResolvedObject } from './model.js';

/** Finds a template of a kind by name; undefined when there is none (or it is disabled). */
export type TemplateLookup = (kind: ObjectKind, name: string) => ConfigObject | undefined;

/** Properties an object never inherits: they name or key the object itself. */
const OWN_ONLY = new Set(['api_key']);

/**
 * Computes an object's inherited values: its imports are applied in order (each resolved first,
 * so inheritance is transitive and multiple), a later import overriding an earlier one, and the
 * object's own values over all of them; `vars` merge key by key the same way. Each resolved
 * value names the template it comes from. The one resolution every face uses.
 * @throws VigilError bad_data `config.cycle` when the imports loop back, `config.unknown_import`
 *   when an import names no template.
 */
export function resolve(object: ConfigObject, lookup: TemplateLookup): ResolvedObject {
  const cache = new Map<string, ResolvedObject>();
  const resolveOne = (o: ConfigObject, path: string[]): ResolvedObject => {
    const properties: Record<string, Json> = {};
    const vars: Record<string, Json> = {};
    const origins: Origins = { properties: {}, vars: {} };
    for (const name of o.imports) {
      if (path.includes(name))
        throw new VigilError(
          'bad_data',
          `Loop detected: ${[...path, name].join(' -> ')} imports itself`,
          { code: 'config.cycle' },
        );
      let parent = cache.get(name);
      if (!parent) {
        const template = lookup(o.kind, name);
        if (!template || template.object_type !== 'template')
          throw new VigilError(
            'bad_data',
            `${o.object_name} imports ${name}, which is not a ${o.kind} template`,
            { code: 'config.unknown_import' },
          );
        parent = resolveOne(template, [...path, name]);
        cache.set(name, parent);
      }
      for (const [k, v] of Object.entries(parent.properties)) {
        if (OWN_ONLY.has(k)) continue;
        properties[k] = v;
        origins.properties[k] = parent.origins.properties[k] ?? name;
      }
      for (const [k, v] of Object.entries(parent.vars)) {
        // A later import's var takes the place of an earlier one's, at the end of the order.
        delete vars[k];
        vars[k] = v;
        origins.vars[k] = parent.origins.vars[k] ?? name;
      }
    }
    for (const [k, v] of Object.entries(o.properties)) {
      properties[k] = v;
      origins.properties[k] = null;
    }
    for (const [k, v] of Object.entries(o.vars)) {
      delete vars[k];
      vars[k] = v;
      origins.vars[k] = null;
    }
    return { object: o, properties, vars, origins };
  };
  return resolveOne(object, [object.object_name]);
}

/**
 * Tells whether giving `object` its imports would make a loop, following the imports of the
 * templates `lookup` finds; returns the loop as names, or null.
 */
export function findCycle(object: ConfigObject, lookup: TemplateLookup): string[] | null {
  const visit = (name: string, imports: string[], path: string[]): string[] | null => {
    for (const next of imports) {
      if (next === object.object_name || path.includes(next)) return [...path, next];
      const t = next === name ? undefined : lookup(object.kind, next);
      if (!t) continue;
      const loop = visit(next, t.imports, [...path, next]);
      if (loop) return loop;
    }
    return null;
  };
  return visit(object.object_name, object.imports, [object.object_name]);
}
