import type { Host } from '../host.js';
import { systemProbeContext } from './context.js';
import { evaluatePacks } from './evaluate.js';
import { startComplianceScheduler, type ComplianceScheduler } from './scheduler.js';

export { complianceDeliveryOf, type ReadDelivery } from './pack.js';
export type { ComplianceScheduler } from './scheduler.js';

/**
 * Starts the compliance evaluation of this machine: packs read under the host's root file system
 * (`[vigil] rootfs`, `/` by default) and procfs, systemctl and rpm asked only when that root is
 * `/`. `securityUpdates` gives the pending security updates of the last package scan, or why
 * they are not known. `enabled: false` (`[vigil] compliance = false`) evaluates nothing.
 */
export function startCompliance(opts: {
  host: () => Host;
  log: (line: string) => void;
  securityUpdates: () => number | string;
  enabled: boolean;
}): ComplianceScheduler {
  return startComplianceScheduler({
    log: opts.log,
    enabled: opts.enabled,
    evaluate: (packs, checksum) => {
      const host = opts.host();
      const ctx = systemProbeContext({
        root: host.rootfs.root,
        procRoot: host.proc.root,
        exec: host.exec,
        securityUpdates: opts.securityUpdates,
      });
      return evaluatePacks(packs, checksum, ctx);
    },
  });
}
