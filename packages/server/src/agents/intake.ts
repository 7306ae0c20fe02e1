import type { PullTls } from '@vigil/protocol';
import { isRecord } from '@vigil/protocol/guards';
import { ingestTarget, type AgentPatch, type AgentRow } from './model.js';

/** What the intake needs of the agents table. */
export interface IntakeStore {
  update(id: string, patch: AgentPatch): Promise<void>;
  /** The agent's newest document, as JSON text. */
  latestDocument(id: string): Promise<{ collected_at: number; document: string } | undefined>;
}

/** Where the intake hands documents and inventories on to: telemetry. */
export interface IntakeTelemetry {
  /**
   * Validates, normalises and stores one document of an agent on a host, collected at the time
   * the document says (`collectedAt` undefined); resolves once it is committed and its facts are
   * recorded (the ingest event's subscribers).
   * @throws VigilError bad_data; nothing is stored then.
   */
  ingest(
    target: { agentId: string; hostId: string },
    collectedAt: number | undefined,
    document: unknown,
  ): Promise<unknown>;
  /** Stores an agent's package inventory in place of the one before. */
  ingestInventory(agentId: string, inventory: unknown): Promise<void>;
}

/** What is told of each package inventory stored for a host (host intelligence compares it). */
export interface InventoryObserver {
  /** Called once an agent's inventory is stored, with the agent's host; never rejects. */
  inventory(target: { agentId: string; hostId: string }, inventory: unknown): Promise<void>;
}

/**
 * Whether a check-data document carries no data at all (`{}`). The openITCOCKPIT agent answers
 * `GET /` so from every start or reload of its web server (after Auto-TLS, a configuration push,
 * each certificate renewal) until its checks first ran (`webserver/handler.go`, `getState`): a
 * sign of life, not a host whose values are all gone.
 */
export function hasNoData(doc: Record<string, unknown>): boolean {
  return Object.keys(doc).length === 0;
}

/**
 * Whether a package inventory (the agent's `GET /packages` answer) is one not yet scanned: the
 * openITCOCKPIT agent has `{"Enabled": true, "Pending": true}` with empty lists from every start
 * or reload until its first scan ends, 90 s later.
 */
export function isPendingInventory(inventory: unknown): boolean {
  if (!isRecord(inventory)) return false;
  const { Enabled, Pending, LastUpdate } = inventory;
  return (
    Enabled === true && (Pending === true || typeof LastUpdate !== 'number' || LastUpdate <= 0)
  );
}

/**
 * What agents send besides their documents (which go to telemetry's ingest straight from the
 * push routes): contacts without data, package inventories, and what the puller brings back
 * from pull agents. The facts documents tell about their agent are recorded by the facts
 * recorder (`facts.ts`), a subscriber of the ingest event.
 */
export const createAgentIntake = (deps: {
  store: IntakeStore;
  ingest: IntakeTelemetry;
  now: () => number;
  /** Told of every stored inventory of an agent linked to a host. */
  inventories?: InventoryObserver;
}) => {
  const { store, now } = deps;
  /** Tells the observer of a stored inventory when the agent has a host. */
  const stored = async (agent: AgentRow, inventory: unknown): Promise<void> => {
    if (agent.host_id && deps.inventories)
      await deps.inventories.inventory({ agentId: agent.id, hostId: agent.host_id }, inventory);
  };
  return {
    /**
     * Records a contact without data (a `{}` document, `hasNoData`): the agent is seen, its
     * host keeps its values.
     */
    async recordContact(agent: AgentRow): Promise<void> {
      const t = now();
      await store.update(agent.id, { last_seen: t, updated_at: t });
    },

    /**
     * Stores a package inventory an agent sent; a pending one (`isPendingInventory`) leaves the
     * stored inventory as it is.
     */
    async submitInventory(agent: AgentRow, inventory: unknown): Promise<void> {
      if (!isPendingInventory(inventory)) {
        await deps.ingest.ingestInventory(agent.id, inventory);
        await stored(agent, inventory);
      }
      await store.update(agent.id, { last_seen: now() });
    },

    /**
     * Stores the package inventory pulled from an agent (`GET /packages`), unless it is pending
     * (`isPendingInventory`): the stored one is kept then. Returns whether it was stored.
     */
    async recordPullInventory(agent: AgentRow, inventory: unknown): Promise<boolean> {
      if (isPendingInventory(inventory)) return false;
      await deps.ingest.ingestInventory(agent.id, inventory);
      await stored(agent, inventory);
      return true;
    },

    /**
     * Records how talking to a pull agent went: its TLS state, its last error and its last
     * contact. A document is ingested (its facts are recorded by the ingest event's subscriber
     * before `ingest` resolves), one without data (`hasNoData`) only counts as a contact.
     */
    async recordPull(
      agent: AgentRow,
      outcome: { tls?: PullTls; document?: Record<string, unknown>; error?: string },
    ): Promise<void> {
      const t = now();
      const patch: AgentPatch = { updated_at: t, last_error: outcome.error ?? null };
      if (outcome.tls !== undefined) patch.pull_tls = outcome.tls;
      // A document without data is a contact, not a push: the host keeps its values.
      if (outcome.document && hasNoData(outcome.document)) patch.last_seen = t;
      else if (outcome.document) {
        try {
          await deps.ingest.ingest(ingestTarget(agent), undefined, outcome.document);
          patch.last_seen = t;
        } catch (err) {
          patch.last_error = (err as Error).message;
        }
      }
      await store.update(agent.id, patch);
    },

    /** The agent's latest document (JSON text), if any. */
    latestDocument: (id: string) => store.latestDocument(id),
  };
};

/** The agents intake. */
export type AgentIntake = ReturnType<typeof createAgentIntake>;
