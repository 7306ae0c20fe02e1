import type { ComplianceReport } from '@vigil/protocol';
import { summarizeReport } from './evaluate.js';
import type { HeldPack, ReadDelivery } from './pack.js';

/** Evaluates packs and returns the report (see `evaluatePacks`). */
export type EvaluateFn = (
  packs: readonly HeldPack[],
  checksum: string,
) => Promise<ComplianceReport>;

/**
 * The compliance packs this agent holds and their latest evaluation. Packs live in memory only:
 * after a restart the agent sends no checksum and the server's first answer brings them again.
 */
export interface ComplianceScheduler {
  /**
   * Takes a push answer's `compliance`. New packs are evaluated at once; checksum '' drops the
   * packs and the report; a changed interval takes effect for the next evaluation.
   */
  apply(delivery: ReadDelivery): void;
  /** The checksum of the packs held, for the next push; undefined before any answer. */
  checksum(): string | undefined;
  /** The latest report, for every document until the next one; undefined with no packs. */
  report(): ComplianceReport | undefined;
  /** Settles when no evaluation is running (tests wait on it). */
  idle(): Promise<void>;
  /** Stops the timer and waits for a running evaluation. */
  stop(): Promise<void>;
}

/**
 * Starts the scheduler. It evaluates the packs when they change and then every interval, one
 * evaluation at a time: a change during an evaluation starts one more right after it. Switched
 * off (`enabled: false`, `[vigil] compliance = false`), it evaluates nothing and sends no report,
 * but takes the checksum of what it is sent, so that the server stops sending the packs.
 */
export function startComplianceScheduler(opts: {
  evaluate: EvaluateFn;
  log: (line: string) => void;
  enabled?: boolean;
}): ComplianceScheduler {
  const { log } = opts;
  if (opts.enabled === false) return switchedOff(log);
  let checksum: string | undefined;
  let packs: readonly HeldPack[] = [];
  let intervalSeconds = 0;
  let latest: ComplianceReport | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const arm = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (stopped || packs.length === 0 || intervalSeconds <= 0) return;
    timer = setTimeout(() => trigger(), intervalSeconds * 1000);
    timer.unref();
  };

  const evaluateOnce = async () => {
    const held = packs;
    const sum = checksum ?? '';
    const started = Date.now();
    try {
      const report = await opts.evaluate(held, sum);
      // The held packs may have been dropped or replaced meanwhile: that report is stale.
      if (held !== packs || stopped) return;
      // A report is told from the previous one by its evaluation time (whole seconds).
      if (latest && report.evaluated_at <= latest.evaluated_at)
        report.evaluated_at = latest.evaluated_at + 1;
      latest = report;
      log(
        `compliance: evaluated ${summarizeReport(report)} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    } catch (err) {
      log(`compliance evaluation failed: ${(err as Error).message}`);
    }
  };

  const trigger = () => {
    if (stopped || packs.length === 0) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await evaluateOnce();
      } while (again && !stopped && packs.length > 0);
    })().finally(() => {
      running = undefined;
      arm();
    });
  };

  return {
    apply(delivery) {
      const intervalChanged = delivery.intervalSeconds !== intervalSeconds;
      intervalSeconds = delivery.intervalSeconds;
      if (delivery.checksum === '') {
        if (packs.length > 0 || latest) log('compliance: no packs are assigned any more');
        checksum = '';
        packs = [];
        latest = undefined;
        arm();
        return;
      }
      if (delivery.packs) {
        if (delivery.checksum === checksum) {
          if (intervalChanged && !running) arm();
          return;
        }
        const names = delivery.packs.map((p) => `${p.id}@${p.version}`).join(', ');
        log(
          `compliance: ${checksum ? 'packs changed' : 'packs received'}: ${names || 'none usable'} ` +
            `(every ${intervalSeconds} s)`,
        );
        checksum = delivery.checksum;
        packs = delivery.packs;
        if (packs.length === 0) {
          latest = undefined;
          arm();
          return;
        }
        trigger();
        return;
      }
      // No packs: the server holds the agent's checksum for current (or a push raced a change;
      // the next push sends the held checksum and gets them).
      if (intervalChanged && !running) arm();
    },
    checksum: () => checksum,
    report: () => latest,
    idle: async () => {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      while (running) await running;
    },
  };
}

/** The scheduler of an agent whose compliance evaluation is switched off. */
function switchedOff(log: (line: string) => void): ComplianceScheduler {
  let checksum: string | undefined;
  return {
    apply(delivery) {
      if (delivery.packs && delivery.checksum !== '' && delivery.checksum !== checksum)
        log(
          'compliance: the server assigns packs to this host, but evaluation is off here ([vigil] compliance = false)',
        );
      checksum = delivery.checksum;
    },
    checksum: () => checksum,
    report: () => undefined,
    idle: async () => undefined,
    stop: async () => undefined,
  };
}
