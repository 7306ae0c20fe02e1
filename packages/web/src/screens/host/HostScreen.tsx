import { Page } from '../../ui/Page';

/** Placeholder until the screen is built. */
export function HostScreen({ id }: { id: string }) {
  return <Page title={id}>{null}</Page>;
}
