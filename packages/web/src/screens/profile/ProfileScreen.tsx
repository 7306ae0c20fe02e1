import { Page } from '../../ui/Page';

/** Placeholder until the screen is built. */
export function ProfileScreen() {
  return <Page title="ProfileScreen">{null}</Page>;
}
