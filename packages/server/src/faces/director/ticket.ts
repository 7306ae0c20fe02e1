import type { SelfService } from '../../deployments/self-service.js';
import { DIRECTOR_PERMISSION, sendJson, type DirectorModule } from './http.js';

// Director's `director/host/ticket?name=`: the Icinga 2 ticket of an agent host, as a bare
// JSON string (research: IcingaObjectHandler).

/** What the endpoint needs. Declared here, where it is used. */
export type DirectorTickets = Pick<SelfService, 'ticketByName'>;

/**
 * `GET director/host/ticket?name=NAME` → `"<40 hex>"`; 404 `{"error": …}` for an unknown host
 * and for a host whose resolved `has_agent` is not set.
 */
export function directorTicketRoutes(tickets: DirectorTickets): DirectorModule {
  return (router) => {
    router.route({
      method: 'GET',
      path: '/host/ticket',
      access: DIRECTOR_PERMISSION,
      async handler(request, reply) {
        const { name } = request.query as Record<string, unknown>;
        const ticket = await tickets.ticketByName(typeof name === 'string' ? name : undefined);
        return sendJson(reply, 200, ticket);
      },
    });
  };
}
