import { Type, type Static, type TSchema } from '@sinclair/typebox';

// Compliance rule packs: hardening rules shipped as data, delivered by the server to the agents of
// the hosts they are assigned to, and evaluated there with read-only probes. The results ride in
// the check-data document (`compliance`). The agent reads packs with its own checks (it carries no
// schema library); the server validates every pack it loads against these schemas.

const Str = Type.String();
const Id = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,99}$' });

/** How bad a failing rule is. */
export const ComplianceSeverity = Type.Union([
  Type.Literal('low'),
  Type.Literal('medium'),
  Type.Literal('high'),
  Type.Literal('critical'),
]);
export type ComplianceSeverity = Static<typeof ComplianceSeverity>;

/** Where a rule comes from: a benchmark and its section number (`CIS Debian Linux 12`, `5.1.20`). */
export const ComplianceReference = Type.Object(
  { framework: Type.String({ minLength: 1 }), section: Type.String({ minLength: 1 }) },
  { additionalProperties: false },
);

/** Comparison of a read value with an expected one (`sysctl`). */
export const ComplianceComparison = Type.Union([
  Type.Literal('eq'),
  Type.Literal('ne'),
  Type.Literal('ge'),
  Type.Literal('le'),
]);

const Path = Type.String({ pattern: '^/', maxLength: 4096 });

/**
 * One read-only probe. Paths are absolute on the agent's machine (read under a root directory,
 * `/` outside tests). `file_content` passes when some line of some existing file of `paths`
 * (a `*` may stand in the last segment) matches `pattern` (`expect: "match"`), or when none does
 * (`"no_match"`); with no file at all it gives `missing`.
 */
export const FileContentProbe = Type.Object(
  {
    kind: Type.Literal('file_content'),
    paths: Type.Array(Path, { minItems: 1, maxItems: 32 }),
    pattern: Type.String({ minLength: 1, maxLength: 1024 }),
    expect: Type.Union([Type.Literal('match'), Type.Literal('no_match')]),
    missing: Type.Optional(Type.Union([Type.Literal('pass'), Type.Literal('fail')])),
  },
  { additionalProperties: false },
);
/** A kernel parameter, read from /proc/sys (`net.ipv4.ip_forward`), compared as a number or text. */
export const SysctlProbe = Type.Object(
  {
    kind: Type.Literal('sysctl'),
    key: Type.String({ pattern: '^[a-z0-9_.-]+$' }),
    op: ComplianceComparison,
    value: Type.Union([Type.Number(), Str]),
  },
  { additionalProperties: false },
);
/** A package installed or absent (dpkg's status file, or the rpm database through `rpm -q`). */
export const PackageProbe = Type.Object(
  {
    kind: Type.Literal('package'),
    name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9+._-]*$' }),
    expect: Type.Union([Type.Literal('installed'), Type.Literal('absent')]),
  },
  { additionalProperties: false },
);
/** A systemd unit enabled and/or active (either may be left out). */
export const ServiceProbe = Type.Object(
  {
    kind: Type.Literal('service'),
    unit: Type.String({ pattern: '^[A-Za-z0-9@._:-]+$' }),
    enabled: Type.Optional(Type.Boolean()),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
/** A file's mode no looser than `max_mode` (octal text) and its owner and group, where given. */
export const FileModeProbe = Type.Object(
  {
    kind: Type.Literal('file_mode'),
    path: Path,
    max_mode: Type.Optional(Type.String({ pattern: '^0?[0-7]{3,4}$' })),
    owner: Type.Optional(Str),
    group: Type.Optional(Str),
    missing: Type.Optional(Type.Union([Type.Literal('pass'), Type.Literal('fail')])),
  },
  { additionalProperties: false },
);
/** A port listening (or not) on any address (from /proc/net). */
export const PortProbe = Type.Object(
  {
    kind: Type.Literal('port'),
    protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp')]),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    expect: Type.Union([Type.Literal('listening'), Type.Literal('closed')]),
  },
  { additionalProperties: false },
);
/** No world-writable regular file under `path` (symbolic links not followed, depth bounded). */
export const WorldWritableProbe = Type.Object(
  {
    kind: Type.Literal('world_writable'),
    path: Path,
    max_depth: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
  },
  { additionalProperties: false },
);
/** At most `max` pending security updates, from the agent's package inventory. */
export const SecurityUpdatesProbe = Type.Object(
  { kind: Type.Literal('security_updates'), max: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);

/** A probe, or `any` / `all` of several (nested at most a few levels). */
export type ComplianceProbe =
  | Static<typeof FileContentProbe>
  | Static<typeof SysctlProbe>
  | Static<typeof PackageProbe>
  | Static<typeof ServiceProbe>
  | Static<typeof FileModeProbe>
  | Static<typeof PortProbe>
  | Static<typeof WorldWritableProbe>
  | Static<typeof SecurityUpdatesProbe>
  | { kind: 'any' | 'all'; probes: ComplianceProbe[] };

const Leaf = Type.Union([
  FileContentProbe,
  SysctlProbe,
  PackageProbe,
  ServiceProbe,
  FileModeProbe,
  PortProbe,
  WorldWritableProbe,
  SecurityUpdatesProbe,
]);
const Combined = <T extends TSchema>(inner: T) =>
  Type.Object(
    {
      kind: Type.Union([Type.Literal('any'), Type.Literal('all')]),
      probes: Type.Array(inner, { minItems: 1, maxItems: 16 }),
    },
    { additionalProperties: false },
  );
const combine = (inner: typeof Leaf) => Type.Union([inner, Combined(inner)]);
/** The probe schema: leaves, combined up to three levels deep. */
export const ComplianceProbeSchema = Type.Union([Leaf, Combined(combine(Leaf))]);

/** OS families a rule applies to, as /etc/os-release's `ID` and `ID_LIKE` name them. */
export const CompliancePlatform = Type.Union([
  Type.Literal('debian'),
  Type.Literal('ubuntu'),
  Type.Literal('rhel'),
  Type.Literal('fedora'),
  Type.Literal('centos'),
  Type.Literal('rocky'),
  Type.Literal('almalinux'),
]);

/** One hardening rule. */
export const ComplianceRule = Type.Object(
  {
    id: Id,
    title: Type.String({ minLength: 1, maxLength: 200 }),
    severity: ComplianceSeverity,
    rationale: Type.String({ minLength: 1 }),
    remediation: Type.String({ minLength: 1 }),
    references: Type.Array(ComplianceReference, { minItems: 1 }),
    /** Families it applies to; on another system the rule is `not_applicable`. */
    platforms: Type.Array(CompliancePlatform, { minItems: 1 }),
    probe: ComplianceProbeSchema,
  },
  { additionalProperties: false, title: 'ComplianceRule' },
);
export type ComplianceRule = Omit<Static<typeof ComplianceRule>, 'probe'> & {
  probe: ComplianceProbe;
};

/** A rule pack: versioned, identified by `id`. */
export const CompliancePack = Type.Object(
  {
    id: Id,
    version: Type.String({ pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' }),
    title: Type.String({ minLength: 1 }),
    description: Type.String(),
    rules: Type.Array(ComplianceRule, { minItems: 1, maxItems: 1000 }),
  },
  { additionalProperties: false, title: 'CompliancePack' },
);
export type CompliancePack = Omit<Static<typeof CompliancePack>, 'rules'> & {
  rules: ComplianceRule[];
};

/** A rule's outcome on a host. */
export const ComplianceStatus = Type.Union([
  Type.Literal('pass'),
  Type.Literal('fail'),
  Type.Literal('error'),
  Type.Literal('not_applicable'),
]);
export type ComplianceStatus = Static<typeof ComplianceStatus>;

/** One rule's result in a report; `detail` says what was found (at most 500 characters). */
export const ComplianceResult = Type.Object(
  {
    pack: Str,
    rule: Str,
    status: ComplianceStatus,
    detail: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: true },
);
export type ComplianceResult = Static<typeof ComplianceResult>;

/**
 * The check-data document's `compliance` (Vigil): the agent's latest evaluation of the packs it
 * holds, sent with every push until the next one (`evaluated_at` in epoch seconds tells a new
 * evaluation from a repeated one).
 */
export const ComplianceReport = Type.Object(
  {
    checksum: Str,
    evaluated_at: Type.Integer(),
    packs: Type.Array(Type.Object({ id: Str, version: Str }, { additionalProperties: true })),
    results: Type.Array(ComplianceResult),
  },
  { additionalProperties: true },
);
export type ComplianceReport = Static<typeof ComplianceReport>;

/**
 * A native push answer's `compliance`: the checksum of the packs assigned to the agent's host
 * ('' with none: the agent stops evaluating and sends no report), how often to evaluate, and the
 * packs themselves only when the push's `compliance_checksum` differs from `checksum`.
 */
export const ComplianceDelivery = Type.Object(
  {
    checksum: Str,
    interval_seconds: Type.Integer({ minimum: 60 }),
    packs: Type.Optional(Type.Array(CompliancePack)),
  },
  { additionalProperties: false, title: 'ComplianceDelivery' },
);
export type ComplianceDelivery = Omit<Static<typeof ComplianceDelivery>, 'packs'> & {
  packs?: CompliancePack[];
};
