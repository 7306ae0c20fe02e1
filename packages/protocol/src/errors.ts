import { Type, type Static, type TUnsafe } from '@sinclair/typebox';

/**
 * A string limited to the given values, as a plain JSON Schema `enum`. Preferred over a union of
 * literals, which becomes an `anyOf` that serialisers must test branch by branch.
 */
export const StringEnum = <const T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> = {},
): TUnsafe<T[number]> => Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

/**
 * Who is at fault for a failed request: the caller (`client`), Vigil itself (`server`), an access
 * policy (`policy`), or a system Vigil depends on (`external`).
 */
export const Fault = StringEnum(['client', 'server', 'policy', 'external']);
export type Fault = Static<typeof Fault>;

/** The error envelope of the native `/api/v1` face (OpenWatch API guide, "Error responses"). */
export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable error code.' }),
      fault: Fault,
      retryable: Type.Boolean({ description: 'Whether repeating the same request may succeed.' }),
      human_message: Type.String(),
      correlation_id: Type.String(),
    }),
  },
  { title: 'ErrorEnvelope' },
);
export type ErrorEnvelope = Static<typeof ErrorEnvelope>;
