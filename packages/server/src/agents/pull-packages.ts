import { isRecord } from '@vigil/protocol/guards';
import type { AgentIntake } from './intake.js';
import { hasNoData } from './intake.js';
import type { AgentRow } from './model.js';
import { parseAnswer, type PullClient } from './pull-client.js';

/**
 * How often the package inventory (`GET /packages`) of an agent whose document carries no
 * inventory summary (`packagemanager.LastUpdate`) is read: the openITCOCKPIT agent's default
 * scan interval (`[packagemanager] check-interval = 60` minutes). An agent whose document does
 * carry it is read whenever `LastUpdate` changes.
 */
export const PACKAGES_INTERVAL_MS = 3_600_000;

/**
 * How long the puller waits before it reads `GET /packages` again after a read that failed or
 * found the inventory still pending, while the document says a new one is there.
 */
export const PACKAGES_RETRY_MS = 600_000;

/**
 * The package inventory summary of a document (the openITCOCKPIT agent's `packagemanager`), or
 * undefined when it carries none or the inventory is switched off (`{"enabled": false}`).
 */
function inventorySummaryOf(
  doc: Record<string, unknown>,
): { pending: boolean; lastUpdate: number } | undefined {
  const pm = doc.packagemanager;
  if (!isRecord(pm) || pm.Enabled !== true) return undefined;
  return {
    pending: pm.Pending === true,
    lastUpdate: typeof pm.LastUpdate === 'number' ? pm.LastUpdate : 0,
  };
}

/** Reads a pull agent's package inventory (`GET /packages`) after a pull, when it is due. */
export type PackageReader = (
  agent: AgentRow,
  secure: boolean,
  doc: Record<string, unknown>,
) => Promise<void>;

/** A package reader that keeps, per agent, when it last read and what it found. */
export function createPackageReader(deps: {
  client: Pick<PullClient, 'call'>;
  intake: Pick<AgentIntake, 'recordPullInventory'>;
  log: { warn(o: object, m: string): void; info(o: object, m: string): void };
  now: () => number;
}): PackageReader {
  const { now } = deps;
  /**
   * The last read of each agent's package inventory: when, whether it was stored, and the
   * `LastUpdate` of the inventory stored last.
   */
  const packagesRead = new Map<string, { at: number; ok: boolean; lastUpdate?: number }>();

  /**
   * Whether the package inventory is to be read after `doc`. The openITCOCKPIT agent scans its
   * packages 90 s after every start or reload and then every `check-interval` minutes, and its
   * document's `packagemanager` summary says when the last scan ended (`LastUpdate`); until the
   * first one ends it says `Pending`, and `GET /packages` has empty lists. So an agent whose
   * document carries the summary is read when `LastUpdate` changes, and one whose document does
   * not every `PACKAGES_INTERVAL_MS`; after a read that failed or found the inventory pending, not
   * again within `PACKAGES_RETRY_MS`. A document without data (`{}`) decides nothing.
   */
  function packagesDue(agent: AgentRow, doc: Record<string, unknown>, t: number): boolean {
    if (hasNoData(doc)) return false;
    const last = packagesRead.get(agent.id);
    if (last && !last.ok && t - last.at < PACKAGES_RETRY_MS) return false;
    const summary = inventorySummaryOf(doc);
    if (!summary) return !last || !last.ok || t - last.at >= PACKAGES_INTERVAL_MS;
    return !summary.pending && summary.lastUpdate > 0 && summary.lastUpdate !== last?.lastUpdate;
  }

  /**
   * Reads the package inventory when it is due (see `packagesDue`) and stores it, unless it is
   * still pending: a stored inventory is never replaced by an empty one. A failure is logged,
   * not the pull's.
   */
  async function packages(
    agent: AgentRow,
    secure: boolean,
    doc: Record<string, unknown>,
  ): Promise<void> {
    const t = now();
    if (!packagesDue(agent, doc, t)) return;
    const previous = packagesRead.get(agent.id)?.lastUpdate;
    packagesRead.set(agent.id, { at: t, ok: false, lastUpdate: previous });
    try {
      const inventory = parseAnswer(
        agent,
        await deps.client.call(agent, secure, 'GET', '/packages'),
        'GET /packages',
      );
      if (!(await deps.intake.recordPullInventory(agent, inventory))) {
        deps.log.info(
          { agent_id: agent.id, address: agent.pull_address },
          'pull agent: package inventory still pending; the stored one is kept',
        );
        return;
      }
      packagesRead.set(agent.id, {
        at: t,
        ok: true,
        lastUpdate: typeof inventory.LastUpdate === 'number' ? inventory.LastUpdate : undefined,
      });
    } catch (err) {
      deps.log.warn(
        { agent_id: agent.id, address: agent.pull_address, err: (err as Error).message },
        'pull agent: no package inventory',
      );
    }
  }

  return packages;
}
