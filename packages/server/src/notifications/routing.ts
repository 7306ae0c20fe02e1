import type { AlertItem } from '../alerts/model.js';
import type { ChannelFilters } from './model.js';

/**
 * Whether an alert reaches a channel: every filter given must match (severity, a tag of the
 * host, the host's environment, the rule); an empty or absent filter matches everything.
 */
export function routes(
  filters: ChannelFilters,
  alert: AlertItem,
  host: { tags: string[]; environment: string | null } | undefined,
): boolean {
  const given = (l: readonly string[] | undefined): l is readonly string[] =>
    l !== undefined && l.length > 0;
  if (given(filters.severities) && !filters.severities.includes(alert.severity)) return false;
  if (given(filters.rule_ids) && !filters.rule_ids.includes(alert.rule_id)) return false;
  if (given(filters.environments))
    if (!host?.environment || !filters.environments.includes(host.environment)) return false;
  if (given(filters.host_tags))
    if (!host || !host.tags.some((t) => filters.host_tags!.includes(t))) return false;
  return true;
}
