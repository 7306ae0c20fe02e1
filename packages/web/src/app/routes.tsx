import { AuditScreen } from '../screens/admin/AuditScreen';
import { ClientsScreen } from '../screens/admin/ClientsScreen';
import { RolesScreen } from '../screens/admin/RolesScreen';
import { SettingsScreen } from '../screens/admin/SettingsScreen';
import { UsersScreen } from '../screens/admin/UsersScreen';
import { AgentsScreen } from '../screens/agents/AgentsScreen';
import { AlertDetailScreen } from '../screens/alerts/AlertDetailScreen';
import { AlertsScreen } from '../screens/alerts/AlertsScreen';
import { SilencesScreen } from '../screens/alerts/SilencesScreen';
import { ConfigListScreen } from '../screens/config/ConfigListScreen';
import { isScreenId } from '../screens/config/kinds';
import { ObjectEditorScreen } from '../screens/config/ObjectEditorScreen';
import { CredentialsScreen } from '../screens/credentials/CredentialsScreen';
import { DeployScreen } from '../screens/deploy/DeployScreen';
import { FleetScreen } from '../screens/fleet/FleetScreen';
import { FleetHealthScreen } from '../screens/health/FleetHealthScreen';
import { HostScreen } from '../screens/host/HostScreen';
import { JobsScreen } from '../screens/jobs/JobsScreen';
import { LogsScreen } from '../screens/logs/LogsScreen';
import { NotificationsScreen } from '../screens/notifications/NotificationsScreen';
import { ProfileScreen } from '../screens/profile/ProfileScreen';
import { RuleEditorScreen } from '../screens/rules/RuleEditorScreen';
import { RulesScreen } from '../screens/rules/RulesScreen';
import { Page } from '../ui/Page';
import { Link, match } from './router';

/** The screen for a path: one entry per screen; `:name` segments become props. */
export function Screen({ path, query }: { path: string; query: URLSearchParams }) {
  if (path === '/' || path === '') return <FleetScreen />;
  if (path === '/fleet/health') return <FleetHealthScreen />;
  const host = match('/hosts/:id', path);
  if (host) return <HostScreen id={host.id!} />;
  if (path === '/agents') return <AgentsScreen />;
  // Before any `/alerts/:id`: `rules` is no alert id.
  if (path === '/alerts/rules') return <RulesScreen />;
  const rule = match('/alerts/rules/:id', path);
  if (rule) return <RuleEditorScreen id={rule.id === 'new' ? null : rule.id!} />;
  if (path === '/notifications') return <NotificationsScreen />;
  if (path === '/logs') return <LogsScreen />;
  if (path === '/alerts') return <AlertsScreen />;
  if (path === '/alerts/silences') return <SilencesScreen />;
  const alert = match('/alerts/:id', path);
  if (alert) return <AlertDetailScreen id={alert.id!} />;
  const list = match('/config/:screen', path);
  if (list && isScreenId(list.screen!)) return <ConfigListScreen screen={list.screen} />;
  const object = match('/config/:screen/:name', path);
  if (object && isScreenId(object.screen!))
    return (
      <ObjectEditorScreen
        screen={object.screen}
        name={object.name === 'new' ? null : object.name!}
        host={query.get('host')}
      />
    );
  if (path === '/deploy') return <DeployScreen />;
  if (path === '/credentials') return <CredentialsScreen />;
  if (path === '/admin/users') return <UsersScreen />;
  if (path === '/admin/roles') return <RolesScreen />;
  if (path === '/admin/clients') return <ClientsScreen />;
  if (path === '/admin/audit') return <AuditScreen />;
  if (path === '/admin/jobs') return <JobsScreen />;
  if (path === '/admin/settings') return <SettingsScreen />;
  if (path === '/profile') return <ProfileScreen />;
  return (
    <Page title="Not found">
      <p>
        Nothing lives at <code>{path}</code>. <Link to="/">Go to the fleet</Link>.
      </p>
    </Page>
  );
}
