import assert from 'node:assert/strict';
import type { TSchema } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';

// The protocol's string enums are JSON-Schema `enum`s that TypeBox's own checker does not know,
// so tests validate with Ajv, as the server does.
const ajv = ajvFormats.default(new Ajv({ strict: false, allErrors: true }));
const compiled = new WeakMap<TSchema, ReturnType<typeof ajv.compile>>();

/** Asserts that `value` matches `schema`, naming every mismatch. */
export function assertMatches(schema: TSchema, value: unknown, what = 'value'): void {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  assert.ok(
    validate(value),
    `${what} does not match ${schema.title ?? 'the schema'}: ${ajv.errorsText(validate.errors)}`,
  );
}
