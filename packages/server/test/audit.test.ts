// Over 500 lines: one suite per database kind, each on one server harness; split files would
// each start their own servers (and PostgreSQL databases) again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as OTPAuth from 'otpauth';
import { redact, systemContext } from '../src/audit/service.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { ADMIN_PASSWORD, startHarness, type Harness } from '../../../test/support/harness.js';
import { operations, type Doc } from '../../../test/support/openapi.js';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

type Exerciser = (h: Harness, cid: string) => Promise<{ statusCode: number; body: string }>;

/**
 * How to perform each mutating operation of the OpenAPI document successfully, and the audit
 * action it must write. An operation missing here fails the completeness test.
 */
const EXERCISERS: Record<string, { action: string; run: Exerciser }> = {
  'POST /api/v1/auth/login': {
    action: 'auth.login',
    run: (h, cid) =>
      h.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'x-correlation-id': cid },
        payload: { username: 'admin', password: ADMIN_PASSWORD },
      }),
  },
  'POST /api/v1/auth/refresh': {
    action: 'auth.refresh',
    async run(h, cid) {
      const pair = await h.loginPair();
      return h.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        headers: { 'x-correlation-id': cid },
        payload: { refresh_token: pair.refresh_token },
      });
    },
  },
  'POST /api/v1/auth/logout': {
    action: 'auth.logout',
    async run(h, cid) {
      const token = await h.login();
      return h.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: { ...bearer(token), 'x-correlation-id': cid },
      });
    },
  },
  'POST /api/v1/agents': {
    action: 'agent.create',
    run: async (h, cid) =>
      h.inject({
        method: 'POST',
        url: '/api/v1/agents',
        headers: { ...bearer(await h.login()), 'x-correlation-id': cid },
        payload: { name: 'audited' },
      }),
  },
  'DELETE /api/v1/agents/{id}': {
    action: 'agent.delete',
    async run(h, cid) {
      const token = await h.login();
      await h.inject({
        method: 'POST',
        url: '/api/v1/agents',
        headers: bearer(token),
        payload: { id: 'to-delete', name: 'x' },
      });
      return h.inject({
        method: 'DELETE',
        url: '/api/v1/agents/to-delete',
        headers: { ...bearer(token), 'x-correlation-id': cid },
      });
    },
  },
  'PATCH /api/v1/agents/{id}': {
    action: 'agent.update',
    async run(h, cid) {
      const token = await h.login();
      await h.inject({
        method: 'POST',
        url: '/api/v1/agents',
        headers: bearer(token),
        payload: { id: 'to-update', name: 'x' },
      });
      return h.inject({
        method: 'PATCH',
        url: '/api/v1/agents/to-update',
        headers: { ...bearer(token), 'x-correlation-id': cid },
        payload: { name: 'renamed' },
      });
    },
  },
  'POST /api/v1/agents/{id}/revoke': {
    action: 'agent.revoke',
    async run(h, cid) {
      const token = await h.login();
      await h.inject({
        method: 'POST',
        url: '/api/v1/agents',
        headers: bearer(token),
        payload: { id: 'to-revoke', name: 'x' },
      });
      return h.inject({
        method: 'POST',
        url: '/api/v1/agents/to-revoke/revoke',
        headers: { ...bearer(token), 'x-correlation-id': cid },
      });
    },
  },
  'POST /api/v1/agents/{id}/enrollment-token': {
    action: 'agent.token.issue',
    async run(h, cid) {
      const token = await h.login();
      await h.inject({
        method: 'POST',
        url: '/api/v1/agents',
        headers: bearer(token),
        payload: { id: 'new-token', name: 'x' },
      });
      return h.inject({
        method: 'POST',
        url: '/api/v1/agents/new-token/enrollment-token',
        headers: { ...bearer(token), 'x-correlation-id': cid },
      });
    },
  },
  'POST /api/v1/agents/pending/{id}/approve': {
    action: 'agent.approve',
    run: (h, cid) => pendingThen(h, cid, 'approve'),
  },
  'POST /api/v1/agents/pending/{id}/reject': {
    action: 'agent.reject',
    run: (h, cid) => pendingThen(h, cid, 'reject'),
  },
  'POST /api/v1/settings/refresh': {
    action: 'settings.refresh',
    run: async (h, cid) =>
      h.inject({
        method: 'POST',
        url: '/api/v1/settings/refresh',
        headers: { ...bearer(await h.login()), 'x-correlation-id': cid },
        payload: { interval: 15 },
      }),
  },
  'POST /api/v1/processes/{pid}/signal': {
    action: 'process.signal',
    async run(h, cid) {
      const token = await h.login();
      await h.inject({
        method: 'POST',
        url: '/api/v1/agents',
        headers: bearer(token),
        payload: { id: 'signalled', name: 'x' },
      });
      const row = (await h.vigil.agents.row('signalled'))!;
      const answer = h.inject({
        method: 'POST',
        url: '/api/v1/processes/4242/signal?agent_id=signalled',
        headers: { ...bearer(token), 'x-correlation-id': cid },
        payload: { signal: 15 },
      });
      // The agent's side, in process: pick the command up and report it delivered.
      const [cmd] = await h.vigil.commands.waitCommands(row, 5000, new AbortController().signal);
      h.vigil.commands.completeCommand(row, cmd!.id, { ok: true });
      return answer;
    },
  },
  'POST /api/v1/hosts': {
    action: 'host.create',
    run: (h, cid) => asAdmin(h, cid, 'POST', '/api/v1/hosts', hostBody()),
  },
  'PATCH /api/v1/hosts/{id}': {
    action: 'host.update',
    run: async (h, cid) =>
      asAdmin(h, cid, 'PATCH', `/api/v1/hosts/${await newHost(h)}`, { environment: 'prod' }),
  },
  'DELETE /api/v1/hosts/{id}': {
    action: 'host.delete',
    run: async (h, cid) => asAdmin(h, cid, 'DELETE', `/api/v1/hosts/${await newHost(h)}`),
  },
  'POST /api/v1/hosts/{host_id}/maintenance': {
    action: 'host.maintenance',
    run: async (h, cid) =>
      asAdmin(h, cid, 'POST', `/api/v1/hosts/${await newHost(h)}/maintenance`, {
        enabled: true,
        reason: 'patching',
      }),
  },
  'POST /api/v1/hosts/{id}/connectivity:check': {
    action: 'host.connectivity_check',
    run: async (h, cid) =>
      h.inject({
        method: 'POST',
        url: `/api/v1/hosts/${await newHost(h)}/connectivity:check`,
        headers: { ...bearer(await h.login()), 'x-correlation-id': cid, 'idempotency-key': cid },
      }),
  },
  'POST /api/v1/hosts/{id}/discovery:run': {
    action: 'host.discovery_run',
    async run(h, cid) {
      const id = await newHost(h);
      await newCredential(h, { scope: 'host', host_id: id });
      return h.inject({
        method: 'POST',
        url: `/api/v1/hosts/${id}/discovery:run`,
        headers: { ...bearer(await h.login()), 'x-correlation-id': cid, 'idempotency-key': cid },
      });
    },
  },
  'POST /api/v1/credentials': {
    action: 'credential.create',
    run: (h, cid) => asAdmin(h, cid, 'POST', '/api/v1/credentials', credentialBody()),
  },
  'PATCH /api/v1/credentials/{id}': {
    action: 'credential.update',
    run: async (h, cid) =>
      asAdmin(h, cid, 'PATCH', `/api/v1/credentials/${await newCredential(h)}`, { name: 'x' }),
  },
  'DELETE /api/v1/credentials/{id}': {
    action: 'credential.delete',
    run: async (h, cid) =>
      asAdmin(h, cid, 'DELETE', `/api/v1/credentials/${await newCredential(h)}`),
  },
  'POST /api/v1/notifications/channels': {
    action: 'notification_channel.create',
    run: (h, cid) => asAdmin(h, cid, 'POST', '/api/v1/notifications/channels', channelBody()),
  },
  'PATCH /api/v1/notifications/channels/{id}': {
    action: 'notification_channel.update',
    run: async (h, cid) =>
      asAdmin(h, cid, 'PATCH', `/api/v1/notifications/channels/${await newChannel(h)}`, {
        enabled: false,
      }),
  },
  'DELETE /api/v1/notifications/channels/{id}': {
    action: 'notification_channel.delete',
    run: async (h, cid) =>
      asAdmin(h, cid, 'DELETE', `/api/v1/notifications/channels/${await newChannel(h)}`),
  },
  'POST /api/v1/notifications/channels/{id}:test': {
    action: 'notification_channel.test',
    run: async (h, cid) =>
      asAdmin(h, cid, 'POST', `/api/v1/notifications/channels/${await newChannel(h)}:test`),
  },
  'POST /api/v1/credentials/{id}:clone': {
    action: 'credential.clone',
    run: async (h, cid) =>
      asAdmin(h, cid, 'POST', `/api/v1/credentials/${await newCredential(h)}:clone`, {
        scope: 'host',
        host_id: await newHost(h),
      }),
  },
  'POST /api/v1/hosts/{host_id}/credentials:resolve': {
    action: 'credential.resolve',
    async run(h, cid) {
      const id = await newHost(h);
      await newCredential(h, { scope: 'host', host_id: id });
      return asAdmin(h, cid, 'POST', `/api/v1/hosts/${id}/credentials:resolve`);
    },
  },
  'PUT /api/v1/system/connectivity/config': {
    action: 'system.connectivity_config',
    run: (h, cid) =>
      asAdmin(h, cid, 'PUT', '/api/v1/system/connectivity/config', { concurrency: 4 }),
  },
  'PUT /api/v1/system/intelligence/config': {
    action: 'system.intelligence_config',
    run: (h, cid) =>
      asAdmin(h, cid, 'PUT', '/api/v1/system/intelligence/config', { facts: { storage: false } }),
  },
  'PUT /api/v1/system/compliance/config': {
    action: 'system.compliance_config',
    run: (h, cid) =>
      asAdmin(h, cid, 'PUT', '/api/v1/system/compliance/config', { interval_seconds: 7200 }),
  },
  'PUT /api/v1/system/discovery/config': {
    action: 'system.discovery_config',
    run: (h, cid) => asAdmin(h, cid, 'PUT', '/api/v1/system/discovery/config', { concurrency: 2 }),
  },
  'POST /api/v1/system/discovery/sweep': {
    action: 'system.discovery_sweep',
    run: async (h, cid) =>
      h.inject({
        method: 'POST',
        url: '/api/v1/system/discovery/sweep',
        headers: { ...bearer(await h.login()), 'x-correlation-id': cid, 'idempotency-key': cid },
      }),
  },
  'POST /api/v1/deployments': {
    action: 'config.deploy',
    run: async (h, cid) =>
      h.inject({
        method: 'POST',
        url: '/api/v1/deployments',
        headers: { ...bearer(await h.login()), 'x-correlation-id': cid },
      }),
  },
  'POST /api/v1/host-templates/{name}/api-key': {
    action: 'config.api_key',
    async run(h, cid) {
      await h.vigil.objects.create(systemContext('test'), 'host', {
        object_name: 'keyed-template',
        object_type: 'template',
      });
      return h.inject({
        method: 'POST',
        url: '/api/v1/host-templates/keyed-template/api-key',
        headers: { ...bearer(await h.login()), 'x-correlation-id': cid },
      });
    },
  },
};

/** A unique configuration object name. */
const objectName = () => `audited-${Math.random().toString(36).slice(2, 10)}`;

/**
 * Creates an object of a configuration collection (a service on a fresh host) and returns the
 * path of its item and the body that created it.
 */
async function newConfigObject(h: Harness, collection: string) {
  const name = objectName();
  const ctx = systemContext('test');
  const kind = {
    'host-templates': 'host',
    'service-templates': 'service',
    services: 'service',
    commands: 'command',
    'host-groups': 'hostgroup',
  }[collection] as 'host' | 'service' | 'command' | 'hostgroup';
  const template = collection.endsWith('-templates');
  let host: string | undefined;
  if (collection === 'services') {
    host = objectName();
    await h.vigil.objects.create(ctx, 'host', { object_name: host });
  }
  await h.vigil.objects.create(ctx, kind, {
    object_name: name,
    object_type: template ? 'template' : 'object',
    ...(host ? { host, check_command: await auditCommand(h) } : {}),
  });
  return `/api/v1/${collection}/${name}${host ? `?host=${host}` : ''}`;
}

/** A check command for the services the exercisers make (a deploy needs one for each). */
async function auditCommand(h: Harness): Promise<string> {
  const name = 'audited-command';
  const ctx = systemContext('test');
  const exists = (await h.vigil.objects.list('command')).some((c) => c.object_name === name);
  if (!exists)
    await h.vigil.objects.create(ctx, 'command', { object_name: name, command: 'check_dummy' });
  return name;
}

/** The exercisers of the configuration API's collections. */
function configExercisers(): Record<string, { action: string; run: Exerciser }> {
  const out: Record<string, { action: string; run: Exerciser }> = {};
  for (const collection of [
    'host-templates',
    'service-templates',
    'services',
    'commands',
    'host-groups',
  ]) {
    out[`POST /api/v1/${collection}`] = {
      action: 'config.create',
      async run(h, cid) {
        let host: string | undefined;
        if (collection === 'services') {
          host = objectName();
          await h.vigil.objects.create(systemContext('test'), 'host', { object_name: host });
        }
        return asAdmin(h, cid, 'POST', `/api/v1/${collection}`, {
          object_name: objectName(),
          ...(host ? { host, properties: { check_command: await auditCommand(h) } } : {}),
        });
      },
    };
    const body =
      collection === 'host-groups' ? { properties: { display_name: 'x' } } : { vars: { a: 1 } };
    out[`PATCH /api/v1/${collection}/{name}`] = {
      action: 'config.update',
      run: async (h, cid) => asAdmin(h, cid, 'PATCH', await newConfigObject(h, collection), body),
    };
    out[`PUT /api/v1/${collection}/{name}`] = {
      action: 'config.update',
      run: async (h, cid) =>
        asAdmin(h, cid, 'PUT', await newConfigObject(h, collection), {
          ...body,
          // A service keeps a check command: the deploy exerciser needs every one to have one.
          ...(collection === 'services'
            ? { properties: { check_command: await auditCommand(h) } }
            : {}),
        }),
    };
    out[`DELETE /api/v1/${collection}/{name}`] = {
      action: 'config.delete',
      run: async (h, cid) => asAdmin(h, cid, 'DELETE', await newConfigObject(h, collection)),
    };
  }
  for (const method of ['PATCH', 'PUT'] as const)
    out[`${method} /api/v1/hosts/{id}/config`] = {
      action: 'config.update',
      run: async (h, cid) =>
        asAdmin(h, cid, method, `/api/v1/hosts/${await newHost(h)}/config`, { vars: { a: 1 } }),
    };
  return out;
}
Object.assign(EXERCISERS, configExercisers());

/** Opens an alert on a fresh host and returns its id. */
async function newAlert(h: Harness): Promise<string> {
  const hostId = await newHost(h);
  await h.vigil.alerts.sink.fire({
    ruleId: 'audited-rule',
    hostId,
    labels: {},
    type: 'cpu',
    severity: 'warning',
    message: 'audited',
    value: 90,
    threshold: 80,
    agentId: null,
    at: Date.now(),
  });
  return (await h.vigil.alerts.lifecycle.openAlerts({ hostId }))[0]!.id;
}

/** The exercisers of the alerts API: people's actions, thresholds and silences. */
function alertExercisers(): Record<string, { action: string; run: Exerciser }> {
  const out: Record<string, { action: string; run: Exerciser }> = {};
  for (const action of ['acknowledge', 'resolve', 'dismiss'])
    out[`POST /api/v1/alerts/{id}:${action}`] = {
      action: `alert.${action}`,
      run: async (h, cid) =>
        asAdmin(h, cid, 'POST', `/api/v1/alerts/${await newAlert(h)}:${action}`, {
          reason: 'audit',
        }),
    };
  out['POST /api/v1/alerts/{id}/acknowledge'] = {
    action: 'alert.acknowledge',
    run: async (h, cid) =>
      asAdmin(h, cid, 'POST', `/api/v1/alerts/${await newAlert(h)}/acknowledge`),
  };
  out['POST /api/v1/alerts/{id}:silence'] = {
    action: 'alert.silence',
    run: async (h, cid) =>
      asAdmin(h, cid, 'POST', `/api/v1/alerts/${await newAlert(h)}:silence`, {
        until: new Date(Date.now() + 3_600_000).toISOString(),
      }),
  };
  out['POST /api/v1/alerts/config'] = {
    action: 'alert.config',
    run: (h, cid) => asAdmin(h, cid, 'POST', '/api/v1/alerts/config', { cpu: { warning: 75 } }),
  };
  const silence = () => ({
    matchers: { rule_id: `audited-${Math.random().toString(36).slice(2, 8)}` },
    ends_at: new Date(Date.now() + 3_600_000).toISOString(),
  });
  out['POST /api/v1/alerts/silences'] = {
    action: 'alert_silence.create',
    run: (h, cid) => asAdmin(h, cid, 'POST', '/api/v1/alerts/silences', silence()),
  };
  out['DELETE /api/v1/alerts/silences/{id}'] = {
    action: 'alert_silence.delete',
    async run(h, cid) {
      const res = await asAdmin(h, 'setup', 'POST', '/api/v1/alerts/silences', silence());
      return asAdmin(h, cid, 'DELETE', `/api/v1/alerts/silences/${res.json().id as string}`);
    },
  };
  return out;
}
Object.assign(EXERCISERS, alertExercisers());

/** Creates an alert rule and returns its id. */
async function newRule(h: Harness): Promise<string> {
  const res = await asAdmin(h, 'setup', 'POST', '/api/v1/alerts/rules', {
    name: 'audited',
    metric: 'load1',
    warning: 4,
  });
  return res.json().id as string;
}

/** The exercisers of the alert rules API. */
function ruleExercisers(): Record<string, { action: string; run: Exerciser }> {
  return {
    'POST /api/v1/alerts/rules': {
      action: 'alert_rule.create',
      run: (h, cid) =>
        asAdmin(h, cid, 'POST', '/api/v1/alerts/rules', {
          name: 'audited',
          metric: 'load1',
          warning: 4,
        }),
    },
    'PATCH /api/v1/alerts/rules/{id}': {
      action: 'alert_rule.update',
      run: async (h, cid) =>
        asAdmin(h, cid, 'PATCH', `/api/v1/alerts/rules/${await newRule(h)}`, { warning: 5 }),
    },
    'DELETE /api/v1/alerts/rules/{id}': {
      action: 'alert_rule.delete',
      run: async (h, cid) => asAdmin(h, cid, 'DELETE', `/api/v1/alerts/rules/${await newRule(h)}`),
    },
  };
}
Object.assign(EXERCISERS, ruleExercisers());

/** A fresh user (viewer) and its id, for the user administration exercisers. */
async function freshUser(h: Harness, roles = ['viewer']): Promise<string> {
  const res = await asAdmin(h, 'setup', 'POST', '/api/v1/users', {
    username: `u${Math.random().toString(36).slice(2, 10)}`,
    password: ADMIN_PASSWORD,
    roles,
  });
  return res.json().id as string;
}

/** A fresh custom role's id. */
async function freshRole(h: Harness): Promise<string> {
  const res = await h.inject({
    method: 'POST',
    url: '/api/v1/roles',
    headers: bearer(await h.login()),
    payload: { name: `r${Math.random().toString(36).slice(2, 10)}`, permissions: ['host:read'] },
  });
  return res.json().id as string;
}

/** A host body with a fresh name; its address refuses connections (nothing listens on port 1). */
const hostBody = () => ({
  hostname: `h-${Math.random().toString(36).slice(2, 10)}`,
  ip_address: '127.0.0.1',
  port: 1,
});
/** Creates a host as admin and returns its id. */
async function newHost(h: Harness): Promise<string> {
  const res = await asAdmin(h, 'setup', 'POST', '/api/v1/hosts', hostBody());
  if (res.statusCode !== 201) throw new Error(`creating a host: ${res.body}`);
  return (res.json() as { id: string }).id;
}
const credentialBody = (extra: object = {}) => ({
  name: 'c',
  scope: 'system',
  username: 'u',
  auth_method: 'password',
  password: 'audited-secret',
  ...extra,
});
/** Creates a password credential as admin and returns its id. */
async function newCredential(h: Harness, extra: object = {}): Promise<string> {
  const res = await asAdmin(h, 'setup', 'POST', '/api/v1/credentials', credentialBody(extra));
  if (res.statusCode !== 201) throw new Error(`creating a credential: ${res.body}`);
  return (res.json() as { id: string }).id;
}

/** A webhook channel body; nothing listens on port 1, so a test message fails fast. */
const channelBody = () => ({
  name: 'audited',
  type: 'webhook',
  settings: { url: 'http://127.0.0.1:1/hook', secret: 'audited-secret' },
});
/** Creates a notification channel as admin and returns its id. */
async function newChannel(h: Harness): Promise<string> {
  const res = await asAdmin(h, 'setup', 'POST', '/api/v1/notifications/channels', channelBody());
  if (res.statusCode !== 201) throw new Error(`creating a channel: ${res.body}`);
  return (res.json() as { id: string }).id;
}

/** As admin, with the correlation id. */
const asAdmin = async (
  h: Harness,
  cid: string,
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  payload?: object,
) =>
  h.inject({
    method,
    url,
    headers: { ...bearer(await h.login()), 'x-correlation-id': cid },
    ...(payload ? { payload } : {}),
  });

const USER_EXERCISERS: Record<string, { action: string; run: Exerciser }> = {
  'POST /api/v1/users': {
    action: 'user.create',
    run: (h, cid) =>
      asAdmin(h, cid, 'POST', '/api/v1/users', {
        username: `c${Math.random().toString(36).slice(2, 10)}`,
        password: ADMIN_PASSWORD,
      }),
  },
  'PATCH /api/v1/users/{id}': {
    action: 'user.update',
    run: async (h, cid) =>
      asAdmin(h, cid, 'PATCH', `/api/v1/users/${await freshUser(h)}`, { email: 'a@b.c' }),
  },
  'PUT /api/v1/users/{id}': {
    action: 'user.update',
    run: async (h, cid) =>
      asAdmin(h, cid, 'PUT', `/api/v1/users/${await freshUser(h)}`, { roles: ['operator'] }),
  },
  'DELETE /api/v1/users/{id}': {
    action: 'user.disable',
    run: async (h, cid) => asAdmin(h, cid, 'DELETE', `/api/v1/users/${await freshUser(h)}`),
  },
  'POST /api/v1/users/{id}:disable': {
    action: 'user.disable',
    run: async (h, cid) => asAdmin(h, cid, 'POST', `/api/v1/users/${await freshUser(h)}:disable`),
  },
  'POST /api/v1/users/{id}:enable': {
    action: 'user.enable',
    async run(h, cid) {
      const id = await freshUser(h);
      await asAdmin(h, 'setup', 'POST', `/api/v1/users/${id}:disable`);
      return asAdmin(h, cid, 'POST', `/api/v1/users/${id}:enable`);
    },
  },
  'POST /api/v1/jobs/{id}:retry': {
    action: 'job.retry',
    async run(h, cid) {
      // A dead job of a kind no handler takes, as a failed delivery would leave it.
      const id = `audited-${Math.random().toString(36).slice(2)}`;
      const t = Date.now();
      await h.vigil.db.kysely
        .insertInto('jobs')
        .values({
          id,
          kind: 'test.nobody',
          payload: '{}',
          state: 'dead',
          attempts: 1,
          max_attempts: 1,
          run_at: t,
          last_error: 'failed',
          created_at: t,
          updated_at: t,
          finished_at: t,
        })
        .execute();
      return asAdmin(h, cid, 'POST', `/api/v1/jobs/${id}:retry`);
    },
  },
  'PUT /api/v1/users/{id}/password': {
    action: 'user.password_reset',
    run: async (h, cid) =>
      asAdmin(h, cid, 'PUT', `/api/v1/users/${await freshUser(h)}/password`, {
        new_password: 'a temporary passphrase',
      }),
  },
  'POST /api/v1/users/{id}:reset-password': {
    action: 'user.password_reset',
    run: async (h, cid) =>
      asAdmin(h, cid, 'POST', `/api/v1/users/${await freshUser(h)}:reset-password`),
  },
  'POST /api/v1/users/{id}/roles:assign': {
    action: 'user.role_assign',
    run: async (h, cid) =>
      asAdmin(h, cid, 'POST', `/api/v1/users/${await freshUser(h)}/roles:assign`, {
        role_id: 'operator',
      }),
  },
  'POST /api/v1/users/{id}/roles:unassign': {
    action: 'user.role_unassign',
    run: async (h, cid) =>
      asAdmin(h, cid, 'POST', `/api/v1/users/${await freshUser(h)}/roles:unassign`, {
        role_id: 'viewer',
      }),
  },
  'POST /api/v1/roles': {
    action: 'role.create',
    run: (h, cid) =>
      asAdmin(h, cid, 'POST', '/api/v1/roles', { name: 'audited-a', permissions: ['host:read'] }),
  },
  'POST /api/v1/roles:create': {
    action: 'role.create',
    run: (h, cid) =>
      asAdmin(h, cid, 'POST', '/api/v1/roles:create', {
        name: 'audited-b',
        permissions: ['agents:*'],
      }),
  },
  'PUT /api/v1/roles/{id}': {
    action: 'role.update',
    run: async (h, cid) =>
      asAdmin(h, cid, 'PUT', `/api/v1/roles/${await freshRole(h)}`, { description: 'changed' }),
  },
  'DELETE /api/v1/roles/{id}': {
    action: 'role.delete',
    run: async (h, cid) => asAdmin(h, cid, 'DELETE', `/api/v1/roles/${await freshRole(h)}`),
  },
  'PUT /api/v1/auth/me': {
    action: 'user.update',
    run: (h, cid) => asAdmin(h, cid, 'PUT', '/api/v1/auth/me', { email: 'admin@example.com' }),
  },
  'PUT /api/v1/auth/me/password': {
    action: 'auth.password_change',
    async run(h, cid) {
      const res = await asAdmin(h, cid, 'PUT', '/api/v1/auth/me/password', {
        current_password: ADMIN_PASSWORD,
        new_password: 'an interim admin passphrase',
      });
      await restoreAdminPassword(h, 'an interim admin passphrase');
      return res;
    },
  },
  'POST /api/v1/auth/password:change': {
    action: 'auth.password_change',
    async run(h, cid) {
      const res = await asAdmin(h, cid, 'POST', '/api/v1/auth/password:change', {
        current_password: ADMIN_PASSWORD,
        new_password: 'an interim admin passphrase',
      });
      await restoreAdminPassword(h, 'an interim admin passphrase');
      return res;
    },
  },
  'POST /api/v1/auth/mfa:enroll': {
    action: 'auth.mfa_enroll',
    async run(h, cid) {
      const token = await h.login();
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa:enroll',
        headers: { ...bearer(token), 'x-correlation-id': cid },
      });
      return res;
    },
  },
  'POST /api/v1/auth/mfa:verify': {
    action: 'auth.mfa_enable',
    async run(h, cid) {
      // One token throughout: once MFA is on, a login would need a code.
      const token = await h.login();
      const enroll = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa:enroll',
        headers: bearer(token),
      });
      const totp = OTPAuth.URI.parse(enroll.json().provisioning_uri as string) as OTPAuth.TOTP;
      const res = await h.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa:verify',
        headers: { ...bearer(token), 'x-correlation-id': cid },
        payload: { otp: totp.generate() },
      });
      const me = await h.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) });
      await h.inject({
        method: 'POST',
        url: `/api/v1/users/${me.json().id}:reset-mfa`,
        headers: bearer(token),
      });
      return res;
    },
  },
  'POST /api/v1/users/{id}:reset-mfa': {
    action: 'user.mfa_reset',
    run: async (h, cid) => asAdmin(h, cid, 'POST', `/api/v1/users/${await freshUser(h)}:reset-mfa`),
  },
  'POST /api/v1/oauth/clients': {
    action: 'oauth.client_create',
    run: (h, cid) =>
      asAdmin(h, cid, 'POST', '/api/v1/oauth/clients', {
        client_id: `c-${Math.random().toString(36).slice(2, 10)}`,
      }),
  },
  'PATCH /api/v1/oauth/clients/{id}': {
    action: 'oauth.client_update',
    run: async (h, cid) =>
      asAdmin(h, cid, 'PATCH', `/api/v1/oauth/clients/${(await freshClient(h)).id}`, {
        description: 'changed',
      }),
  },
  'DELETE /api/v1/oauth/clients/{id}': {
    action: 'oauth.client_delete',
    run: async (h, cid) =>
      asAdmin(h, cid, 'DELETE', `/api/v1/oauth/clients/${(await freshClient(h)).id}`),
  },
  'POST /oauth/token': {
    action: 'oauth.token',
    run: async (h, cid) => oauthToken(h, await freshClient(h), cid),
  },
  'POST /oauth/revoke': {
    action: 'oauth.revoke',
    async run(h, cid) {
      const c = await freshClient(h);
      const t = (await oauthToken(h, c, 'setup')).json();
      return h.inject({
        method: 'POST',
        url: '/oauth/revoke',
        headers: {
          authorization: basicOf(c),
          'content-type': 'application/x-www-form-urlencoded',
          'x-correlation-id': cid,
        },
        payload: `token=${t.access_token}`,
      });
    },
  },
};

/** A fresh OAuth API client (id, client_id and secret). */
async function freshClient(h: Harness) {
  const res = await asAdmin(h, 'setup', 'POST', '/api/v1/oauth/clients', {
    client_id: `c-${Math.random().toString(36).slice(2, 10)}`,
  });
  return res.json() as { id: string; client_id: string; client_secret: string };
}
const basicOf = (c: { client_id: string; client_secret: string }) =>
  `Basic ${Buffer.from(`${c.client_id}:${c.client_secret}`).toString('base64')}`;

/** The admin's password grant through a client. */
const oauthToken = (h: Harness, c: { client_id: string; client_secret: string }, cid: string) =>
  h.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: {
      authorization: basicOf(c),
      'content-type': 'application/x-www-form-urlencoded',
      'x-correlation-id': cid,
    },
    payload: `grant_type=password&username=admin&password=${encodeURIComponent(ADMIN_PASSWORD)}`,
  });

/** Puts the admin password back after an exerciser changed it. */
async function restoreAdminPassword(h: Harness, current: string): Promise<void> {
  const token = await h.login('admin', current);
  const res = await h.inject({
    method: 'PUT',
    url: '/api/v1/auth/me/password',
    headers: bearer(token),
    payload: { current_password: current, new_password: ADMIN_PASSWORD },
  });
  if (res.statusCode !== 204) throw new Error(`restoring the admin password: ${res.body}`);
}

/**
 * Operations anonymous callers use that are off by default: self-registration (its audit event
 * names the new user; users.test.ts covers it with registration on).
 */
const OFF_BY_DEFAULT = new Set(['POST /api/v1/auth/register']);

/** Reads that take a body, so they are POSTs: they change nothing and write no event. */
const READS = new Set([
  'POST /api/v1/config/preview',
  'POST /api/v1/alerts/rules:preview',
  // A dry run: nothing is installed (Vigil has no license to install).
  'POST /api/v1/admin/license:verify',
]);

/** Registers an openITCOCKPIT agent (pending), then approves or rejects it as admin. */
async function pendingThen(h: Harness, cid: string, verb: 'approve' | 'reject') {
  const agentuuid = `1b2c3d4e-0000-4000-8000-${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}`;
  await h.inject({
    method: 'POST',
    url: '/agentconnector/register_agent.json',
    payload: { agentuuid, password: '' },
  });
  return h.inject({
    method: 'POST',
    url: `/api/v1/agents/pending/${agentuuid}/${verb}`,
    headers: { ...bearer(await h.login()), 'x-correlation-id': cid },
  });
}

/**
 * Operations an agent calls, not a user: enrollment (audited with the agent as actor, see
 * agents.test.ts) and the mutual-TLS channel (pushes are telemetry; renewals are audited and
 * tested end to end, as they need a real TLS connection).
 */
const AGENT_CHANNEL = new Set([
  'POST /api/v1/agents/enroll',
  'POST /api/v1/agents/enroll/poll',
  'POST /api/v1/agents/{id}/checkdata',
  'POST /api/v1/agents/{id}/packages',
  'POST /api/v1/agents/{id}/logs',
  'POST /api/v1/agents/{id}/certificate',
  'POST /api/v1/agents/{id}/commands/{command}/result',
]);

for (const kind of await databaseKinds()) {
  describe(`audit log on ${kind.name}`, () => {
    let h: Harness;
    let admin: string;
    const list = async (query: string, token = admin) =>
      h.inject({ method: 'GET', url: `/api/v1/audit/events${query}`, headers: bearer(token) });

    before(async () => {
      h = await startHarness(kind);
      admin = await h.login();
    });
    after(() => h.close());

    test('every mutating operation writes exactly one event with the request correlation id', async () => {
      const doc = (await h.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as Doc;
      const mutating = operations(doc).filter(
        (o) =>
          o.method !== 'GET' &&
          !AGENT_CHANNEL.has(`${o.method} ${o.path}`) &&
          !OFF_BY_DEFAULT.has(`${o.method} ${o.path}`) &&
          !READS.has(`${o.method} ${o.path}`),
      );
      assert.ok(mutating.length >= 3);
      for (const o of mutating) {
        const key = `${o.method} ${o.path}`;
        const ex = EXERCISERS[key] ?? USER_EXERCISERS[key];
        assert.ok(ex, `no audit exerciser for ${key}: add one`);
        const cid = `audit-${o.method}-${o.path}`;
        const res = await ex.run(h, cid);
        assert.ok(res.statusCode < 300, `${key} succeeded: ${res.statusCode} ${res.body}`);
        admin = await h.login(); // A password change ends the admin's other sessions.
        const page = (await list(`?correlation_id=${encodeURIComponent(cid)}`)).json();
        assert.equal(page.items.length, 1, `${key} wrote ${page.items.length} events`);
        const [ev] = page.items;
        assert.equal(ev.action, ex.action);
        assert.equal(ev.correlation_id, cid);
        assert.equal(ev.actor_type, 'user');
        assert.equal(ev.actor_label, 'admin');
        assert.ok(ev.source_address);
      }
    });

    test('the first admin was created by the system, without secrets in the event', async () => {
      const page = (await list('?action=user.create&actor_type=system')).json();
      assert.equal(page.items.length, 1);
      const [ev] = page.items;
      assert.equal(ev.resource_type, 'user');
      assert.equal(ev.detail.username, 'admin');
      assert.ok(!JSON.stringify(ev).includes(ADMIN_PASSWORD));
    });

    test('a failed login is recorded, without the password tried', async () => {
      await h.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'x-correlation-id': 'failed-login' },
        payload: { username: 'admin', password: 'guessing-wrongly-1' },
      });
      const page = (await list('?correlation_id=failed-login')).json();
      assert.equal(page.items.length, 1);
      assert.equal(page.items[0].action, 'auth.login_failed');
      assert.ok(!JSON.stringify(page).includes('guessing-wrongly-1'));
    });

    test('pages newest first through an opaque cursor, without gaps or repeats', async () => {
      for (let i = 0; i < 5; i++) await h.login();
      const all = (await list('?limit=200')).json().items as { id: string; occurred_at: string }[];
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await list(`?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.equal(res.statusCode, 200);
        const page = res.json();
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((e: { id: string }) => e.id));
        cursor = page.next_cursor;
      } while (cursor);
      // The log may hold more events than one page of 200: the pages begin with that page.
      assert.equal(new Set(seen).size, seen.length);
      assert.deepEqual(
        seen.slice(0, all.length),
        all.map((e) => e.id),
      );
      const times = all.map((e) => Date.parse(e.occurred_at));
      assert.deepEqual(
        times,
        [...times].sort((a, b) => b - a),
      );
    });

    test('a tampered or foreign cursor is 400 pagination.cursor_invalid', async () => {
      const page = (await list('?limit=1')).json();
      assert.ok(page.next_cursor);
      const [body, mac] = page.next_cursor.split('.');
      const forged = Buffer.from(JSON.stringify([Date.now() + 1e9, 'ffff'])).toString('base64url');
      for (const c of [
        `${forged}.${mac}`,
        // One character of the tag changed (to a different one: the tag may end in 'A').
        `${body}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`,
        'not-a-cursor',
        `${body}`,
      ]) {
        const res = await list(`?cursor=${encodeURIComponent(c)}`);
        assert.equal(res.statusCode, 400, c);
        assert.equal(res.json().error.code, 'pagination.cursor_invalid');
      }
    });

    test('filters: action, actor type, resource, time range', async () => {
      const logins = (await list('?action=auth.login')).json().items;
      assert.ok(
        logins.length > 0 && logins.every((e: { action: string }) => e.action === 'auth.login'),
      );
      const sys = (await list('?actor_type=system')).json().items;
      assert.ok(sys.every((e: { actor_type: string }) => e.actor_type === 'system'));
      const users = (await list('?resource_type=user')).json().items;
      assert.ok(
        users.length > 0 &&
          users.every((e: { resource_type: string }) => e.resource_type === 'user'),
      );
      const one = users[0];
      const byId = (await list(`?resource_id=${one.resource_id}`)).json().items;
      assert.ok(byId.every((e: { resource_id: string }) => e.resource_id === one.resource_id));
      const future = (
        await list(`?since=${encodeURIComponent(new Date(Date.now() + 3600e3).toISOString())}`)
      ).json();
      assert.deepEqual(future.items, []);
      const past = (await list(`?until=2000-01-01T00:00:00Z`)).json();
      assert.deepEqual(past.items, []);
    });

    test('bad queries are 400', async () => {
      for (const q of [
        '?limit=0',
        '?limit=201',
        '?limit=abc',
        '?since=yesterday',
        '?actor_type=robot',
        '?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z',
        '?bogus=1',
      ]) {
        const res = await list(q);
        assert.equal(res.statusCode, 400, q);
        assert.equal(res.json().error.fault, 'client');
      }
    });
  });
}

test('redact removes secret-looking keys at any depth and lists them', () => {
  const { clean, redactions } = redact({
    username: 'u',
    password: 'p',
    nested: { client_secret: 's', ok: 1, list: [{ token: 't', keep: true }] },
  });
  assert.deepEqual(clean, { username: 'u', nested: { ok: 1, list: [{ keep: true }] } });
  assert.deepEqual(redactions.sort(), ['nested.client_secret', 'nested.list[0].token', 'password']);
});
