import assert from 'node:assert/strict';
import type { AlertItem } from '../../packages/server/src/alerts/model.js';
import type { Harness } from './harness.js';

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

/** The API helpers the alert tests share, bound to a harness and its admin token. */
export function alertApi(h: () => Harness, token: () => string, hostPrefix: string) {
  let n = 0;
  /** One request as the admin (or as the bearer `as`). */
  const call = (method: string, url: string, payload?: unknown, as?: string) =>
    h().inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${as ?? token()}` },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
  return {
    call,
    /** Asserts a refusal in the native envelope: its status and, when given, its code. */
    async fails(res: Awaited<ReturnType<typeof call>>, status: number, code?: string) {
      assert.equal(res.statusCode, status, res.body);
      const e = res.json().error as { code: string; human_message: string };
      assert.equal(typeof e.human_message, 'string');
      if (code) assert.equal(e.code, code, res.body);
    },
    /** Adds a host through the API and returns its id. */
    async newHost(): Promise<string> {
      const res = await call('POST', '/api/v1/hosts', {
        hostname: `${hostPrefix}-${++n}-${Math.random().toString(36).slice(2, 8)}`,
        ip_address: '127.0.0.1',
        port: 1,
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as string;
    },
  };
}
