import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { NativePush, NativePushResult, type CompliancePack } from '@vigil/protocol';
import { startAgent } from '../src/agent.js';
import { evaluatePacks } from '../src/compliance/evaluate.js';
import { startComplianceScheduler } from '../src/compliance/scheduler.js';
import { realHost } from '../src/host.js';
import { NATIVE_FILES, startNativeClient, type NativeState } from '../src/push/native.js';
import { buildCsr } from '../src/serve/csr.js';
import { createTestCa } from './ca.js';
import { baselinePackText, fixtureTree, removeTrees } from './compliance-support.js';

// The native push carries the checksum of the packs the agent holds, and takes the packs from
// the answer: a real HTTPS server with mutual TLS answers as a Vigil server does (packs only when
// the checksum it was sent differs from that of the packs assigned to the host).

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  removeTrees();
});

const AGENT = 'web-01';
const CHECKDATA = `/api/v1/agents/${AGENT}/checkdata`;

/** A Vigil server on 127.0.0.1 assigning `assigned()` to the agent's host. */
async function vigilServer(assigned: () => CompliancePack[]) {
  const ca = await createTestCa();
  const serverKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const serverCert = await ca.signServer(buildCsr(serverKey, '127.0.0.1'));
  const client = await ca.client(AGENT);
  const pushes: Record<string, unknown>[] = [];
  const answers: Record<string, unknown>[] = [];
  const server = https.createServer(
    {
      key: serverKey.export({ type: 'pkcs8', format: 'pem' }),
      cert: serverCert,
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const p = (req.url ?? '').replace(/\?.*/, '');
        res.setHeader('content-type', 'application/json');
        if (req.method === 'GET' && p === `/api/v1/agents/${AGENT}/commands`) {
          setTimeout(() => res.end('{"commands":[]}'), 200);
          return;
        }
        if (p !== CHECKDATA) {
          res.statusCode = 404;
          res.end('{}');
          return;
        }
        const push = JSON.parse(text) as Record<string, unknown>;
        pushes.push(push);
        const packs = [...assigned()].sort((a, b) => (a.id < b.id ? -1 : 1));
        const checksum =
          packs.length === 0
            ? ''
            : createHash('sha256').update(JSON.stringify(packs)).digest('hex');
        const answer = {
          received_checks: 0,
          duplicate: false,
          interval_seconds: 60,
          commands: [],
          compliance: {
            checksum,
            interval_seconds: 3600,
            ...(push.compliance_checksum === checksum ? {} : { packs }),
          },
        };
        answers.push(answer);
        res.end(JSON.stringify(answer));
      });
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    ca: ca.certPem,
    client,
    pushes,
    answers,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(r);
      }),
  };
}

test(
  'the native push sends compliance_checksum and takes the delivered packs',
  { timeout: 30_000 },
  async () => {
    const baseline = JSON.parse(baselinePackText()) as CompliancePack;
    let assigned: CompliancePack[] = [baseline];
    const srv = await vigilServer(() => assigned);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-native-'));
    dirs.push(dir);
    const state: NativeState = {
      server: srv.url,
      agent_id: AGENT,
      ca_fingerprint: '0',
      status: 'approved',
    };
    writeFileSync(path.join(dir, NATIVE_FILES.state), JSON.stringify(state));
    writeFileSync(path.join(dir, NATIVE_FILES.ca), srv.ca);
    writeFileSync(path.join(dir, NATIVE_FILES.cert), srv.client.certPem);
    writeFileSync(path.join(dir, NATIVE_FILES.key), srv.client.keyPem);

    const { ctx } = fixtureTree('debian-hardened');
    let evaluations = 0;
    const logs: string[] = [];
    const scheduler = startComplianceScheduler({
      evaluate: (packs, checksum) => {
        evaluations += 1;
        return evaluatePacks(packs, checksum, ctx);
      },
      log: (l) => logs.push(l),
    });
    const client = startNativeClient({
      dir,
      host: () => realHost(),
      log: (l) => logs.push(l),
      compliance: { checksum: () => scheduler.checksum(), onDelivery: (d) => scheduler.apply(d) },
    });
    const push = async () =>
      assert.deepEqual(await client.transport.send(Date.now(), '{"agent":{}}'), { ok: true });
    try {
      // Before any answer the agent holds nothing and says nothing about it.
      await push();
      assert.equal('compliance_checksum' in srv.pushes[0]!, false);
      assert.ok(Value.Check(NativePush, srv.pushes[0]));
      assert.ok(
        Value.Check(NativePushResult, srv.answers[0]),
        'the test server answers as the contract says',
      );
      const checksum = (srv.answers[0]!.compliance as { checksum: string }).checksum;
      assert.match(checksum, /^[0-9a-f]{64}$/);

      // The packs arrived: evaluated at once, the report ready for the next document.
      await scheduler.idle();
      const report = scheduler.report();
      assert.equal(report?.checksum, checksum);
      assert.deepEqual(report?.packs, [{ id: 'linux-baseline', version: '1.0.0' }]);
      assert.equal(report?.results.length, baseline.rules.length);
      assert.ok(report?.results.every((r) => r.status === 'pass' || r.status === 'not_applicable'));
      assert.ok(
        logs.some((l) => l.includes('compliance: packs received: linux-baseline@1.0.0')),
        logs.join('\n'),
      );

      // The next push carries the checksum; the answer brings no packs and nothing is re-evaluated.
      await push();
      assert.equal(srv.pushes[1]!.compliance_checksum, checksum);
      assert.ok(Value.Check(NativePush, srv.pushes[1]));
      assert.equal('packs' in (srv.answers[1]!.compliance as object), false);
      await scheduler.idle();
      assert.equal(evaluations, 1);

      // The host loses its packs: the report goes, and the agent says it holds none.
      assigned = [];
      await push();
      assert.equal(scheduler.report(), undefined);
      await push();
      assert.equal(srv.pushes[3]!.compliance_checksum, '');
    } finally {
      client.stop();
      await scheduler.stop();
      await srv.close();
    }
  },
);

/** A TCP port nobody listens on now. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

test(
  'a running agent puts the latest report into every document',
  { timeout: 30_000 },
  async () => {
    const baseline = JSON.parse(baselinePackText()) as CompliancePack;
    const srv = await vigilServer(() => [baseline]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-compliance-'));
    dirs.push(dir);
    const state: NativeState = {
      server: srv.url,
      agent_id: AGENT,
      ca_fingerprint: '0',
      status: 'approved',
    };
    writeFileSync(path.join(dir, NATIVE_FILES.state), JSON.stringify(state));
    writeFileSync(path.join(dir, NATIVE_FILES.ca), srv.ca);
    writeFileSync(path.join(dir, NATIVE_FILES.cert), srv.client.certPem);
    writeFileSync(path.join(dir, NATIVE_FILES.key), srv.client.keyPem);
    const configFile = path.join(dir, 'config.ini');
    writeFileSync(
      configFile,
      `[default]\ninterval = 1\naddress = 127.0.0.1\nport = ${await freePort()}\n[packagemanager]\nenabled = false\n`,
    );
    // The machine under evaluation is a fixture tree: its root file system and its /proc.
    const { root } = fixtureTree('debian-weak');
    const host = realHost({ rootfs: root, proc: path.join(root, 'proc') }, () =>
      Promise.reject(Object.assign(new Error('spawn ENOENT'), { code: 'ENOENT' })),
    );
    const logs: string[] = [];
    const agent = await startAgent(configFile, { log: (l) => logs.push(l), host });
    type Pushed = {
      checkdata: {
        compliance?: {
          checksum: string;
          results: { rule: string; status: string; detail?: string }[];
        };
      };
    };
    try {
      const deadline = Date.now() + 20_000;
      let pushed: Pushed | undefined;
      while (Date.now() < deadline) {
        pushed = (srv.pushes as unknown as Pushed[]).find((p) => p.checkdata.compliance);
        if (pushed) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(pushed, `no document with a report; log:\n${logs.join('\n')}`);
      // The first document went out before any answer: without a report and without a checksum.
      assert.equal(srv.pushes[0]!.compliance_checksum, undefined);
      assert.equal((srv.pushes[0] as unknown as Pushed).checkdata.compliance, undefined);
      const results = new Map(pushed.checkdata.compliance!.results.map((r) => [r.rule, r]));
      assert.equal(results.size, baseline.rules.length);
      assert.equal(results.get('sshd-permit-root-login')?.status, 'fail');
      assert.equal(results.get('dnf-automatic')?.status, 'not_applicable');
      // Under a root other than / systemctl is not asked; the package inventory is off here.
      assert.equal(results.get('auditd-active')?.status, 'error');
      assert.deepEqual(results.get('security-updates-pending'), {
        pack: 'linux-baseline',
        rule: 'security-updates-pending',
        status: 'error',
        detail: 'the package inventory is off ([packagemanager] enabled)',
      });
      assert.ok(
        logs.some((l) => /^compliance: evaluated 40 rules of linux-baseline@1\.0\.0: /.test(l)),
        logs.join('\n'),
      );
      // The local API serves the same document.
      assert.ok((agent.document() as { compliance?: unknown }).compliance);
    } finally {
      await agent.stop();
      await srv.close();
    }
  },
);
