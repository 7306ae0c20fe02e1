import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { Link, setQueryParam, useLocation } from '../../app/router';
import { useCan } from '../../app/session';
import { useStreamEvent } from '../../app/stream';
import { ErrorView } from '../../ui/ErrorView';
import { dateTime } from '../../ui/format';
import { Loading, Page, Tabs } from '../../ui/Page';
import {
  applyMetrics,
  hostStatus,
  HOSTS_KEY,
  type HostList,
  type AgentEvent,
  type HostOverview,
  type MetricsEvent,
} from '../fleet/live';
import { ChartsTab } from './charts/ChartsTab';
import { ChangesTab } from './ChangesTab';
import { ChecksTab } from './ChecksTab';
import { ComplianceTab } from './ComplianceTab';
import { ConfigTab } from './ConfigTab';
import { ContainersTab } from './ContainersTab';
import { DeleteHost } from './DeleteHost';
import { HostAlerts } from '../alerts/HostAlerts';
import { HostLogs } from '../logs/HostLogs';
import { FactsTab } from './FactsTab';
import { HostHeader } from './HostHeader';
import { PackagesTab } from './PackagesTab';
import { ProcessesTab } from './ProcessesTab';
import { ServicesTab } from './ServicesTab';
import './host.css';

const TABS = [
  { id: 'overview', label: 'Overview' },
  { id: 'alerts', label: 'Alerts' },
  { id: 'logs', label: 'Logs' },
  { id: 'processes', label: 'Processes' },
  { id: 'containers', label: 'Containers' },
  { id: 'services', label: 'Services' },
  { id: 'packages', label: 'Packages' },
  { id: 'checks', label: 'Checks' },
  { id: 'compliance', label: 'Compliance' },
  { id: 'changes', label: 'Changes' },
  { id: 'facts', label: 'System facts' },
  { id: 'configuration', label: 'Configuration' },
] as const;
type TabId = (typeof TABS)[number]['id'];

/** One host: its state and system in the header, then charts and what its agent reports, by tab. */
export function HostScreen({ id }: { id: string }) {
  const qc = useQueryClient();
  const can = useCan();
  const { query } = useLocation();
  const tabParam = query.get('tab');
  // The alerts tab is for callers who may read alerts.
  const tabs = TABS.filter((t) => t.id !== 'alerts' || can('alerts:read'))
    .filter((t) => t.id !== 'logs' || can('logs:read'))
    .filter((t) => t.id !== 'compliance' || can('compliance:read'));
  const tab: TabId = tabs.some((t) => t.id === tabParam) ? (tabParam as TabId) : 'overview';
  const key = ['hosts', id];
  const host = useQuery({
    queryKey: key,
    queryFn: () => unwrap(api.GET('/api/v1/hosts/{id}', { params: { path: { id } } })),
    // From the fleet, the host's row shows at once while its own answer comes.
    placeholderData: () => qc.getQueryData<HostList>(HOSTS_KEY)?.items.find((h) => h.id === id),
    staleTime: Infinity,
  });
  useStreamEvent('metrics', (d) => {
    const e = d as MetricsEvent;
    if (e?.host_id !== id) return;
    qc.setQueryData<HostOverview>(key, (h) => (h ? applyMetrics(h, e, Date.now()) : h));
  });
  useStreamEvent('agent', (d) => {
    const e = d as AgentEvent;
    if (e?.host_id !== id) return;
    qc.setQueryData<HostOverview>(key, (h) => {
      if (!h) return h;
      const agents = h.agents.map((a) => (a.id === e.agent_id ? { ...a, status: e.status } : a));
      return { ...h, agents, status: hostStatus(agents) };
    });
  });

  if (host.isError)
    return (
      <Page title="Host">
        <ErrorView error={host.error} onRetry={() => void host.refetch()} />
        <p>
          <Link to="/">Back to the fleet</Link>
        </p>
      </Page>
    );
  const h = host.data;
  return (
    <Page
      title={h?.name ?? 'Host'}
      subtitle={<Link to="/">← Fleet</Link>}
      actions={h && <DeleteHost id={id} name={h.name} />}
    >
      {h ? <HostHeader host={h} /> : <Loading height={46} />}
      {h?.status === 'offline' && (
        <p className="card host-offline" role="status">
          <strong>Offline.</strong> No report since {dateTime(h.last_seen)}: what follows is as of
          then.
        </p>
      )}
      <Tabs
        label="Host views"
        tabs={tabs}
        current={tab}
        onChange={(t) => setQueryParam('tab', t === 'overview' ? '' : t)}
      />
      <div role="tabpanel" aria-labelledby={`tab-${tab}`} className="host-panel">
        {tab === 'overview' && <ChartsTab hostId={id} />}
        {tab === 'alerts' && <HostAlerts hostId={id} />}
        {tab === 'logs' && <HostLogs hostId={id} />}
        {tab === 'processes' && <ProcessesTab hostId={id} />}
        {tab === 'containers' && <ContainersTab hostId={id} />}
        {tab === 'services' && <ServicesTab hostId={id} />}
        {tab === 'packages' && <PackagesTab hostId={id} />}
        {tab === 'checks' && <ChecksTab hostId={id} />}
        {tab === 'compliance' && <ComplianceTab hostId={id} />}
        {tab === 'changes' && <ChangesTab hostId={id} />}
        {tab === 'facts' && <FactsTab hostId={id} />}
        {tab === 'configuration' && (h ? <ConfigTab host={h} /> : <Loading height={240} />)}
      </div>
    </Page>
  );
}
