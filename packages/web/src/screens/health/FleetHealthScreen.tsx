import { useCan } from '../../app/session';
import { Page } from '../../ui/Page';
import { ConnectivityPanel, LivenessPanel } from './ConnectivityPanels';
import { RecentChanges } from './RecentChanges';
import { ScorePanel } from './ScorePanel';
import { TopFailingHosts, TopFailingRules } from './TopFailing';
import './health.css';

/**
 * The fleet's health: the compliance score, liveness and connectivity, the rules and hosts that
 * fail most, and recent compliance changes. Each panel shows only to callers who may read it
 * (compliance panels need `compliance:read`, liveness and connectivity `host:read`).
 */
export function FleetHealthScreen() {
  const can = useCan();
  const compliance = can('compliance:read');
  const hosts = can('host:read');
  return (
    <Page title="Fleet health" subtitle="Compliance, liveness and what changed, over every host.">
      {!compliance && !hosts && (
        <p className="card">You may read neither compliance results nor hosts.</p>
      )}
      <div className="health-grid">
        {compliance && <ScorePanel />}
        {hosts && <LivenessPanel />}
        {hosts && <ConnectivityPanel />}
      </div>
      {compliance && (
        <div className="health-tables">
          <TopFailingRules />
          <TopFailingHosts />
        </div>
      )}
      {compliance && <RecentChanges title="Recent compliance changes" />}
    </Page>
  );
}
