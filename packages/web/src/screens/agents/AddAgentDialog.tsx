import { useState } from 'react';
import { Dialog } from '../../ui/Dialog';
import { Tabs } from '../../ui/Page';
import { OitcPushTab } from './OitcPushTab';
import { PullAgentTab } from './PullAgentTab';
import { VigilAgentTab } from './VigilAgentTab';

type Way = 'vigil' | 'oitc-push' | 'oitc-pull';

const WAYS = [
  { id: 'vigil', label: 'Vigil agent' },
  { id: 'oitc-push', label: 'openITCOCKPIT push' },
  { id: 'oitc-pull', label: 'openITCOCKPIT pull' },
] as const;

/**
 * Adds an agent, in one of three ways: a Vigil agent enrolled with a one-time token (the exact
 * command to run), an openITCOCKPIT agent pushing to this server (its `[oitc]` block; it then
 * waits under Pending), or an agent this server pulls from by address.
 */
export function AddAgentDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [way, setWay] = useState<Way>('vigil');
  return (
    <Dialog open={open} title="Add agent" onClose={onClose} wide>
      <Tabs label="How the agent connects" tabs={WAYS} current={way} onChange={setWay} />
      <div role="tabpanel" aria-labelledby={`tab-${way}`} className="add-agent-panel">
        {way === 'vigil' && <VigilAgentTab />}
        {way === 'oitc-push' && <OitcPushTab />}
        {way === 'oitc-pull' && <PullAgentTab onDone={onClose} />}
      </div>
    </Dialog>
  );
}
