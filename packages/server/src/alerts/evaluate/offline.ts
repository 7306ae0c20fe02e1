/**
 * What an agent's status change means for the `agent_offline` condition: going offline from
 * online (three missed intervals, as the agent status watch decides) fires; an agent that never
 * reported (offline from nothing or from pending) fires nothing. Online clears, and so does an
 * agent that is gone (revoked, rejected, deleted); pending changes nothing.
 */
export function offlineAction(status: string, previous: string | null): 'fire' | 'clear' | null {
  if (status === 'offline') return previous === 'online' ? 'fire' : null;
  if (status === 'online' || status === 'revoked' || status === 'rejected' || status === 'deleted')
    return 'clear';
  return null;
}
