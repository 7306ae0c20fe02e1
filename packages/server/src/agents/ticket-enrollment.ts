import { VigilError } from '../errors.js';
import type { TicketService } from '../secrets/ticket.js';
import { safeEqual } from '../secrets/tokens.js';
import type { AgentHostDirectory } from './agent-hosts.js';
import type { Origin } from './model.js';
import type { Mutate } from './mutate.js';

/** Checks the Icinga 2 tickets agents enroll with. */
export interface TicketCheck {
  /**
   * The id of the host `hostname` names when `ticket` is its ticket and the host is configured to
   * have an agent. Anything else is audited (`agent.enroll_refused`) and refused.
   * @throws VigilError forbidden (`agent.ticket_invalid`), the same for an unknown host, a host
   *   without an agent and a wrong ticket, so that the answer tells nothing about the hosts.
   */
  verify(hostname: string, ticket: string, origin: Origin): Promise<string>;
}

/**
 * The ticket check of native enrollment: a host that exists (not soft-deleted, not disabled),
 * whose configuration says it has an agent, and the ticket computed from its name, compared in
 * constant time. The ticket is computed even when the host is unknown, so that the time taken
 * does not tell either.
 */
export function createTicketCheck(deps: {
  tickets: Pick<TicketService, 'ticketFor'>;
  agentHosts: AgentHostDirectory;
  mutate: Mutate;
}): TicketCheck {
  return {
    async verify(hostname, ticket, origin) {
      const [host, expected] = await Promise.all([
        deps.agentHosts.agentHost(hostname),
        deps.tickets.ticketFor(hostname),
      ]);
      const matches = safeEqual(expected, ticket.trim().toLowerCase());
      if (host && host.hasAgent && matches) return host.id;
      const reason = !host ? 'unknown_host' : !host.hasAgent ? 'no_agent' : 'wrong_ticket';
      await deps.mutate(
        {
          actor: { type: 'agent', id: null, label: hostname },
          correlationId: origin.correlationId,
          sourceAddress: origin.sourceAddress,
        },
        {
          action: 'agent.enroll_refused',
          resourceType: 'host',
          ...(host ? { resourceId: host.id } : {}),
          detail: { hostname, reason, with_ticket: true },
        },
        async () => undefined,
      );
      throw new VigilError(
        'forbidden',
        `the ticket is not valid for host ${hostname}: the host must exist, be configured with an agent (has_agent), and the ticket must be its own`,
        { code: 'agent.ticket_invalid' },
      );
    },
  };
}
