import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { buildCsr } from '../../agent/src/serve/csr.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';
import { CHECKDATA_FIXTURE as FIXTURE } from '../../../test/support/fixtures.js';

const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const csrFor = (name: string) => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return buildCsr(privateKey, name);
};

/** A document of the fixture's shape, with the given CPU figure. */
const documentWith = (cpu: number) => ({
  ...fixture,
  cpu: { ...(fixture.cpu as object), cpu_total_percentage: cpu },
});

interface Sse {
  events: { id: string | undefined; event: string; data: Record<string, unknown> }[];
  close(): void;
}

/** Opens the SSE stream and collects its named events. */
function openStream(
  port: number,
  token: string,
  query = '',
  headers: Record<string, string> = {},
): Promise<Sse> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path: `/api/v1/stream${query}`,
        headers: { ...bearer(token), ...headers },
      },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
        const sse: Sse = { events: [], close: () => req.destroy() };
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buf += c;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            const id = /^id: (.*)$/m.exec(block)?.[1];
            if (event && data) sse.events.push({ id, event, data: JSON.parse(data) });
          }
        });
        resolve(sse);
      },
    );
    req.on('error', reject);
  });
}

const until = async (what: string, fn: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

for (const kind of await databaseKinds()) {
  describe(`agent and enrollment events on the stream on ${kind.name}`, () => {
    // Half past a minute: pushes a few seconds before it fall in the current minute.
    let clock = Date.parse('2026-12-03T10:00:30Z');
    let h: Harness;
    let admin: string;
    let port: number;
    let hostId: string;
    let agentId: string;

    const enroll = async (hostname: string) => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/agents/enroll',
        remoteAddress: '10.1.0.1',
        payload: { csr: csrFor(hostname), hostname },
      });
      assert.equal(res.statusCode, 202, res.body);
      return (res.json() as { agent_id?: string; id?: string }).agent_id!;
    };
    const approve = async (id: string) => {
      const res = await h.inject({
        method: 'POST',
        url: `/api/v1/agents/pending/${id}/approve`,
        headers: bearer(admin),
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { host_id: string };
    };

    before(async () => {
      h = await startHarness(kind, {
        env: { VIGIL_SERVER_TLS: 'auto', VIGIL_AGENTS_AUTO_APPROVE_NETWORKS: '10.7.0.0/16' },
        now: () => clock,
      });
      admin = await h.login();
      agentId = await enroll('web-1');
      hostId = (await approve(agentId)).host_id;
      await h.vigil.telemetry.ingest({ agentId, hostId }, clock - 5000, documentWith(42.5));
      await h.vigil.http.listen({ host: '127.0.0.1', port: 0 });
      port = (h.vigil.http.server.address() as AddressInfo).port;
    });
    after(() => h.close());

    test('the stream tells of enrollments and agents going online and offline', async () => {
      const sse = await openStream(port, admin);
      try {
        const id = await enroll('cache-1');
        await until('the pending enrollment', () =>
          sse.events.some((e) => e.event === 'enrollment' && e.data.agent_id === id),
        );
        const asked = sse.events.find((e) => e.event === 'enrollment')!.data;
        assert.equal(asked.status, 'pending');
        assert.equal(asked.hostname, 'cache-1');
        assert.equal(asked.kind, 'native');
        const pending = sse.events.find((e) => e.event === 'agent' && e.data.agent_id === id);
        assert.deepEqual([pending?.data.status, pending?.data.previous_status], ['pending', null]);
        const approved = await approve(id);
        await until('the approval', () =>
          sse.events.some((e) => e.event === 'enrollment' && e.data.status === 'approved'),
        );
        const change = sse.events.filter((e) => e.event === 'agent' && e.data.agent_id === id);
        assert.deepEqual(
          change.map((e) => [e.data.previous_status, e.data.status]),
          [
            [null, 'pending'],
            ['pending', 'offline'],
          ],
        );
        assert.equal(change[1]!.data.host_id, approved.host_id);
        await h.vigil.telemetry.ingest(
          { agentId: id, hostId: approved.host_id },
          clock - 1000,
          documentWith(5),
        );
        await until('online', () =>
          sse.events.some(
            (e) => e.event === 'agent' && e.data.agent_id === id && e.data.status === 'online',
          ),
        );
        // Three missed intervals (30 s each, as the fixture reports) later, it is offline.
        clock += 100_000;
        await h.vigil.agentStatus.sweep();
        await until('offline', () =>
          sse.events.some(
            (e) =>
              e.event === 'agent' &&
              e.data.agent_id === id &&
              e.data.previous_status === 'online' &&
              e.data.status === 'offline',
          ),
        );
        const res = await h.inject({
          method: 'DELETE',
          url: `/api/v1/agents/${id}`,
          headers: bearer(admin),
        });
        assert.ok(res.statusCode < 300, res.body);
        await until('deleted', () =>
          sse.events.some((e) => e.event === 'agent' && e.data.status === 'deleted'),
        );
      } finally {
        sse.close();
      }
    });

    test('an enrollment approved at once is told as approved', async () => {
      const sse = await openStream(port, admin);
      try {
        const res = await h.inject({
          method: 'POST',
          url: '/api/v1/agents/enroll',
          remoteAddress: '10.7.0.9',
          payload: { csr: csrFor('auto-1'), hostname: 'auto-1' },
        });
        assert.ok(res.statusCode === 200 || res.statusCode === 201, res.body);
        await until('the enrollment', () => sse.events.some((e) => e.event === 'enrollment'));
        const told = sse.events.filter((e) => e.event === 'enrollment').map((e) => e.data);
        assert.deepEqual(
          told.map((e) => [e.hostname, e.status]),
          [['auto-1', 'approved']],
        );
        await until('the agent', () => sse.events.some((e) => e.event === 'agent'));
        const agent = sse.events.find((e) => e.event === 'agent')!.data;
        assert.deepEqual([agent.previous_status, agent.status], [null, 'offline']);
      } finally {
        sse.close();
      }
    });

    test('the agent_id filter applies to agent and enrollment events', async () => {
      const sse = await openStream(port, admin, `?agent_id=${agentId}`);
      try {
        const id = await enroll('filtered-1');
        await approve(id);
        await h.vigil.agentStatus.sweep();
        clock += 1000;
        await h.vigil.telemetry.ingest({ agentId, hostId }, clock - 500, documentWith(7));
        await until('the own agent online', () =>
          sse.events.some((e) => e.event === 'agent' && e.data.status === 'online'),
        );
        // Alert frames (the agent's own offline alert, say) carry the agent in their alert.
        assert.ok(
          sse.events.every(
            (e) =>
              (e.event === 'alert'
                ? (e.data.alert as { agent_id: string }).agent_id
                : e.data.agent_id) === agentId,
          ),
        );
      } finally {
        sse.close();
      }
    });

    test('agent events resume with Last-Event-ID as metrics events do', async () => {
      const first = await openStream(port, admin);
      let lastId: string | undefined;
      try {
        await enroll('resume-1');
        await until('the first events', () => first.events.length >= 2);
        lastId = first.events[0]!.id;
      } finally {
        first.close();
      }
      assert.ok(lastId);
      const again = await openStream(port, admin, '', { 'last-event-id': lastId });
      try {
        await until('the replay', () => again.events.length >= 1);
        assert.ok(Number(again.events[0]!.id) > Number(lastId));
        assert.equal(again.events[0]!.data.agent_id, first.events[1]!.data.agent_id);
      } finally {
        again.close();
      }
    });
  });
}
