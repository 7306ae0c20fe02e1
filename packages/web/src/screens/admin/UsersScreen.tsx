import { Page } from '../../ui/Page';

/** Placeholder until the screen is built. */
export function UsersScreen() {
  return <Page title="UsersScreen">{null}</Page>;
}
