import { CheckData, type CollectorError } from './checkdata.js';
import { isRecord } from './guards.js';
import { lenientDecoder } from './lenient.js';
import { ProcessList, parseWithProcessList } from './process-list.js';

// Decoding the check-data document, once, into its type. Everything that reads a document (the
// server's ingest, its faces, the stored latest document) goes through `decodeCheckData` or
// `checkDataOf` and then reads typed fields: a field of the wrong type has been dropped (and
// counted), so a reader needs no guard of its own. This module uses TypeBox's values (the
// compiled check): it is a subpath of its own (`@vigil/protocol/decode`), which the agent, which
// only imports the package's types, never bundles.

export {
  ProcessList,
  documentJson,
  parsePushBody,
  processCount,
  processesOf,
} from './process-list.js';

/**
 * A decoded check-data document: `CheckData`, except that its process list may be kept as JSON
 * text (`ProcessList`) until something needs the entries. Read it with `processesOf` and
 * `processCount`; `JSON.stringify` and `documentJson` write it as the document it stands for.
 */
export type CheckDocument = Omit<CheckData, 'processes'> & {
  processes?: CheckData['processes'] | ProcessList;
};

/** A decoded document and what was dropped from it. */
export interface DecodedCheckData {
  /** The document without what did not match the schema. */
  document: CheckDocument;
  /** The paths of what was dropped (`/memory/total`, `/processes/3`), in document order. */
  dropped: string[];
}

const NO_PROCESSES: unknown[] = [];
/** A bare document is its own check data. */
const itself = (parsed: unknown): unknown => parsed;
const NOTHING_DROPPED: string[] = [];
let decoder: ReturnType<typeof lenientDecoder> | undefined;

/**
 * Decodes a check-data document from its JSON text: its process list kept as text when it is in
 * the agents' form (checked without being built), every field of the wrong type dropped and
 * named. Returns undefined when the text is JSON but no object.
 * @throws SyntaxError when the text is not JSON.
 */
export function decodeCheckData(body: string | Uint8Array): DecodedCheckData | undefined {
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  return checkDataOf(parseWithProcessList(text, itself));
}

/**
 * Decodes an already parsed check-data document (a process list that `parsePushBody` kept as
 * text stays so): the value itself when it matches the schema, else a copy without what does
 * not. Returns undefined when the value is no object. The value is not changed.
 */
export function checkDataOf(value: unknown): DecodedCheckData | undefined {
  if (!isRecord(value)) return undefined;
  decoder ??= lenientDecoder(CheckData);
  // A process list kept as text was checked as it was cut out (process-list.ts); the schema
  // sees an empty list in its place.
  const list = value.processes instanceof ProcessList ? value.processes : undefined;
  if (list) value.processes = NO_PROCESSES;
  let doc = value;
  let dropped = NOTHING_DROPPED;
  try {
    if (!decoder.check(doc)) {
      const pruned = decoder.prune(doc)!;
      doc = pruned.value;
      dropped = pruned.dropped;
    }
  } finally {
    if (list) value.processes = doc.processes = list;
  }
  return { document: doc as CheckDocument, dropped };
}

/**
 * A section of a document unless it is absent or the error marker of a collector that failed
 * (`{"error": "…"}` in its place).
 */
export function sectionOf<T extends object>(value: T | CollectorError | undefined): T | undefined {
  return value === undefined || 'error' in value ? undefined : (value as T);
}

/**
 * The fields of a section, none when it is absent; a collector's error marker reads as a section
 * without any of its fields (for readers that take what figures are there).
 */
export function fieldsOf<T extends object>(value: T | CollectorError | undefined): Partial<T> {
  return (value ?? {}) as Partial<T>;
}

/** A list section's entries; none when it is absent, null or a collector's error marker. */
export function listOf<T>(value: T[] | CollectorError | null | undefined): T[] {
  return Array.isArray(value) ? value : [];
}
