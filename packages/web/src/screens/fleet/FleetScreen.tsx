import { Page } from '../../ui/Page';

/** Placeholder until the screen is built. */
export function FleetScreen() {
  return <Page title="FleetScreen">{null}</Page>;
}
