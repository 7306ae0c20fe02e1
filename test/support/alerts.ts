import type { AlertItem } from '../../packages/server/src/alerts/model.js';

/** An alert as the lifecycle renders it, with `over` replacing fields: a fixture for notification tests. */
export function alertItem(over: Partial<AlertItem> = {}): AlertItem {
  const at = '2026-12-01T10:00:00.000Z';
  return {
    id: 'a1',
    type: 'cpu',
    level: 'critical',
    message: 'CPU at 97 %',
    value: 97,
    threshold: 95,
    agent_id: null,
    acknowledged: false,
    created_at: at,
    host_id: 'h1',
    host_name: 'web-1',
    rule_id: 'r1',
    rule_name: 'High CPU',
    severity: 'critical',
    state: 'active',
    labels: {},
    dedup_key: 'k1',
    started_at: at,
    resolved_at: null,
    silenced_until: null,
    suppressed: false,
    updated_at: at,
    ...over,
  };
}
