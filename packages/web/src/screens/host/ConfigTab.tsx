import { useState } from 'react';
import { useCan } from '../../app/session';
import type { HostOverview } from '../fleet/live';
import { ConnectivityCard } from './config/ConnectivityCard';
import { CredentialCard } from './config/CredentialCard';
import { EditHostDialog } from './config/EditHostDialog';
import { HostConfigEditor } from './config/HostConfigEditor';
import { MaintenanceCard } from './config/MaintenanceCard';
import './config/host-config.css';

/**
 * The host's configuration tab: where it is (address, environment, tags; **Edit host** with
 * `host:write`), its maintenance window,
 * its connectivity with **Check now** and **Run discovery**, which credential it resolves, and
 * (with `config:read`) its configuration with the inheritance preview and its services.
 */
export function ConfigTab({ host }: { host: HostOverview }) {
  const can = useCan();
  const [editing, setEditing] = useState(false);
  return (
    <div className="stack">
      <dl className="host-config-facts">
        <div>
          <dt>Address</dt>
          <dd>{host.ip_address ?? '—'}</dd>
        </div>
        <div>
          <dt>SSH port</dt>
          <dd>{host.port ?? 22}</dd>
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
      {can('host:write') && (
        <div>
          <button type="button" onClick={() => setEditing(true)}>
            Edit host
          </button>
          <EditHostDialog host={host} open={editing} onClose={() => setEditing(false)} />
        </div>
      )}
      <div className="host-config-cards">
        <MaintenanceCard host={host} />
        <ConnectivityCard host={host} />
        <CredentialCard hostId={host.id} />
      </div>
      {can('config:read') && <HostConfigEditor hostId={host.id} />}
    </div>
  );
}
