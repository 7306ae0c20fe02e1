import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { CheckDocument } from '@vigil/protocol/decode';
import { isRecord } from '@vigil/protocol/guards';
import { VigilError } from '../../errors.js';

/**
 * The latest time a document may carry (9999-12-31T23:59:59.999Z): beyond it a date has no ISO
 * 8601 form of four-digit years, and beyond 8.64e15 none at all.
 */
export const MAX_COLLECTED_AT = 253_402_300_799_999;

/**
 * Checks a document's collection time (epoch ms).
 * @throws VigilError bad_data when it is out of range.
 */
export function checkCollectionTime(collectedAt: number): void {
  if (!(Number.isFinite(collectedAt) && collectedAt >= 0 && collectedAt <= MAX_COLLECTED_AT))
    throw new VigilError(
      'bad_data',
      `checkdata: collection time ${collectedAt} ms is out of range (0 to ${MAX_COLLECTED_AT})`,
      { code: 'checkdata.time_out_of_range' },
    );
}

/**
 * When a document says it was collected: its `agent.last_updated_timestamp` (seconds) as epoch
 * ms when that is a positive finite number, else `fallback`. It is read from the document as
 * sent, before decoding: a fractional stamp, which the schema's integer field drops, has always
 * been taken (rounded), and a stamp out of range must reach `checkCollectionTime`.
 */
export function stampedCollectionTime(document: Record<string, unknown>, fallback: number): number {
  const agent = document.agent;
  const stamp = isRecord(agent) ? agent.last_updated_timestamp : undefined;
  return typeof stamp === 'number' && Number.isFinite(stamp) && stamp > 0
    ? Math.round(stamp * 1000)
    : fallback;
}

/** Compiles a schema into a checker that names the first bad path. */
export function checker(schema: TSchema): (value: unknown) => string | undefined {
  const compiled = TypeCompiler.Compile(schema);
  return (value) => {
    if (compiled.Check(value)) return undefined;
    const first = compiled.Errors(value).First();
    return first
      ? describeError(first.schema, first.path, first.value, first.message)
      : 'invalid document';
  };
}

/**
 * Names a schema error by its deepest path: a value that matches none of a union's members
 * (a section or its collector-error form) is described by the member it comes closest to, so
 * that a bad process entry is `/processes/3/pid`, not just `/processes`.
 */
function describeError(schema: TSchema, path: string, value: unknown, message: string): string {
  let best: { path: string; text: string } | undefined;
  for (const member of (schema.anyOf as TSchema[] | undefined) ?? []) {
    const e = Value.Errors(member, value).First();
    if (!e) continue;
    const deeper = `${path}${e.path}`;
    if (!best || deeper.length > best.path.length)
      best = { path: deeper, text: describeError(e.schema, deeper, e.value, e.message) };
  }
  return best && best.path !== path ? best.text : `${path || '/'}: ${message}`;
}

/** Counts the check entries of a document: each section, and each custom check on its own. */
export function countChecks(doc: CheckDocument): number {
  let n = 0;
  for (const key in doc) {
    if (key === 'customchecks' && doc.customchecks) n += Object.keys(doc.customchecks).length;
    else n += 1;
  }
  return n;
}
