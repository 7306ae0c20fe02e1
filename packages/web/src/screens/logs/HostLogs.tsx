import { LogExplorer } from './LogExplorer';

/** A host's Logs tab: the explorer fixed to the host. */
export function HostLogs({ hostId }: { hostId: string }) {
  return <LogExplorer hostId={hostId} />;
}
