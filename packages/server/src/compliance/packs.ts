import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import {
  CompliancePack,
  type ComplianceRule,
  type ComplianceSeverity,
  type CompliancePack as Pack,
} from '@vigil/protocol';
import { VigilError } from '../errors.js';

/** Severities, least to worst. */
export const SEVERITY_ORDER: readonly ComplianceSeverity[] = ['low', 'medium', 'high', 'critical'];

/** Where a pack was loaded from, for messages and for the rules' listing. */
export interface LoadedPack {
  pack: Pack;
  /** The file it came from. */
  file: string;
}

/** The compliance packs the server knows, validated, by id. */
export interface PackCatalog {
  /** Every pack, sorted by id. */
  readonly packs: readonly Pack[];
  /** The pack with this id; undefined when there is none. */
  get(id: string): Pack | undefined;
  /** A rule of a pack; undefined when the pack or the rule is unknown. */
  rule(packId: string, ruleId: string): ComplianceRule | undefined;
}

/**
 * A pack file that cannot be used: the message names the file and the first path at fault. A
 * `VigilError`, so that the command line prints it as one line.
 */
export class PackError extends VigilError {
  constructor(message: string) {
    super('bad_data', message, { code: 'compliance.bad_pack' });
    this.name = 'PackError';
  }
}

/**
 * The built-in packs' directory, `packages/server/compliance/` of this installation: found from
 * this module's place, which is `packages/server/src/compliance/` when run from source and
 * `packages/server/dist/` once bundled.
 */
export function defaultPacksDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (path.basename(dir) === 'server' && path.basename(path.dirname(dir)) === 'packages')
      return path.join(dir, 'compliance');
    dir = path.dirname(dir);
  }
  return path.resolve('packages', 'server', 'compliance');
}

/** The JSON text of a value with every object's keys sorted: the same packs, the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The checksum of a set of packs (sha256 hex of their canonical JSON, sorted by id); '' for none. */
export function checksumOf(packs: readonly Pack[]): string {
  if (packs.length === 0) return '';
  const sorted = [...packs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return createHash('sha256').update(canonicalJson(sorted)).digest('hex');
}

/**
 * Checks one pack file's text: JSON, then the pack schema, then rule ids unique within the pack.
 * @throws PackError naming the file and what is wrong (the first schema error's path).
 */
export function parsePack(text: string, file: string): Pack {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new PackError(`compliance pack ${file}: not JSON: ${(err as Error).message}`);
  }
  if (!Value.Check(CompliancePack, value)) {
    const first = Value.Errors(CompliancePack, value).First();
    const where = first ? `${first.path || '/'}: ${first.message}` : 'does not match the schema';
    throw new PackError(`compliance pack ${file}: ${where}`);
  }
  const pack = value as Pack;
  const seen = new Set<string>();
  for (const rule of pack.rules) {
    if (seen.has(rule.id))
      throw new PackError(`compliance pack ${file}: rule id ${rule.id} is given twice`);
    seen.add(rule.id);
  }
  return pack;
}

/** The `.json` files of a directory, sorted by name. */
function packFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/**
 * Loads and checks every pack of the given directories (one JSON file per pack). The built-in
 * directory may be absent (no packs); an operator's directory (`required`) must exist.
 * @throws PackError for a bad file, a missing required directory, or a pack id given twice.
 */
export function loadPacks(dirs: readonly { dir: string; required: boolean }[]): PackCatalog {
  const byId = new Map<string, LoadedPack>();
  for (const { dir, required } of dirs) {
    if (!existsSync(dir)) {
      if (required) throw new PackError(`compliance packs directory ${dir} does not exist`);
      continue;
    }
    for (const file of packFiles(dir)) {
      const pack = parsePack(readFileSync(file, 'utf8'), file);
      const other = byId.get(pack.id);
      if (other)
        throw new PackError(
          `compliance pack ${file}: pack id ${pack.id} is given twice (also in ${other.file})`,
        );
      byId.set(pack.id, { pack, file });
    }
  }
  return catalogOf([...byId.values()].map((l) => l.pack));
}

/** A catalog of packs already checked. */
export function catalogOf(packs: readonly Pack[]): PackCatalog {
  const sorted = [...packs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const byId = new Map(sorted.map((p) => [p.id, p]));
  const rules = new Map(
    sorted.map((p) => [p.id, new Map(p.rules.map((r) => [r.id, r] as const))] as const),
  );
  return {
    packs: sorted,
    get: (id) => byId.get(id),
    rule: (packId, ruleId) => rules.get(packId)?.get(ruleId),
  };
}
