import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAgentAuthCache } from '../src/agents/auth-cache.js';
import type { AgentRow } from '../src/agents/model.js';

const row = (approval: AgentRow['approval']) => ({ id: 'a-1', approval }) as AgentRow;

test('a row kept by the agent authentication cache is served without a load', async () => {
  const cache = createAgentAuthCache();
  let loads = 0;
  const load = async () => (loads++, row('approved'));
  assert.equal((await cache.cached('fp:1', load))!.approval, 'approved');
  assert.equal((cache.cached('fp:1', load) as AgentRow).approval, 'approved');
  assert.equal(loads, 1);
  cache.clear();
  await cache.cached('fp:1', load);
  assert.equal(loads, 2, 'a clear drops the row');
});

test('a row loaded across a change is not kept: the next request reads the change', async () => {
  const cache = createAgentAuthCache();
  // A load that read the row before a revocation committed, and is answered after it.
  let answer!: (r: AgentRow) => void;
  const stale = cache.cached('fp:1', () => new Promise<AgentRow>((r) => (answer = r)));
  cache.clear(); // the revocation
  answer(row('approved'));
  assert.equal((await stale)!.approval, 'approved', 'its own request gets what it read');
  const next = await cache.cached('fp:1', async () => row('revoked'));
  assert.equal(next!.approval, 'revoked');
});
