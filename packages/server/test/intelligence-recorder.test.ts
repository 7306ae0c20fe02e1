import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { checkDataOf } from '@vigil/protocol/decode';
import { databaseKinds } from '../../../test/support/databases.js';
import { migrate } from '../src/db/migrations/index.js';
import type { IngestEvent } from '../src/events/types.js';
import { emptyState, type IntelligenceStore } from '../src/intelligence/model.js';
import {
  documentChanges,
  documentFacts,
  inventoryPackages,
  isReboot,
  parseState,
  portSubject,
} from '../src/intelligence/observe.js';
import { createIntelligenceRecorder } from '../src/intelligence/recorder.js';
import { createIntelligenceStore } from '../src/intelligence/store.js';
import { CHANGE_KINDS, type ChangeKind } from '../src/system/settings.js';

// The recorder against a real store: what it reads and writes, across a restart (a new recorder
// on the same database), for a fleet whose boot times creep, for pushes of one host that arrive
// together, and for documents that arrive out of order. Then the pure parts' edge cases.

const T0 = Date.UTC(2026, 11, 1);
const ALL_ON = Object.fromEntries(CHANGE_KINDS.map((k) => [k, true])) as Record<
  ChangeKind,
  boolean
>;

/** An ingest event of host `host` with these document parts. */
function event(
  host: string,
  at: number,
  parts: { uptime?: number; kernel?: string; ports?: number[]; accounts?: string[] },
): IngestEvent {
  const doc = checkDataOf({
    agent: {
      ...(parts.kernel ? { kernel_version: parts.kernel } : {}),
      ...(parts.uptime !== undefined ? { system_uptime: parts.uptime } : {}),
    },
    ...(parts.ports
      ? {
          listening_ports: parts.ports.map((port) => ({
            protocol: 'tcp',
            address: '0.0.0.0',
            port,
          })),
        }
      : {}),
    ...(parts.accounts
      ? {
          accounts: parts.accounts.map((name) => ({
            name,
            uid: 1000,
            gid: 1000,
            home: '/',
            shell: '/bin/sh',
          })),
        }
      : {}),
  })!.document;
  return {
    agentId: host,
    hostId: host,
    collectedAt: at,
    doc,
    clockSkewSeconds: null,
    samples: { keys: [], values: new Float64Array() },
    checks: [],
  };
}

for (const kind of await databaseKinds()) {
  describe(`host intelligence's recorder on ${kind.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const c of cleanups) await c();
    });

    /** A real store, counting its reads and writes. */
    async function countedStore() {
      const { db, drop } = await kind.create();
      cleanups.push(drop);
      await migrate(db);
      const real = createIntelligenceStore(db.kysely);
      const counts = { reads: 0, saves: 0 };
      const store: IntelligenceStore = {
        state: (id) => (counts.reads++, real.state(id)),
        save: (...a) => (counts.saves++, real.save(...a)),
        events: (q) => real.events(q),
        deleteBefore: (at, limit) => real.deleteBefore(at, limit),
      };
      return { store, counts };
    }
    const recorderOn = (store: IntelligenceStore) =>
      createIntelligenceRecorder({
        store,
        switches: async () => ALL_ON,
        now: () => T0,
        log: (err) => {
          throw err;
        },
      });
    const kindsOf = async (store: IntelligenceStore, host: string) =>
      (await store.events({ hostId: host, limit: 100 }))
        .reverse()
        .map((e) => `${e.kind} ${e.subject}`);

    test('a restart reads the state once, and compares with it', async () => {
      const { store, counts } = await countedStore();
      const first = recorderOn(store);
      await first.observe(event('h1', T0, { uptime: 100, kernel: 'k1', ports: [22] }));
      await first.observe(event('h1', T0 + 10_000, { uptime: 110, kernel: 'k1', ports: [22, 80] }));
      assert.deepEqual(await kindsOf(store, 'h1'), ['port.opened tcp/0.0.0.0:80']);
      assert.deepEqual(counts, { reads: 2, saves: 2 });

      // A new process: the first document reads the state; identical ones touch nothing.
      const second = recorderOn(store);
      await second.observe(
        event('h1', T0 + 20_000, { uptime: 120, kernel: 'k1', ports: [80, 22] }),
      );
      assert.equal(
        second.observe(event('h1', T0 + 30_000, { uptime: 130, kernel: 'k1', ports: [22, 80] })),
        undefined,
      );
      assert.deepEqual(counts, { reads: 3, saves: 2 });
      await second.observe(event('h1', T0 + 40_000, { uptime: 140, kernel: 'k1', ports: [22] }));
      assert.deepEqual(await kindsOf(store, 'h1'), [
        'port.opened tcp/0.0.0.0:80',
        'port.closed tcp/0.0.0.0:80',
      ]);
    });

    test('a fleet whose uptimes stand still (a benchmark) costs no database work', async () => {
      const { store, counts } = await countedStore();
      const r = recorderOn(store);
      for (let host = 0; host < 20; host++)
        await r.observe(event(`b${host}`, T0, { uptime: 22_590, kernel: 'k', ports: [22] }));
      const before = { ...counts };
      for (let push = 1; push <= 300; push++)
        for (let host = 0; host < 20; host++) {
          const pending = r.observe(
            event(`b${host}`, T0 + push * 2_000, { uptime: 22_590, kernel: 'k', ports: [22] }),
          );
          assert.equal(pending, undefined);
        }
      assert.deepEqual(counts, before);
      for (let host = 0; host < 20; host++) assert.deepEqual(await kindsOf(store, `b${host}`), []);
    });

    test("one host's pushes that arrive together are compared in turn, once each", async () => {
      const { store } = await countedStore();
      const r = recorderOn(store);
      await Promise.all([
        r.observe(event('c1', T0, { ports: [22], accounts: ['root'] })),
        r.observe(event('c1', T0 + 1_000, { ports: [22, 443], accounts: ['root'] })),
        r.observe(event('c1', T0 + 2_000, { ports: [22, 443], accounts: ['root', 'ops'] })),
        r.inventory(
          { agentId: 'c1', hostId: 'c1' },
          { Stats: {}, LinuxPackages: [{ Name: 'bash', Version: '5.2' }] },
        ),
        r.inventory(
          { agentId: 'c1', hostId: 'c1' },
          { Stats: {}, LinuxPackages: [{ Name: 'bash', Version: '5.3' }] },
        ),
      ]);
      await r.idle();
      assert.deepEqual(await kindsOf(store, 'c1'), [
        'port.opened tcp/0.0.0.0:443',
        'user.added ops',
        'package.upgraded bash',
      ]);
      // A document older than the newest compared is not compared.
      await r.observe(event('c1', T0 + 500, { ports: [22], accounts: ['root'] }));
      assert.equal((await kindsOf(store, 'c1')).length, 3);
      const state = parseState((await store.state('c1'))!.state);
      assert.deepEqual(state.ports?.map(portSubject), ['tcp/0.0.0.0:22', 'tcp/0.0.0.0:443']);
      assert.deepEqual(state.packages, { bash: '5.3' });
    });

    test('retention deletes the events recorded before a time, oldest first, in bounded batches', async () => {
      const { db, drop } = await kind.create();
      cleanups.push(drop);
      await migrate(db);
      const store = createIntelligenceStore(db.kysely);
      const ev = (n: number) => ({
        kind: 'user.added' as const,
        subject: `u${n}`,
        detail: {},
        at: n,
      });
      await store.save('r1', JSON.stringify(emptyState()), [1, 2, 3, 4, 5].map(ev), 5);
      await store.save('r2', JSON.stringify(emptyState()), [6, 7].map(ev), 7);
      assert.equal(await store.deleteBefore(5, 2), 2);
      const left = async () => (await store.events({ limit: 50 })).map((e) => e.subject).sort();
      assert.deepEqual(await left(), ['u3', 'u4', 'u5', 'u6', 'u7']);
      assert.equal(await store.deleteBefore(5, 2), 2);
      assert.equal(await store.deleteBefore(5, 2), 0);
      assert.deepEqual(await left(), ['u5', 'u6', 'u7']);
    });
  });
}

test('documentFacts: absent sections, collectors that failed and odd uptimes tell nothing', () => {
  const doc = checkDataOf({
    agent: { system_uptime: -5, kernel_version: '' },
    listening_ports: { error: 'permission denied' },
    systemd_services: [{ Name: 'a.service', ActiveState: 'failed' }, { ActiveState: 'failed' }],
  })!.document;
  const f = documentFacts(doc, T0);
  assert.equal(f.kernel, undefined);
  assert.equal(f.boot, undefined);
  assert.equal(f.ports, undefined);
  assert.equal(f.accounts, undefined);
  assert.deepEqual(f.failedUnits, ['a.service']);
  const { state, events } = documentChanges({ ...emptyState(), ports: [] }, f, undefined);
  // Repeats and order do not change a fingerprint; entries without their fields are left out.
  const sent = (ports: unknown[]) =>
    documentFacts(checkDataOf({ listening_ports: ports })!.document, T0).prints.ports;
  const ssh = { protocol: 'tcp', address: '::', port: 22 };
  const dns = { protocol: 'udp', address: '127.0.0.1', port: 53 };
  assert.equal(sent([ssh, dns]), sent([dns, ssh, ssh, { protocol: 'tcp', port: 80 }]));
  assert.notEqual(sent([ssh, dns]), sent([ssh]));
  assert.deepEqual(events, []);
  assert.deepEqual(state.ports, []);
  assert.deepEqual(state.failed_units, ['a.service']);
});

test('isReboot: moved forward by more than 120 s, to after the previous document', () => {
  const prevAt = T0;
  const prevBoot = T0 - 86_400_000;
  assert.equal(isReboot(prevBoot, prevAt, T0 + 5_000), true);
  assert.equal(isReboot(prevBoot, prevAt, prevBoot + 119_000), false);
  assert.equal(isReboot(prevBoot, prevAt, prevBoot + 600_000), false, 'a clock step');
  assert.equal(isReboot(prevBoot, prevAt, prevBoot - 600_000), false, 'backwards');
});

test('inventoryPackages: pending, unscanned and malformed inventories keep the state', () => {
  const pkgs = [{ Name: 'libc6', Version: '2.36' }];
  assert.equal(inventoryPackages({ Pending: true, Stats: {}, LinuxPackages: pkgs }), undefined);
  assert.equal(inventoryPackages({ Stats: null, LinuxPackages: pkgs }), undefined);
  assert.equal(inventoryPackages({ Enabled: false, Stats: {}, LinuxPackages: pkgs }), undefined);
  assert.equal(inventoryPackages({ Stats: {} }), undefined);
  assert.equal(inventoryPackages('packages'), undefined);
  assert.deepEqual(
    inventoryPackages({
      Stats: {},
      LinuxPackages: [
        { Name: 'libc6', Version: '2.36-9' },
        { Name: 'libc6', Version: '2.36-9+deb12u4' },
        { Name: '', Version: '1' },
        { Version: '1' },
        { Name: 'tzdata' },
      ],
    }),
    { libc6: '2.36-9 2.36-9+deb12u4', tzdata: '' },
  );
});

test('parseState: bad JSON and parts of the wrong type read as never seen', () => {
  assert.deepEqual(parseState('not json'), emptyState());
  assert.deepEqual(
    parseState(JSON.stringify({ kernel: 5, ports: 'x', packages: { a: '1', b: 2 }, seen_at: 9 })),
    { ...emptyState(), packages: { a: '1' }, seen_at: 9 },
  );
});
