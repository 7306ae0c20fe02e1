import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import type { Identity } from '../identity/model.js';

/** The audit context of a request: its caller, correlation id and source address. */
export function contextOf(request: FastifyRequest): RequestContext {
  return {
    actor: request.identity?.actor ?? { type: 'user', id: null, label: null },
    correlationId: request.id,
    sourceAddress: request.ip ?? null,
  };
}

/** The caller of a route declared `authenticated` or with a permission. */
export function identityOf(request: FastifyRequest): Identity {
  if (!request.identity) throw new VigilError('unauthenticated', 'authentication required');
  return request.identity;
}

/** The source address and correlation id of a request that no user makes (an agent's). */
export const originOf = (
  request: FastifyRequest,
): { sourceAddress: string | null; correlationId: string | null } => ({
  sourceAddress: request.ip ?? null,
  correlationId: request.id,
});
