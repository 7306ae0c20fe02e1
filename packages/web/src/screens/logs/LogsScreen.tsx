import { Page } from '../../ui/Page';
import { DroppedNotice } from './DroppedNotice';
import { LogExplorer } from './LogExplorer';

/**
 * The logs explorer of the whole fleet (`/logs`): search, histogram, entries and live tail, and
 * below them the lines agents dropped before sending.
 */
export function LogsScreen() {
  return (
    <Page title="Logs" subtitle="Search what hosts and devices log, or follow it live.">
      <LogExplorer />
      <DroppedNotice />
    </Page>
  );
}
