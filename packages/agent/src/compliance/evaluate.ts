import type { ComplianceReport, ComplianceResult } from '@vigil/protocol';
import { parseOsRelease } from '../inventory/packages.js';
import { readBounded, under, type ProbeContext } from './context.js';
import type { HeldPack, HeldRule } from './pack.js';
import { createProbeRunner, type Outcome } from './probes.js';

/** The longest one rule's probe may take, in milliseconds (each command has its own bound). */
export const RULE_TIMEOUT_MS = 30_000;
/** The longest detail a result carries (the protocol's bound). */
const MAX_DETAIL = 500;

/** The families the rules of this system name: /etc/os-release's ID and ID_LIKE. */
export interface SystemPlatform {
  /** Every name the system answers to (`ubuntu`, `debian`; `rocky`, `rhel`, `centos`, `fedora`). */
  readonly names: ReadonlySet<string>;
  /** Why the platform is unknown (no readable /etc/os-release). */
  readonly unknown?: string;
}

/**
 * The platform of the system under `root`. RHEL-family systems also answer to `rhel` when their
 * ID or ID_LIKE names rhel, fedora or centos, so that a rule for `rhel` reaches Rocky, Alma,
 * CentOS Stream and Fedora.
 */
export async function systemPlatform(root: string): Promise<SystemPlatform> {
  const r = await readBounded(under(root, '/etc/os-release'), '/etc/os-release', 64 * 1024);
  if (!r.ok) return { names: new Set(), unknown: `cannot tell the platform: ${r.reason}` };
  const os = parseOsRelease(r.text);
  const names = new Set(
    `${os.get('ID') ?? ''} ${os.get('ID_LIKE') ?? ''}`
      .toLowerCase()
      .split(/\s+/)
      .filter((s) => s !== ''),
  );
  if (['rhel', 'fedora', 'centos'].some((n) => names.has(n))) names.add('rhel');
  return { names };
}

const clip = (s: string) => (s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL - 1)}…` : s);

/** Runs `work` with a time bound; the bound's outcome is an error. */
async function bounded(work: Promise<Outcome>, ms: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Outcome>((resolve) => {
    timer = setTimeout(
      () => resolve({ status: 'error', detail: `the probe took longer than ${ms / 1000} s` }),
      ms,
    );
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Evaluates one rule of `pack` (a malformed rule is an error, a foreign one not applicable). */
async function evaluateRule(
  pack: HeldPack,
  rule: HeldRule,
  platform: SystemPlatform,
  run: ReturnType<typeof createProbeRunner>,
  ruleTimeoutMs: number,
): Promise<ComplianceResult> {
  const result = (status: ComplianceResult['status'], detail: string): ComplianceResult => ({
    pack: pack.id,
    rule: rule.id,
    status,
    detail: clip(detail),
  });
  if (rule.invalid !== undefined || !rule.probe)
    return result('error', `malformed rule: ${rule.invalid ?? 'no probe'}`);
  if (platform.unknown !== undefined) return result('error', platform.unknown);
  if (!rule.platforms.some((p) => platform.names.has(p)))
    return result(
      'not_applicable',
      `applies to ${rule.platforms.join(', ')}; this system is ${[...platform.names].join(', ') || 'unknown'}`,
    );
  let out: Outcome;
  try {
    out = await bounded(run(rule.probe), ruleTimeoutMs);
  } catch (err) {
    out = { status: 'error', detail: (err as Error).message };
  }
  return result(out.status, out.detail);
}

/**
 * Evaluates every rule of `packs` on the system the context reads and returns the report the
 * document carries. Rules run one after another, yielding to the event loop between them, so
 * that an evaluation never holds up the collection cycle.
 */
export async function evaluatePacks(
  packs: readonly HeldPack[],
  checksum: string,
  ctx: ProbeContext,
  opts: { nowMs?: () => number; ruleTimeoutMs?: number } = {},
): Promise<ComplianceReport> {
  const now = opts.nowMs ?? Date.now;
  const platform = await systemPlatform(ctx.root);
  const run = createProbeRunner(ctx);
  const results: ComplianceResult[] = [];
  for (const pack of packs)
    for (const rule of pack.rules) {
      results.push(
        await evaluateRule(pack, rule, platform, run, opts.ruleTimeoutMs ?? RULE_TIMEOUT_MS),
      );
      await new Promise((r) => setImmediate(r));
    }
  return {
    checksum,
    evaluated_at: Math.floor(now() / 1000),
    packs: packs.map((p) => ({ id: p.id, version: p.version })),
    results,
  };
}

/** Counts of a report's statuses, for the log line of each evaluation. */
export function summarizeReport(report: ComplianceReport): string {
  const n = { pass: 0, fail: 0, error: 0, not_applicable: 0 };
  for (const r of report.results) n[r.status] += 1;
  return (
    `${report.results.length} rules of ${report.packs.map((p) => `${p.id}@${p.version}`).join(', ')}: ` +
    `${n.pass} pass, ${n.fail} fail, ${n.error} error, ${n.not_applicable} not applicable`
  );
}
