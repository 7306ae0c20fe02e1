/**
 * What an agent's status change means for the `agent_offline` condition: offline (three
 * missed intervals, as the agent status watch decides) fires, online clears, an agent that is
 * gone (revoked, rejected, deleted) clears too; pending changes nothing.
 */
export function offlineAction(status: string): 'fire' | 'clear' | null {
  if (status === 'offline') return 'fire';
  if (status === 'online' || status === 'revoked' || status === 'rejected' || status === 'deleted')
    return 'clear';
  return null;
}
