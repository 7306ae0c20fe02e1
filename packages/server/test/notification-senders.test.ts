import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import type { AlertItem } from '../src/alerts/model.js';
import { alertItem } from '../../../test/support/alerts.js';
import type { NotificationMessage, OpenChannel } from '../src/notifications/model.js';
import { SENDERS } from '../src/notifications/senders/index.js';
import { signWebhook } from '../src/notifications/senders/webhook.js';

const message = (alerts: AlertItem[]): NotificationMessage => ({
  kind: 'alerts',
  event: 'opened',
  status: 'firing',
  title: '[FIRING:2] High CPU (opened)',
  group: { key: 'c|r1|opened', channel_id: 'c', rule_id: 'r1', event: 'opened' },
  alerts,
  external_url: 'https://vigil.example',
  at: '2026-12-01T10:00:30.000Z',
});
const two = [
  alertItem(),
  alertItem({ id: 'a2', host_id: 'h2', host_name: 'web-2', dedup_key: 'k2' }),
];
const channel = (
  type: OpenChannel['type'],
  settings: object,
  secrets: object = {},
): OpenChannel => ({
  id: 'c',
  name: 'ops',
  type,
  settings: settings as Record<string, unknown>,
  secrets: secrets as Record<string, unknown>,
});

interface Received {
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('notification senders', () => {
  let server: Server;
  let base: string;
  const got: Received[] = [];
  /** What the receiver answers next: a status, or `hang` to never answer. */
  let answer: number | 'hang' = 200;

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        got.push({ url: req.url ?? '', headers: req.headers, body });
        if (answer === 'hang') return;
        res.writeHead(answer).end(answer === 200 ? 'ok' : 'receiver broke');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const last = () => got[got.length - 1]!;

  test('webhook: JSON body with the alerts, HMAC signature the receiver can verify', async () => {
    answer = 200;
    const r = await SENDERS.webhook.send(
      channel(
        'webhook',
        { url: `${base}/hook` },
        { secret: 's3cret', headers: { 'X-Team': 'ops' } },
      ),
      message(two),
      2000,
    );
    assert.equal(r.status, 200);
    const req = last();
    const body = JSON.parse(req.body);
    assert.deepEqual(
      body.alerts.map((a: AlertItem) => a.host_name),
      ['web-1', 'web-2'],
    );
    assert.equal(body.group.rule_id, 'r1');
    assert.equal(req.headers['x-team'], 'ops');
    const ts = String(req.headers['x-vigil-timestamp']);
    assert.match(ts, /^\d+$/);
    assert.equal(req.headers['x-vigil-signature'], `sha256=${signWebhook('s3cret', ts, req.body)}`);
    assert.notEqual(
      req.headers['x-vigil-signature'],
      `sha256=${signWebhook('other', ts, req.body)}`,
    );
  });

  test('webhook without a secret is not signed', async () => {
    await SENDERS.webhook.send(channel('webhook', { url: `${base}/hook` }), message(two), 2000);
    assert.equal(last().headers['x-vigil-signature'], undefined);
  });

  test('a non-2xx answer is a failure naming the status', async () => {
    answer = 500;
    await assert.rejects(
      SENDERS.webhook.send(channel('webhook', { url: `${base}/hook` }), message(two), 2000),
      /HTTP 500: receiver broke/,
    );
    answer = 200;
  });

  test('no answer within the timeout is a failure', async () => {
    answer = 'hang';
    const t = Date.now();
    await assert.rejects(
      SENDERS.webhook.send(channel('webhook', { url: `${base}/slow` }), message(two), 300),
      /no answer within 300 ms/,
    );
    assert.ok(Date.now() - t < 2000);
    answer = 200;
  });

  test('slack: {text, blocks} to the secret URL', async () => {
    await SENDERS.slack.send(channel('slack', {}, { url: `${base}/slack` }), message(two), 2000);
    const body = JSON.parse(last().body);
    assert.equal(last().url, '/slack');
    assert.equal(body.text, '[FIRING:2] High CPU (opened)');
    assert.equal(body.blocks[0].type, 'header');
    assert.equal(body.blocks.length, 3);
    assert.match(body.blocks[2].text.text, /web-2: CPU at 97 %/);
  });

  test('ntfy: POST to the topic with Title, Priority, Tags and the bearer token', async () => {
    await SENDERS.ntfy.send(
      channel('ntfy', { url: `${base}/`, topic: 'alerts', priority: 5 }, { token: 'tk_1' }),
      message(two),
      2000,
    );
    const req = last();
    assert.equal(req.url, '/alerts');
    assert.equal(req.headers.title, '[FIRING:2] High CPU (opened)');
    assert.equal(req.headers.priority, '5');
    assert.equal(req.headers.tags, 'rotating_light');
    assert.equal(req.headers.authorization, 'Bearer tk_1');
    assert.match(req.body, /web-1: CPU at 97 %/);
  });

  test('alertmanager: the version 4 webhook body', async () => {
    const resolved = alertItem({
      id: 'a3',
      state: 'resolved',
      resolved_at: '2026-12-01T11:00:00.000Z',
      dedup_key: 'k3',
      host_name: 'web-3',
    });
    await SENDERS.alertmanager.send(
      channel('alertmanager', { url: `${base}/am`, receiver: 'team-ops' }),
      message([...two, resolved]),
      2000,
    );
    const body = JSON.parse(last().body);
    assert.equal(body.version, '4');
    assert.equal(body.receiver, 'team-ops');
    assert.equal(body.status, 'firing');
    assert.equal(body.externalURL, 'https://vigil.example');
    assert.deepEqual(body.groupLabels, { rule_id: 'r1' });
    assert.equal(body.groupKey, '{}:{rule_id="r1"}');
    assert.equal(body.commonLabels.alertname, 'High CPU');
    assert.equal(body.commonLabels.host, undefined);
    assert.equal(body.alerts.length, 3);
    const [a, , c] = body.alerts;
    assert.deepEqual(Object.keys(a).sort(), [
      'annotations',
      'endsAt',
      'fingerprint',
      'generatorURL',
      'labels',
      'startsAt',
      'status',
    ]);
    assert.equal(a.status, 'firing');
    assert.equal(a.endsAt, '0001-01-01T00:00:00Z');
    assert.equal(a.generatorURL, 'https://vigil.example/alerts/a1');
    assert.match(a.fingerprint, /^[0-9a-f]{16}$/);
    assert.equal(c.status, 'resolved');
    assert.equal(c.endsAt, '2026-12-01T11:00:00.000Z');
  });

  test('e-mail: received by a real SMTP server, with authentication', async () => {
    const mails: { from: string; to: string[]; data: string; user?: string }[] = [];
    const smtp = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(auth, _session, cb) {
        if (auth.username === 'vigil' && auth.password === 'pw') cb(null, { user: auth.username });
        else cb(new Error('bad credentials'));
      },
      onData(stream, session, cb) {
        let data = '';
        stream.on('data', (c: Buffer) => (data += c.toString('utf8')));
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            data,
            user: session.user as string | undefined,
          });
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    const port = (smtp.server.address() as AddressInfo).port;
    try {
      const ch = channel(
        'email',
        {
          host: '127.0.0.1',
          port,
          tls: 'none',
          from: 'vigil@example.org',
          to: ['ops@example.org', 'oncall@example.org'],
          username: 'vigil',
        },
        { password: 'pw' },
      );
      const r = await SENDERS.email.send(ch, message(two), 5000);
      assert.equal(r.status, 250);
      assert.equal(mails.length, 1);
      const m = mails[0]!;
      assert.equal(m.user, 'vigil');
      assert.equal(m.from, 'vigil@example.org');
      assert.deepEqual(m.to, ['ops@example.org', 'oncall@example.org']);
      assert.match(m.data, /Subject: \[FIRING:2\] High CPU \(opened\)/);
      assert.match(m.data, /text\/plain/);
      assert.match(m.data, /text\/html/);
      assert.match(m.data, /web-2: CPU at 97 %/);
      await assert.rejects(
        SENDERS.email.send({ ...ch, secrets: { password: 'wrong' } }, message(two), 5000),
        /SMTP 127\.0\.0\.1: .*(auth|credentials)/i,
      );
    } finally {
      await new Promise<void>((r) => smtp.close(() => r()));
    }
  });
});
