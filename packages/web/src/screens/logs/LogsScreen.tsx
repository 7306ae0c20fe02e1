import { Page } from '../../ui/Page';
import { LogExplorer } from './LogExplorer';

/** The logs explorer of the whole fleet (`/logs`): search, histogram, entries and live tail. */
export function LogsScreen() {
  return (
    <Page title="Logs" subtitle="Search what hosts and devices log, or follow it live.">
      <LogExplorer />
    </Page>
  );
}
