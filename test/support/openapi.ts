import { randomUUID } from 'node:crypto';

/** One operation of an OpenAPI document. */
export type Operation = { security?: unknown[]; 'x-required-permission'?: string };
/** The parts of the served OpenAPI document the tests read. */
export type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

/** Every operation of the served document, with a concrete URL for it (UUIDs for parameters). */
export function operations(doc: Doc) {
  return Object.entries(doc.paths).flatMap(([p, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase() as 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
      path: p,
      url: p.replace(/\{[^}]+\}/g, randomUUID()),
      op,
    })),
  );
}
