import type { ComplianceProbe } from '@vigil/protocol';
import { isRecord } from '@vigil/protocol/guards';

// The agent carries no schema library: packs arrive as plain JSON and are checked here, rule by
// rule. A rule that does not hold together is kept with the reason, so that it is reported as
// `error` instead of sinking the whole pack.

/** One rule of a held pack: its probe, or why it cannot be evaluated. */
export interface HeldRule {
  readonly id: string;
  /** OS families it applies to (`debian`, `rhel`, …); empty when the rule is malformed. */
  readonly platforms: readonly string[];
  /** The checked probe; undefined when `invalid` says what is wrong. */
  readonly probe?: ComplianceProbe;
  readonly invalid?: string;
}

/** A pack as the agent holds it. */
export interface HeldPack {
  readonly id: string;
  readonly version: string;
  readonly rules: readonly HeldRule[];
}

/** A push answer's `compliance`, as read by the agent. */
export interface ReadDelivery {
  /** Identifies the assigned packs ('' with none). */
  readonly checksum: string;
  readonly intervalSeconds: number;
  /** Present only when the server sent the packs (the checksum the agent sent differed). */
  readonly packs?: readonly HeldPack[];
}

/** How a push client reaches the packs the agent holds. */
export interface ComplianceLink {
  /** The checksum of the packs held, sent with every push; undefined before any answer. */
  checksum(): string | undefined;
  /** Takes a push answer's `compliance`. */
  onDelivery(delivery: ReadDelivery): void;
}

/** The `compliance_checksum` member of a push body (with its leading comma), or '' without one. */
export function checksumField(link: ComplianceLink | undefined): string {
  const held = link?.checksum();
  return held === undefined ? '' : `,"compliance_checksum":${JSON.stringify(held)}`;
}

/** The most rules of one pack, and the deepest nesting of `any`/`all`, the agent takes. */
const MAX_RULES = 1000;
const MAX_DEPTH = 3;
/** The interval the agent uses when the answer names none it can use, in seconds. */
export const DEFAULT_INTERVAL_SECONDS = 3600;

const ID = /^[a-z0-9][a-z0-9._-]{0,99}$/;
/**
 * A group holding a quantifier and itself quantified (`(a+)+`, `(\s*x)*`): the shape of patterns
 * that backtrack exponentially. Matching runs on the agent's only thread, so such a pattern from
 * a pack could stall the collection; the rule is refused instead.
 */
const NESTED_QUANTIFIER =
  /\((?:[^()\\]|\\.)*(?:[*+]|\{\d+,?\d*\})(?:[^()\\]|\\.)*\)(?:[*+]|\{\d+,?\d*\})/;
const PLATFORMS = new Set(['debian', 'ubuntu', 'rhel', 'fedora', 'centos', 'rocky', 'almalinux']);

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const abs = (v: unknown): v is string => str(v) && v.startsWith('/') && v.length <= 4096;
const oneOf = <T extends string>(v: unknown, values: readonly T[]): v is T =>
  typeof v === 'string' && (values as readonly string[]).includes(v);

/** A thrown reason why a probe is malformed. */
class Malformed extends Error {}
const need = (ok: boolean, reason: string) => {
  if (!ok) throw new Malformed(reason);
};
const noExtra = (p: Record<string, unknown>, keys: readonly string[]) => {
  const extra = Object.keys(p).filter((k) => !keys.includes(k));
  need(extra.length === 0, `${String(p.kind)} probe: unknown field ${extra.join(', ')}`);
};

/**
 * Checks one probe (recursively for `any`/`all`) and returns it typed.
 * @throws Malformed with the reason.
 */
function checkProbe(p: unknown, depth: number): ComplianceProbe {
  need(isRecord(p), 'the probe is not an object');
  const probe = p as Record<string, unknown>;
  const kind = probe.kind;
  switch (kind) {
    case 'file_content': {
      noExtra(probe, ['kind', 'paths', 'pattern', 'expect', 'missing']);
      const paths = probe.paths;
      need(
        Array.isArray(paths) && paths.length >= 1 && paths.length <= 32 && paths.every(abs),
        'file_content probe: paths must be 1 to 32 absolute paths',
      );
      need(
        (paths as string[]).every((x) => !x.slice(0, x.lastIndexOf('/')).includes('*')),
        'file_content probe: `*` may stand only in the last segment of a path',
      );
      need(
        str(probe.pattern) && probe.pattern.length <= 1024,
        'file_content probe: pattern must be 1 to 1024 characters',
      );
      try {
        new RegExp(probe.pattern as string, 'i');
      } catch (err) {
        throw new Malformed(`file_content probe: bad pattern: ${(err as Error).message}`);
      }
      need(
        !NESTED_QUANTIFIER.test(probe.pattern as string),
        'file_content probe: the pattern repeats a group that itself repeats (it could take exponential time)',
      );
      need(
        oneOf(probe.expect, ['match', 'no_match']),
        'file_content probe: expect must be match or no_match',
      );
      need(
        probe.missing === undefined || oneOf(probe.missing, ['pass', 'fail']),
        'file_content probe: missing must be pass or fail',
      );
      return probe as ComplianceProbe;
    }
    case 'sysctl':
      noExtra(probe, ['kind', 'key', 'op', 'value']);
      need(
        typeof probe.key === 'string' &&
          /^[a-z0-9_.-]+$/.test(probe.key) &&
          !probe.key.includes('..'),
        'sysctl probe: bad key',
      );
      need(oneOf(probe.op, ['eq', 'ne', 'ge', 'le']), 'sysctl probe: op must be eq, ne, ge or le');
      need(
        (typeof probe.value === 'number' && Number.isFinite(probe.value)) ||
          typeof probe.value === 'string',
        'sysctl probe: value must be a number or a string',
      );
      return probe as ComplianceProbe;
    case 'package':
      noExtra(probe, ['kind', 'name', 'expect']);
      need(
        typeof probe.name === 'string' && /^[A-Za-z0-9][A-Za-z0-9+._-]*$/.test(probe.name),
        'package probe: bad name',
      );
      need(
        oneOf(probe.expect, ['installed', 'absent']),
        'package probe: expect must be installed or absent',
      );
      return probe as ComplianceProbe;
    case 'service':
      noExtra(probe, ['kind', 'unit', 'enabled', 'active']);
      need(
        typeof probe.unit === 'string' && /^[A-Za-z0-9@._:-]+$/.test(probe.unit),
        'service probe: bad unit',
      );
      need(
        (probe.enabled === undefined || typeof probe.enabled === 'boolean') &&
          (probe.active === undefined || typeof probe.active === 'boolean'),
        'service probe: enabled and active must be booleans',
      );
      need(
        probe.enabled !== undefined || probe.active !== undefined,
        'service probe: names neither enabled nor active',
      );
      return probe as ComplianceProbe;
    case 'file_mode':
      noExtra(probe, ['kind', 'path', 'max_mode', 'owner', 'group', 'missing']);
      need(abs(probe.path), 'file_mode probe: path must be absolute');
      need(
        probe.max_mode === undefined ||
          (typeof probe.max_mode === 'string' && /^0?[0-7]{3,4}$/.test(probe.max_mode)),
        'file_mode probe: max_mode must be octal text such as 0644',
      );
      need(
        (probe.owner === undefined || str(probe.owner)) &&
          (probe.group === undefined || str(probe.group)),
        'file_mode probe: owner and group must be names',
      );
      need(
        probe.missing === undefined || oneOf(probe.missing, ['pass', 'fail']),
        'file_mode probe: missing must be pass or fail',
      );
      return probe as ComplianceProbe;
    case 'port':
      noExtra(probe, ['kind', 'protocol', 'port', 'expect']);
      need(oneOf(probe.protocol, ['tcp', 'udp']), 'port probe: protocol must be tcp or udp');
      need(
        Number.isInteger(probe.port) &&
          (probe.port as number) >= 1 &&
          (probe.port as number) <= 65535,
        'port probe: port must be 1 to 65535',
      );
      need(
        oneOf(probe.expect, ['listening', 'closed']),
        'port probe: expect must be listening or closed',
      );
      return probe as ComplianceProbe;
    case 'world_writable':
      noExtra(probe, ['kind', 'path', 'max_depth']);
      need(abs(probe.path), 'world_writable probe: path must be absolute');
      need(
        probe.max_depth === undefined ||
          (Number.isInteger(probe.max_depth) &&
            (probe.max_depth as number) >= 1 &&
            (probe.max_depth as number) <= 16),
        'world_writable probe: max_depth must be 1 to 16',
      );
      return probe as ComplianceProbe;
    case 'security_updates':
      noExtra(probe, ['kind', 'max']);
      need(
        Number.isInteger(probe.max) && (probe.max as number) >= 0,
        'security_updates probe: max must be a whole number >= 0',
      );
      return probe as ComplianceProbe;
    case 'any':
    case 'all': {
      noExtra(probe, ['kind', 'probes']);
      need(depth < MAX_DEPTH, `${kind}: nested more than ${MAX_DEPTH} levels`);
      const inner = probe.probes;
      need(
        Array.isArray(inner) && inner.length >= 1 && inner.length <= 16,
        `${kind}: probes must hold 1 to 16 probes`,
      );
      return { kind, probes: (inner as unknown[]).map((x) => checkProbe(x, depth + 1)) };
    }
    default:
      throw new Malformed(`unknown probe kind ${JSON.stringify(kind)}`);
  }
}

/** Reads one rule; a malformed one is kept (when it has an id) with the reason. */
export function readRule(raw: unknown, index: number): HeldRule {
  const r = isRecord(raw) ? raw : {};
  const id = typeof r.id === 'string' && ID.test(r.id) ? r.id : `#${index + 1}`;
  const invalid = (reason: string): HeldRule => ({ id, platforms: [], invalid: reason });
  if (!isRecord(raw)) return invalid('the rule is not an object');
  if (id.startsWith('#')) return invalid('the rule has no valid id');
  const platforms = r.platforms;
  if (
    !Array.isArray(platforms) ||
    platforms.length === 0 ||
    !platforms.every((p) => typeof p === 'string' && PLATFORMS.has(p))
  )
    return invalid(`platforms must list some of ${[...PLATFORMS].join(', ')}`);
  try {
    return { id, platforms: platforms as string[], probe: checkProbe(r.probe, 1) };
  } catch (err) {
    if (err instanceof Malformed) return invalid(err.message);
    throw err;
  }
}

/** Reads one pack; undefined when it has no usable id, version or rules list. */
export function readPack(raw: unknown): HeldPack | undefined {
  if (!isRecord(raw)) return undefined;
  const { id, version, rules } = raw;
  if (typeof id !== 'string' || !ID.test(id)) return undefined;
  if (typeof version !== 'string' || version === '') return undefined;
  if (!Array.isArray(rules)) return undefined;
  const held: HeldRule[] = [];
  const seen = new Set<string>();
  for (const [i, r] of rules.slice(0, MAX_RULES).entries()) {
    const rule = readRule(r, i);
    // A second rule of the same id cannot be told apart in the report: it is left out.
    if (seen.has(rule.id)) continue;
    seen.add(rule.id);
    held.push(rule);
  }
  return { id, version, rules: held };
}

/**
 * Reads a push answer's `compliance`; undefined when the answer has none (a server from before
 * compliance) or it is not of the documented shape. Packs that cannot be reported by id are left
 * out; malformed rules are kept with their reason.
 */
export function complianceDeliveryOf(answer: unknown): ReadDelivery | undefined {
  if (!isRecord(answer) || !isRecord(answer.compliance)) return undefined;
  const { checksum, interval_seconds: interval, packs } = answer.compliance;
  if (typeof checksum !== 'string') return undefined;
  const intervalSeconds =
    typeof interval === 'number' && Number.isInteger(interval) && interval >= 60
      ? interval
      : DEFAULT_INTERVAL_SECONDS;
  if (!Array.isArray(packs)) return { checksum, intervalSeconds };
  const held: HeldPack[] = [];
  for (const p of packs) {
    const pack = readPack(p);
    if (pack && !held.some((h) => h.id === pack.id)) held.push(pack);
  }
  return { checksum, intervalSeconds, packs: held };
}
