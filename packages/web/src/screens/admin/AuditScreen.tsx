import { Page } from '../../ui/Page';

/** Placeholder until the screen is built. */
export function AuditScreen() {
  return <Page title="AuditScreen">{null}</Page>;
}
