import { Page } from '../../ui/Page';

/** Placeholder until the screen is built. */
export function SettingsScreen() {
  return <Page title="SettingsScreen">{null}</Page>;
}
