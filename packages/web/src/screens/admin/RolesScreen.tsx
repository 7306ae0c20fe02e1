import { Page } from '../../ui/Page';

/** Placeholder until the screen is built. */
export function RolesScreen() {
  return <Page title="RolesScreen">{null}</Page>;
}
