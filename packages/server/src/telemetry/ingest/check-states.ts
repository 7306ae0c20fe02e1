import { PLUGIN_STATES, parsePluginOutput } from '@vigil/protocol';
import type { CustomCheckResult, PerfDatum } from '@vigil/protocol';
import type { CheckDocument } from '@vigil/protocol/decode';
import type { CheckWrite } from '../rows.js';
import { nextCheckState, type CheckState } from './checks.js';

/**
 * The custom checks of ingested documents: their plugin output parsed once per run, and the
 * check states each document moves, against the current states (cached per host from its first
 * push on).
 */
export function createCheckTracker(deps: {
  /** The current states of a host's checks, as stored. */
  checkStates(hostId: string): Promise<{ name: string; state: CheckState }[]>;
  /** Consecutive non-OK results before a check's problem is HARD. */
  maxCheckAttempts: number;
}) {
  const { maxCheckAttempts } = deps;
  /** Current check states per host, loaded on a host's first push. */
  const checkCache = new Map<string, Map<string, CheckState>>();

  /**
   * The check states a document moves (only new executions of a plugin count). Without a promise
   * once the host's states are cached, as they are after its first push.
   */
  function checkWrites(hostId: string, doc: CheckDocument): CheckWrite[] | Promise<CheckWrite[]> {
    const checks = doc.customchecks;
    if (!checks) return [];
    const states = checkCache.get(hostId);
    if (states) return movedChecks(hostId, checks, states);
    return deps.checkStates(hostId).then((rows) => {
      const loaded = new Map(rows.map((c) => [c.name, c.state]));
      checkCache.set(hostId, loaded);
      return movedChecks(hostId, checks, loaded);
    });
  }

  function movedChecks(
    hostId: string,
    checks: Record<string, CustomCheckResult>,
    states: Map<string, CheckState>,
  ): CheckWrite[] {
    const out: CheckWrite[] = [];
    for (const name in checks) {
      const c = checks[name]!;
      const at = c.execution_unix_timestamp_sec * 1000;
      if (!Number.isFinite(at) || at <= 0) continue;
      // Most pushes repeat the last result of a check; nextCheckState would ignore it too.
      const prev = states.get(name);
      if (prev && at <= prev.lastCheck) continue;
      const output = c.output ?? (c.stdout.split('\n')[0] ?? '').split('|')[0]!.trim();
      const next = nextCheckState(
        prev,
        {
          rc: c.rc,
          at,
          output: output.slice(0, 4096),
          perfdata: JSON.stringify(c.perfdata ?? []),
        },
        maxCheckAttempts,
      );
      if (!next) continue;
      states.set(name, next.state);
      out.push({ hostId, name, ...next });
    }
    return out;
  }

  /**
   * Each host's custom checks' last parsed output, by check: agents repeat a check's result in
   * every document until the plugin runs again, so it is parsed once per run.
   */
  const parsedOutputs = new Map<
    string,
    Map<string, { stdout: string; output: string; longOutput: string; perfdata: PerfDatum[] }>
  >();

  /**
   * Parses the plugin output of custom checks that carry only `stdout` and `rc` (the
   * openITCOCKPIT agent sends no parsed view) into `output`, `long_output`, `perfdata` and
   * `state`, as Vigil's agent sends them. Checks that have `perfdata` are left as they are.
   */
  function parseCheckOutputs(hostId: string, checks: Record<string, CustomCheckResult>): void {
    let byName = parsedOutputs.get(hostId);
    for (const name in checks) {
      const c = checks[name]!;
      if (c.perfdata) continue;
      if (!byName) {
        if (parsedOutputs.size >= 10_000) parsedOutputs.clear();
        parsedOutputs.set(hostId, (byName = new Map()));
      }
      let parsed = byName.get(name);
      if (parsed?.stdout !== c.stdout) {
        if (byName.size >= 1_000) byName.clear();
        parsed = { stdout: c.stdout, ...parsePluginOutput(c.stdout) };
        byName.set(name, parsed);
      }
      c.output ??= parsed.output;
      c.long_output ??= parsed.longOutput;
      c.state ??= PLUGIN_STATES[c.rc] ?? 'UNKNOWN';
      c.perfdata = parsed.perfdata;
    }
  }

  return {
    writes: checkWrites,
    parseOutputs: parseCheckOutputs,
    /** Drops a host's cached states (after a failed commit they may be ahead of the store). */
    forget: (hostId: string) => void checkCache.delete(hostId),
  };
}
