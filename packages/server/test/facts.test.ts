import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CheckDocument } from '@vigil/protocol/decode';
import { createFactsRecorder } from '../src/agents/facts.js';
import { newAgentRow, type AgentPatch, type AgentRow } from '../src/agents/model.js';
import { createEventBus } from '../src/events/bus.js';
import type { IngestEvent } from '../src/events/types.js';

/** A recorder on an in-memory agents table, counting reads, writes and cache drops. */
function recorderOn(rows: AgentRow[], fleet: number | null = null) {
  const table = new Map(rows.map((r) => [r.id, { ...r }]));
  const counts = { reads: 0, writes: 0, clears: 0 };
  const facts = createFactsRecorder({
    store: {
      get: async (id) => {
        counts.reads += 1;
        const row = table.get(id);
        return row && { ...row };
      },
      update: async (id, patch: AgentPatch) => {
        counts.writes += 1;
        Object.assign(table.get(id)!, patch);
      },
    },
    authCache: { clear: () => (counts.clears += 1) },
    collectionInterval: async () => fleet,
    now: () => 1_000,
  });
  return { facts, table, counts };
}

const event = (agentId: string, agent: object, clockSkewSeconds: number | null = null) =>
  ({
    agentId,
    hostId: 'h',
    collectedAt: 0,
    doc: { agent } as CheckDocument,
    clockSkewSeconds,
    samples: { keys: [], values: new Float64Array(0) },
    checks: [],
  }) satisfies IngestEvent;

const row = (id: string, kind: AgentRow['kind']) =>
  newAgentRow({ id, name: id, kind, approval: 'approved', interval_seconds: 30 }, 0);

const linux = { goos: 'linux', goarch: 'amd64', agent_version: '3.1.0', check_interval: 10 };

test('facts are written when they change, and only then', async () => {
  const { facts, table, counts } = recorderOn([row('a', 'native')]);
  await facts.record(event('a', linux));
  assert.deepEqual(
    (({ os, architecture, version, interval_seconds }) => ({
      os,
      architecture,
      version,
      interval_seconds,
    }))(table.get('a')!),
    { os: 'linux', architecture: 'amd64', version: '3.1.0', interval_seconds: 10 },
  );
  assert.deepEqual(counts, { reads: 1, writes: 1, clears: 1 });
  assert.equal(facts.record(event('a', linux)), undefined, 'unchanged: nothing to wait for');
  assert.deepEqual(counts, { reads: 1, writes: 1, clears: 1 });
  assert.equal(await facts.interval(table.get('a')!, {}), 10);
  await facts.record(event('a', { ...linux, agent_version: '3.2.0' }));
  assert.equal(table.get('a')!.version, '3.2.0');
  assert.equal(counts.writes, 2);
});

test('the clock skew is set while the clock is ahead and cleared after', async () => {
  const { facts, table } = recorderOn([row('a', 'oitc')]);
  await facts.record(event('a', {}, 3600));
  assert.equal(table.get('a')!.clock_skew_seconds, 3600);
  await facts.record(event('a', {}, null));
  assert.equal(table.get('a')!.clock_skew_seconds, null);
});

test("a pull agent's own interval is not adopted", async () => {
  const { facts, table } = recorderOn([row('p', 'pull')]);
  await facts.record(event('p', linux));
  assert.equal(table.get('p')!.os, 'linux');
  assert.equal(table.get('p')!.interval_seconds, 30);
});

test('after forget the row is read again; the fleet interval wins in the answer', async () => {
  const { facts, table, counts } = recorderOn([row('a', 'native')], 60);
  await facts.record(event('a', linux));
  // A change made elsewhere (an operator's edit), then announced.
  table.get('a')!.interval_seconds = 45;
  facts.forget();
  await facts.record(event('a', linux));
  assert.equal(counts.reads, 2);
  assert.equal(table.get('a')!.interval_seconds, 10);
  assert.equal(await facts.interval(table.get('a')!, { agent: linux }), 60);
});

test("the answer tells a native agent its document's interval, even when its facts were not written", async () => {
  const { facts, table } = recorderOn([row('a', 'native')]);
  await facts.record(event('a', linux));
  const failing = createFactsRecorder({
    store: {
      get: async (id) => table.get(id),
      update: async () => {
        throw new Error('the database is gone');
      },
    },
    authCache: { clear: () => undefined },
    collectionInterval: async () => null,
    now: () => 1,
  });
  await assert.rejects(async () => failing.record(event('a', { ...linux, check_interval: 60 })));
  const answer = await failing.interval(table.get('a')!, { agent: { check_interval: 60 } });
  assert.equal(answer, 60, 'its own interval, not the stored 10');
  assert.equal(await failing.interval(table.get('a')!, { agent: { check_interval: 0.5 } }), 10);
});

test('the bus waits for asynchronous subscribers and never fails the publisher', async () => {
  const errors: unknown[] = [];
  const bus = createEventBus((err) => errors.push(err));
  const seen: string[] = [];
  bus.subscribe<string>('t', (e) => void seen.push(`sync ${e}`));
  assert.equal(bus.deliver('t', 'x'), undefined, 'no promise returned: nothing to wait for');
  bus.subscribe<string>('t', async (e) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    seen.push(`async ${e}`);
  });
  bus.subscribe<string>('t', async () => {
    throw new Error('boom');
  });
  bus.subscribe<string>('t', () => {
    throw new Error('sync boom');
  });
  await bus.deliver('t', 'y');
  assert.deepEqual(seen, ['sync x', 'sync y', 'async y']);
  assert.deepEqual(
    errors.map((e) => (e as Error).message),
    ['sync boom', 'boom'],
  );
});
