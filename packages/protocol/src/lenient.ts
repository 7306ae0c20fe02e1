import { isRecord } from './guards.js';
import { Kind, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';

// Decoding a check-data document leniently. Agents of every version and system push documents
// that differ in detail (a field missing, a figure sent as a string by an odd build), and one bad
// field must not cost a host its whole push. A document that matches the schema is taken as it
// is, at the cost of the compiled check alone; only one that does not is walked here, field by
// field, and what does not match is dropped and named.

/** The outcome of decoding a document that did not match its schema. */
export interface Pruned {
  /** The document without what did not match (the input is not changed). */
  value: Record<string, unknown>;
  /** The paths of what was dropped (`/memory/total`, `/processes/3`), in document order. */
  dropped: string[];
}

/** Stands for "this value does not match and goes". */
const DROP = Symbol('drop');
type Out = unknown;

/** A JSON Pointer token. */
const token = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * A decoder for documents of `schema` (an object schema): `check` is the quick test of a
 * well-formed document; `prune` takes what matches out of one that is not, or returns undefined
 * when the value is not an object at all (not a document).
 */
export function lenientDecoder(schema: TSchema): {
  check(value: unknown): boolean;
  prune(value: unknown): Pruned | undefined;
} {
  const compiled = TypeCompiler.Compile(schema);
  return {
    check: (value) => compiled.Check(value),
    prune(value) {
      if (!isRecord(value)) return undefined;
      const dropped: string[] = [];
      const out = prune(schema, value, '', dropped);
      return out === DROP ? undefined : { value: out as Record<string, unknown>, dropped };
    },
  };
}

/** `value` without what does not match `schema`, a copy where anything was dropped; or DROP. */
function prune(
  schema: TSchema,
  value: unknown,
  path: string,
  dropped: string[],
): Out | typeof DROP {
  switch (schema[Kind]) {
    case 'Object': {
      if (!isRecord(value)) return DROP;
      const properties = (schema.properties ?? {}) as Record<string, TSchema>;
      const required = new Set<string>((schema.required as string[] | undefined) ?? []);
      let copy: Record<string, unknown> | undefined;
      for (const key in properties) {
        if (!(key in value)) {
          if (required.has(key)) return DROP;
          continue;
        }
        const v = value[key];
        const p = `${path}/${token(key)}`;
        const out = prune(properties[key]!, v, p, dropped);
        if (out === v) continue;
        if (out === DROP && required.has(key)) return DROP;
        copy ??= { ...value };
        if (out === DROP) {
          delete copy[key];
          dropped.push(p);
        } else copy[key] = out;
      }
      if (schema.additionalProperties === false)
        for (const key in value)
          if (!(key in properties)) {
            copy ??= { ...value };
            delete copy[key];
            dropped.push(`${path}/${token(key)}`);
          }
      return copy ?? value;
    }
    case 'Record': {
      if (!isRecord(value)) return DROP;
      const item = Object.values(schema.patternProperties as Record<string, TSchema>)[0]!;
      let copy: Record<string, unknown> | undefined;
      for (const key in value) {
        const v = value[key];
        const p = `${path}/${token(key)}`;
        const out = prune(item, v, p, dropped);
        if (out === v) continue;
        copy ??= { ...value };
        if (out === DROP) {
          delete copy[key];
          dropped.push(p);
        } else copy[key] = out;
      }
      return copy ?? value;
    }
    case 'Array': {
      if (!Array.isArray(value)) return DROP;
      const item = schema.items as TSchema;
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        const out = prune(item, v, `${path}/${i}`, dropped);
        if (out === v && copy === undefined) continue;
        copy ??= value.slice(0, i);
        if (out === DROP) dropped.push(`${path}/${i}`);
        else copy.push(out);
      }
      return copy ?? value;
    }
    case 'Union': {
      const members = schema.anyOf as TSchema[];
      if (members.some((m) => Value.Check(m, value))) return value;
      // The member that keeps the most of the value.
      let best: { out: Out; dropped: string[] } | undefined;
      for (const member of members) {
        const trial: string[] = [];
        const out = prune(member, value, path, trial);
        if (out !== DROP && (!best || trial.length < best.dropped.length))
          best = { out, dropped: trial };
      }
      if (!best) return DROP;
      dropped.push(...best.dropped);
      return best.out;
    }
    default:
      return Value.Check(schema, value) ? value : DROP;
  }
}
