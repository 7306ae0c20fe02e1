import { CheckData, PackageInventory } from '@vigil/protocol';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { VigilError } from '../errors.js';

/** One accepted check-data document, as the store records it. */
export interface ReportRow {
  agentId: string;
  /** When the agent collected it (epoch ms); with the agent id, the document's identity. */
  collectedAt: number;
  receivedAt: number;
  checks: number;
  /** The document as JSON text. */
  document: string;
}

/** Where ingested documents are kept. */
export interface IngestStore {
  /**
   * Records a document and makes it the agent's latest when it is the newest. Returns false,
   * changing nothing, when a document with the same agent and collection time was recorded.
   */
  record(row: ReportRow): Promise<boolean>;
  /** Replaces the agent's package inventory. */
  saveInventory(agentId: string, receivedAt: number, inventory: string): Promise<void>;
  /** Deletes at most `limit` report rows received before `beforeMs`; returns how many. */
  pruneReports(beforeMs: number, limit: number): Promise<number>;
}

/** What ingesting one document did. */
export interface IngestOutcome {
  /** Check entries taken in: one per section of the document, one per custom check. */
  received_checks: number;
  /** True when the same document had been ingested before (nothing was stored again). */
  duplicate: boolean;
}

/** Compiles a schema into a checker that names the first bad path. */
function checker(schema: TSchema): (value: unknown) => string | undefined {
  const compiled = TypeCompiler.Compile(schema);
  return (value) => {
    if (compiled.Check(value)) return undefined;
    const first = compiled.Errors(value).First();
    return first ? `${first.path || '/'}: ${first.message}` : 'invalid document';
  };
}

/** Counts the check entries of a document: each section, and each custom check on its own. */
export function countChecks(doc: Record<string, unknown>): number {
  let n = 0;
  for (const [key, value] of Object.entries(doc)) {
    if (key === 'customchecks' && value !== null && typeof value === 'object')
      n += Object.keys(value).length;
    else n += 1;
  }
  return n;
}

/**
 * The one way check data enters the server, whichever face it came through: validate against
 * the protocol schema, then store.
 */
export const createIngestService = (deps: { store: IngestStore; now: () => number }) => {
  const checkDocument = checker(CheckData);
  const checkInventory = checker(PackageInventory);
  return {
    /**
     * Validates and stores one document of `agentId`, collected at `collectedAt` (epoch ms).
     * @throws VigilError bad_data naming the first bad path; nothing is stored then.
     */
    async ingest(agentId: string, collectedAt: number, document: unknown): Promise<IngestOutcome> {
      const problem = checkDocument(document);
      if (problem)
        throw new VigilError('bad_data', `checkdata${problem}`, { code: 'checkdata.invalid' });
      const doc = document as Record<string, unknown>;
      const checks = countChecks(doc);
      const stored = await deps.store.record({
        agentId,
        collectedAt,
        receivedAt: deps.now(),
        checks,
        document: JSON.stringify(doc),
      });
      return { received_checks: checks, duplicate: !stored };
    },

    /**
     * Validates and stores a package inventory (the shape of the agent's `GET /packages`).
     * @throws VigilError bad_data naming the first bad path.
     */
    async ingestInventory(agentId: string, inventory: unknown): Promise<void> {
      const problem = checkInventory(inventory);
      if (problem)
        throw new VigilError('bad_data', `package inventory${problem}`, {
          code: 'inventory.invalid',
        });
      await deps.store.saveInventory(agentId, deps.now(), JSON.stringify(inventory));
    },

    /** Deletes report rows older than `maxAgeMs`, in bounded batches. */
    async prune(maxAgeMs: number, batch = 1000): Promise<number> {
      const before = deps.now() - maxAgeMs;
      let total = 0;
      for (;;) {
        const n = await deps.store.pruneReports(before, batch);
        total += n;
        if (n < batch) return total;
      }
    },
  };
};

/** The ingest service. */
export type IngestService = ReturnType<typeof createIngestService>;
