import type { AlertKey, Severity } from '../model.js';
import type { EffectiveThresholds, Rule, RuleKind } from '../rules.js';
import { breather } from './breather.js';
import { certSeverity, daysLeft } from './certs.js';
import type { EvaluatorDeps } from './deps.js';
import { diskForecast } from './forecast.js';
import { unreachableSeverity } from './unreachable.js';

const FORECAST_WINDOW_MS = 6 * 3_600_000;

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

/** Sets a condition of a periodic built-in (see the evaluator's `setSimple`). */
export type SetCondition = (
  key: AlertKey,
  rule: Rule,
  severity: Severity | null,
  text: () => string,
  value: number | null,
  threshold: number | null,
  agentId: string | null,
  at: number,
) => Promise<void> | undefined;

/**
 * One run of the periodic built-ins at `at` (epoch ms): hosts' liveness (`host_unreachable`),
 * agents' certificates (`cert_expiry`) and, for the hosts `forecastDue` names, file systems'
 * used bytes over the last 6 hours (`disk_forecast`). Each condition is set through
 * `setSimple`, which reports only changes.
 */
export async function judgePeriodic(ctx: {
  deps: EvaluatorDeps;
  at: number;
  kinds: ReadonlySet<RuleKind>;
  /** Of these hosts, those whose disks are to be forecast now (marked as forecast). */
  forecastDue(hostIds: readonly string[]): ReadonlySet<string>;
  rulesOf(hostId: string, kind: RuleKind): Promise<{ rule: Rule; t: EffectiveThresholds }[]>;
  setSimple: SetCondition;
}): Promise<void> {
  const { deps, at, kinds, rulesOf, setSimple } = ctx;
  const hosts = new Map((await deps.hosts.all()).map((h) => [h.id, h]));
  const work: (Promise<void> | undefined)[] = [];
  const pause = breather();
  if (kinds.has('host_unreachable')) {
    for (const [hostId, l] of await deps.liveness()) {
      const host = hosts.get(hostId);
      if (!host) continue;
      await pause();
      for (const { rule } of await rulesOf(hostId, 'host_unreachable')) {
        const failures = typeof rule.params.failures === 'number' ? rule.params.failures : 1;
        work.push(
          setSimple(
            { ruleId: rule.id, hostId, labels: {} },
            rule,
            unreachableSeverity(l, failures),
            () => `${host.name} is unreachable (${l.consecutive_failures} failed probes)`,
            l.consecutive_failures,
            failures,
            null,
            at,
          ),
        );
      }
    }
  }
  if (kinds.has('cert_expiry')) {
    for (const c of await deps.certificates()) {
      const host = hosts.get(c.hostId);
      if (!host) continue;
      await pause();
      for (const { rule, t } of await rulesOf(c.hostId, 'cert_expiry')) {
        const sev = certSeverity(c.notAfter, at, t);
        const left = daysLeft(c.notAfter, at);
        work.push(
          setSimple(
            { ruleId: rule.id, hostId: c.hostId, labels: { agent_id: c.agentId } },
            rule,
            sev,
            () =>
              `The certificate of agent ${c.agentId} on ${host.name} expires in ${fmt(Math.max(0, left))} days`,
            left,
            sev === 'critical' ? t.critical : t.warning,
            c.agentId,
            at,
          ),
        );
      }
    }
  }
  if (kinds.has('disk_forecast')) {
    const due = ctx.forecastDue([...hosts.keys()]);
    for (const host of hosts.values()) {
      if (!due.has(host.id)) continue;
      await pause();
      const list = await rulesOf(host.id, 'disk_forecast');
      if (list.length === 0) continue;
      const disks = await deps.disks(host.id, at - FORECAST_WINDOW_MS, at);
      for (const { rule } of list) {
        const hours = Number(rule.params.hours);
        for (const d of disks) {
          const f = diskForecast(d.used, d.totalBytes, at / 1000, hours);
          if (f === undefined) continue;
          work.push(
            setSimple(
              { ruleId: rule.id, hostId: host.id, labels: { mount: d.mount } },
              rule,
              f.full ? 'warning' : null,
              () => `${d.mount} on ${host.name} is predicted full within ${fmt(hours)} h`,
              f.predictedBytes,
              d.totalBytes,
              null,
              at,
            ),
          );
        }
      }
    }
  }
  await Promise.all(work);
}
