import { Page } from '../../ui/Page';

/** Placeholder until the screen is built. */
export function AgentsScreen() {
  return <Page title="AgentsScreen">{null}</Page>;
}
