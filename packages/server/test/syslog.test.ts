// The syslog listener on real sockets (127.0.0.1, ephemeral ports): UDP datagrams, TCP with octet
// counting and with LF framing, util-linux `logger` as a real peer when it is installed; the lines
// are read back through GET /api/v1/logs, filed under the host their HOSTNAME or sender names.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

const run = promisify(execFile);
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const hasLogger = await run('logger', ['--version']).then(
  () => true,
  () => false,
);

interface Entry {
  id: string;
  timestamp: string;
  agent_id: string | null;
  host_id: string | null;
  source: string;
  source_name: string;
  level: string;
  message: string;
  fields: Record<string, string>;
}

/** Sends one datagram from `from` (a loopback address) to the port. */
async function sendUdp(port: number, text: string, from = '127.0.0.1'): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, from, resolve));
  await new Promise<void>((resolve, reject) =>
    s.send(Buffer.from(text), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
  );
  s.close();
}

/** Writes the chunks on one TCP connection from `from`, then closes it. */
async function sendTcp(port: number, chunks: (string | Buffer)[], from = '127.0.0.1') {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  for (const c of chunks) {
    socket.write(c);
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise<void>((resolve) => socket.end(resolve));
}

const octet = (s: string) => `${Buffer.byteLength(s)} ${s}`;

for (const kind of await databaseKinds()) {
  describe(`syslog listener on ${kind.name}`, () => {
    let h: Harness;
    let token: string;
    let udp: number;
    let tcp: number;
    let lab: string;
    let router: string;

    const logs = async (query: string): Promise<{ entries: Entry[]; total: number }> => {
      const res = await h.inject({
        method: 'GET',
        url: `/api/v1/logs?source=syslog&limit=1000&${query}`,
        headers: bearer(token),
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as { entries: Entry[]; total: number };
    };
    /** Waits until the query finds `n` lines (the listener stores within a fraction of a second). */
    const waitFor = async (query: string, n: number): Promise<Entry[]> => {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const { entries } = await logs(query);
        if (entries.length >= n || Date.now() > deadline) return entries;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const host = async (hostname: string, ip: string, extra: object = {}) => {
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/hosts',
        headers: bearer(token),
        payload: { hostname, ip_address: ip, ...extra },
      });
      assert.equal(res.statusCode, 201, res.body);
      return (res.json() as { id: string }).id;
    };

    before(async () => {
      h = await startHarness(kind, {
        env: {
          VIGIL_SYSLOG_LISTEN: 'udp://127.0.0.1:0, tcp://127.0.0.1:0',
          VIGIL_SYSLOG_MAX_MESSAGE_BYTES: '1024',
        },
      });
      token = await h.login();
      const bound = h.vigil.syslog!.addresses();
      udp = bound.find((a) => a.protocol === 'udp')!.port;
      tcp = bound.find((a) => a.protocol === 'tcp')!.port;
      lab = await host('sw-lab', '127.0.0.1');
      router = await host('edge-router.example.net', '192.0.2.1', { display_name: 'Edge' });
    });
    after(() => h.close());

    test('without [syslog] listen nothing listens', async () => {
      const plain = await startHarness(kind);
      try {
        assert.equal(plain.vigil.syslog, undefined);
      } finally {
        await plain.close();
      }
    });

    test('UDP: a line is filed under the host whose address sent it', async () => {
      await sendUdp(
        udp,
        '<187>120: Dec  4 01:59:12.345 UTC: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down',
      );
      const [e] = await waitFor(`host_id=${lab}&q=UPDOWN`, 1);
      assert.ok(e, 'stored');
      assert.equal(e.host_id, lab);
      assert.equal(e.agent_id, null);
      assert.equal(e.source, 'syslog');
      assert.equal(e.source_name, 'LINK');
      assert.equal(e.level, 'error');
      assert.equal(e.message, '%LINK-3-UPDOWN: Interface Gi0/1, changed state to down');
      assert.equal(e.fields.remote_addr, '127.0.0.1');
      assert.equal(e.fields.mnemonic, 'LINK-3-UPDOWN');
      assert.equal(e.fields.facility, 'local7');
    });

    test("the listener's and the log ingest's counters are on /metrics", async () => {
      const res = await h.inject({ method: 'GET', url: '/metrics', headers: bearer(token) });
      assert.equal(res.statusCode, 200);
      const value = (name: string) =>
        Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(res.body)?.[1]);
      // The line of the test before is received, stored, and counted by the ingest too.
      assert.ok(value('vigil_syslog_received_total') >= 1);
      assert.ok(value('vigil_syslog_stored_total') >= 1);
      assert.ok(value('vigil_logs_lines_total') >= 1);
      assert.equal(value('vigil_syslog_dropped_queue_full_total'), 0);
      assert.equal(value('vigil_syslog_connections'), 0);
    });

    test('UDP: the HOSTNAME names the host, whoever sends (a relay)', async () => {
      const written = new Date(Date.now() - 3_600_000).toISOString();
      await sendUdp(
        udp,
        `<165>1 ${written} edge-router.example.net mgd 3046 UI_COMMIT [junos@2636.1.1.1.2.18 username="ops"] User ops committed`,
        '127.0.0.2',
      );
      await sendUdp(udp, '<13>Dec  4 02:03:08 EDGE chronyd[77]: Selected source', '127.0.0.2');
      const entries = await waitFor(`host_id=${router}`, 2);
      assert.equal(entries.length, 2);
      const commit = entries.find((e) => e.source_name === 'mgd')!;
      assert.equal(commit.timestamp, written);
      assert.equal(commit.level, 'notice');
      assert.equal(commit.fields['junos@2636.1.1.1.2.18.username'], 'ops');
      assert.equal(commit.fields.msgid, 'UI_COMMIT');
      assert.equal(commit.fields.pid, '3046');
      assert.equal(commit.fields.remote_addr, '127.0.0.2');
      const chrony = entries.find((e) => e.source_name === 'chronyd')!;
      assert.equal(chrony.fields.hostname, 'EDGE');
      assert.equal(chrony.message, 'Selected source');
    });

    test('TCP octet counting: frames split across writes; an unknown sender is kept', async () => {
      const a = octet('<11>1 - mystery-box app 1 - - first line');
      const b = octet('<12>1 - mystery-box app 1 - - second line\nwith a newline inside');
      const all = Buffer.from(a + b);
      await sendTcp(tcp, [all.subarray(0, 7), all.subarray(7, 40), all.subarray(40)], '127.0.0.2');
      const entries = await waitFor('source_name=app', 2);
      assert.equal(entries.length, 2);
      for (const e of entries) {
        assert.equal(e.host_id, null);
        assert.equal(e.fields.hostname, 'mystery-box');
        assert.equal(e.fields.remote_addr, '127.0.0.2');
      }
      assert.deepEqual(entries.map((e) => e.message).sort(), [
        'first line',
        'second line\nwith a newline inside',
      ]);
      assert.deepEqual(entries.map((e) => e.level).sort(), ['error', 'warning']);
    });

    test('TCP LF framing: many lines, an over-long one cut, a last one without LF', async () => {
      const lines = Array.from({ length: 50 }, (_, i) => `<14>Dec  4 02:03:08 sw-lab batch: n${i}`);
      await sendTcp(tcp, [
        `${lines.slice(0, 25).join('\n')}\n`,
        `<14>Dec  4 02:03:08 sw-lab long: ${'x'.repeat(2000)}\n`,
        lines.slice(25).join('\r\n'),
      ]);
      const batch = await waitFor(`host_id=${lab}&source_name=batch`, 50);
      assert.equal(batch.length, 50);
      assert.deepEqual(new Set(batch.map((e) => e.message)), new Set(lines.map((_, i) => `n${i}`)));
      const [long] = await waitFor(`host_id=${lab}&source_name=long`, 1);
      assert.ok(long);
      assert.equal(Buffer.byteLength(`<14>Dec  4 02:03:08 sw-lab long: ${long.message}`), 1024);
      assert.ok(h.vigil.syslog!.stats().truncated >= 1);
    });

    test('malformed input is kept whole or ignored, and the listener keeps working', async () => {
      await sendUdp(udp, 'no pri at all from a misconfigured box');
      await sendUdp(udp, '<999>bad pri');
      await sendUdp(udp, '\n');
      await sendTcp(tcp, [
        '\u0000\u0001\u0002garbage\n',
        '<13>1 2026-99-99T00:00:00Z x y - - - bad time\n',
      ]);
      const raw = await waitFor(`host_id=${lab}&q=misconfigured`, 1);
      assert.equal(raw[0]?.level, 'notice');
      assert.equal(raw[0]?.message, 'no pri at all from a misconfigured box');
      const bad = await waitFor(`host_id=${lab}&q="bad pri"`, 1);
      assert.equal(bad[0]?.message, '<999>bad pri');
      const time = await waitFor(`host_id=${lab}&q="bad time"`, 1);
      assert.equal(time.length, 1);
      await sendUdp(udp, '<13>still: alive');
      assert.equal((await waitFor(`host_id=${lab}&q=alive`, 1)).length, 1);
    });

    test('a host created after the listener started is matched at once', async () => {
      const late = await host('late-switch', '127.0.0.3');
      await sendUdp(udp, '<14>late: hello from a new switch', '127.0.0.3');
      const [e] = await waitFor(`host_id=${late}`, 1);
      assert.equal(e?.message, 'hello from a new switch');
    });

    test('syslog lines raise a log alert rule on their host', async () => {
      const created = await h.inject({
        method: 'POST',
        url: '/api/v1/alerts/rules',
        headers: bearer(token),
        payload: {
          name: 'Switch login failures',
          kind: 'log_count',
          warning: 3,
          params: { q: '"login failed"', source: 'syslog', window_seconds: 300 },
        },
      });
      assert.equal(created.statusCode, 201, created.body);
      const ruleId = (created.json() as { id: string }).id;
      // The rule is loaded at the next evaluation; then stored lines are checked as they come.
      await h.vigil.logRules.evaluator.tick();
      for (let i = 0; i < 3; i++)
        await sendUdp(udp, `<188>sshd[9]: Login failed for user admin ${i}`);
      const deadline = Date.now() + 5_000;
      let alerts: { rule_id: string; host_id: string; value: number }[] = [];
      while (alerts.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        const res = await h.inject({
          method: 'GET',
          url: '/api/v1/alerts?state=active',
          headers: bearer(token),
        });
        alerts = (res.json().items as typeof alerts).filter((a) => a.rule_id === ruleId);
      }
      assert.deepEqual(
        alerts.map((a) => [a.host_id, a.value]),
        [[lab, 3]],
      );
    });

    test(
      'util-linux logger as a peer, UDP and TCP, RFC 5424 and 3164',
      { skip: !hasLogger },
      async () => {
        const send = (args: string[]) =>
          run('logger', ['--server', '127.0.0.1', ...args], { timeout: 10_000 });
        await send([
          '--port',
          String(udp),
          '--udp',
          '--rfc5424',
          '-t',
          'lg5424u',
          '-p',
          'local0.err',
          'via logger udp 5424',
        ]);
        await send([
          '--port',
          String(tcp),
          '--tcp',
          '--rfc3164',
          '-t',
          'lg3164t',
          '-p',
          'user.warning',
          'via logger tcp 3164',
        ]);
        await send([
          '--port',
          String(tcp),
          '--tcp',
          '--octet-count',
          '--rfc5424',
          '-t',
          'lg5424o',
          'via logger octet 5424',
        ]);
        const u = await waitFor(`source_name=lg5424u`, 1);
        assert.equal(u[0]?.message, 'via logger udp 5424');
        assert.equal(u[0]?.level, 'error');
        assert.equal(u[0]?.fields.facility, 'local0');
        const t = await waitFor(`source_name=lg3164t`, 1);
        assert.equal(t[0]?.message, 'via logger tcp 3164');
        assert.equal(t[0]?.level, 'warning');
        const o = await waitFor(`source_name=lg5424o`, 1);
        assert.equal(o[0]?.message, 'via logger octet 5424');
        // logger names this machine; it is no host here, so its sender 127.0.0.1 decides.
        for (const e of [...u, ...t, ...o]) assert.equal(e.host_id, lab);
      },
    );
  });
}
