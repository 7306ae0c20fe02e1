import { useCan } from '../../app/session';
import type { HostOverview } from '../fleet/live';
import { ConnectivityCard } from './config/ConnectivityCard';
import { CredentialCard } from './config/CredentialCard';
import { HostConfigEditor } from './config/HostConfigEditor';
import { MaintenanceCard } from './config/MaintenanceCard';
import './config/host-config.css';

/**
 * The host's configuration tab: where it is (address, environment, tags), its maintenance window,
 * its connectivity with **Check now** and **Run discovery**, which credential it resolves, and
 * (with `config:read`) its configuration with the inheritance preview and its services.
 */
export function ConfigTab({ host }: { host: HostOverview }) {
  const can = useCan();
  return (
    <div className="stack">
      <dl className="host-config-facts">
        <div>
          <dt>Address</dt>
          <dd>{host.ip_address ?? '—'}</dd>
        </div>
        <div>
          <dt>Environment</dt>
          <dd>{host.environment ?? '—'}</dd>
        </div>
        <div>
          <dt>Tags</dt>
          <dd>{host.tags.length ? host.tags.join(', ') : '—'}</dd>
        </div>
        {host.description && (
          <div>
            <dt>Description</dt>
            <dd>{host.description}</dd>
          </div>
        )}
      </dl>
      <div className="host-config-cards">
        <MaintenanceCard host={host} />
        <ConnectivityCard host={host} />
        <CredentialCard hostId={host.id} />
      </div>
      {can('config:read') && <HostConfigEditor hostId={host.id} />}
    </div>
  );
}
