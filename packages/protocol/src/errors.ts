import { Type, type Static } from '@sinclair/typebox';

/**
 * Who is at fault for a failed request: the caller (`client`), Vigil itself (`server`), an access
 * policy (`policy`), or a system Vigil depends on (`external`).
 */
export const Fault = Type.Union([
  Type.Literal('client'),
  Type.Literal('server'),
  Type.Literal('policy'),
  Type.Literal('external'),
]);
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
