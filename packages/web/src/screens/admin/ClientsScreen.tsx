import { Page } from '../../ui/Page';

/** Placeholder until the screen is built. */
export function ClientsScreen() {
  return <Page title="ClientsScreen">{null}</Page>;
}
