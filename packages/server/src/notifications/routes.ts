import { Type, type TSchema } from '@sinclair/typebox';
import { StringEnum } from '@vigil/protocol';
import { VigilError } from '../errors.js';
import { contextOf } from '../http/context.js';
import type { App } from '../http/server.js';
import type { ChannelService } from './channels.js';
import type { Dispatcher } from './dispatch.js';
import { CHANNEL_TYPES } from './model.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Id = Type.String({ minLength: 1, maxLength: 128 });
/** A path id: no colon, so that `{id}:test` reaches its route. */
const ID = '(^[^:/]+)';
const Names = Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 256 });

const Filters = Type.Object(
  {
    severities: Type.Optional(Type.Array(StringEnum(['info', 'warning', 'critical']))),
    host_tags: Type.Optional(Names),
    environments: Type.Optional(Names),
    rule_ids: Type.Optional(Names),
  },
  {
    additionalProperties: false,
    title: 'NotificationFilters',
    description: 'Routing: an alert reaches the channel when every filter given matches.',
  },
);

const Str = (max = 2048) => Type.Optional(Nullable(Type.String({ maxLength: max })));
const SettingsIn = Type.Object(
  {
    url: Str(),
    headers: Type.Optional(Nullable(Type.Record(Type.String(), Type.String({ maxLength: 4096 })))),
    secret: Str(1024),
    host: Str(255),
    port: Type.Optional(Nullable(Type.Integer())),
    tls: Type.Optional(StringEnum(['starttls', 'tls', 'none'])),
    from: Str(320),
    to: Type.Optional(Type.Array(Type.String({ maxLength: 320 }), { maxItems: 100 })),
    username: Str(320),
    password: Str(1024),
    topic: Str(64),
    priority: Type.Optional(Nullable(Type.Integer())),
    token: Str(1024),
    receiver: Str(256),
  },
  {
    additionalProperties: false,
    title: 'NotificationSettingsInput',
    description:
      'Per type. webhook: url, secret (HMAC key), headers. email: host, port, tls (starttls|tls|none), from, to[], username, password. slack: url. ntfy: url, topic, priority (1-5), token. alertmanager: url, receiver, headers. Secrets (secret, password, token, the Slack url, headers) are sealed and never answered; on a change a secret left out is kept and one given null is removed.',
  },
);
const SettingsOut = Type.Record(Type.String(), Type.Unknown(), {
  title: 'NotificationSettings',
  description: 'The public settings, and `has_<secret>` (boolean) for each secret of the type.',
});

const Channel = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    type: StringEnum([...CHANNEL_TYPES]),
    enabled: Type.Boolean(),
    settings: SettingsOut,
    filters: Filters,
    group_wait_seconds: Type.Integer(),
    repeat_interval_seconds: Type.Integer(),
    rate_limit_per_hour: Type.Integer(),
    send_resolved: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { title: 'NotificationChannel' },
);

const Fields = {
  name: Type.String({ minLength: 1, maxLength: 128 }),
  enabled: Type.Boolean(),
  filters: Filters,
  group_wait_seconds: Type.Integer({ minimum: 0, maximum: 3600 }),
  repeat_interval_seconds: Type.Integer({ minimum: 0, maximum: 30 * 86_400 }),
  rate_limit_per_hour: Type.Integer({ minimum: 1, maximum: 10_000 }),
  send_resolved: Type.Boolean(),
};

const TestResult = Type.Object(
  {
    delivered: Type.Boolean(),
    status: Type.Optional(Type.Integer()),
    error: Type.Optional(Type.String()),
    duration_ms: Type.Integer(),
  },
  { title: 'NotificationTestResult' },
);

const Delivery = Type.Object(
  {
    id: Type.String(),
    alert_id: Type.String(),
    channel_id: Type.String(),
    message_id: Nullable(Type.String()),
    event: Type.String(),
    outcome: StringEnum(['delivered', 'failed', 'folded']),
    status: Nullable(Type.Integer()),
    error: Nullable(Type.String()),
    duration_ms: Nullable(Type.Integer()),
    at: Type.String({ format: 'date-time' }),
  },
  { title: 'NotificationDelivery' },
);

/** Notification channels, their test, and an alert's delivery log. */
export function notificationRoutes(
  app: App,
  deps: {
    channels: ChannelService;
    dispatcher: Pick<Dispatcher, 'deliveries'>;
    /** Whether an alert exists (its delivery log is 404 otherwise). */
    alertExists: (id: string) => Promise<boolean>;
  },
): void {
  const tags = ['notifications'];
  const { channels } = deps;
  const base = '/api/v1/notifications/channels';

  app.get(
    base,
    {
      config: { access: 'notifications:read' },
      schema: {
        tags,
        summary: 'Every notification channel, oldest first. Never a secret.',
        response: { 200: Type.Object({ items: Type.Array(Channel), total: Type.Integer() }) },
      },
    },
    async () => channels.list(),
  );

  app.post(
    base,
    {
      config: { access: 'notifications:write' },
      schema: {
        tags,
        summary:
          'Create a channel. Bad settings are 400 naming the field (`settings.url: must be http(s)`). Defaults: group_wait_seconds 30, repeat_interval_seconds 14400 (0: no reminders), rate_limit_per_hour 30, send_resolved true.',
        body: Type.Object(
          {
            name: Fields.name,
            type: StringEnum([...CHANNEL_TYPES]),
            enabled: Type.Optional(Fields.enabled),
            settings: SettingsIn,
            filters: Type.Optional(Fields.filters),
            group_wait_seconds: Type.Optional(Fields.group_wait_seconds),
            repeat_interval_seconds: Type.Optional(Fields.repeat_interval_seconds),
            rate_limit_per_hour: Type.Optional(Fields.rate_limit_per_hour),
            send_resolved: Type.Optional(Fields.send_resolved),
          },
          { additionalProperties: false },
        ),
        response: { 201: Channel },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(
          await channels.create(
            contextOf(request),
            request.body as Parameters<ChannelService['create']>[1],
          ),
        ),
  );

  app.get(
    `${base}/:id${ID}`,
    {
      config: { access: 'notifications:read' },
      schema: {
        tags,
        summary: 'One channel. Never a secret.',
        params: Type.Object({ id: Id }),
        response: { 200: Channel },
      },
    },
    async (request) => channels.get(request.params.id),
  );

  app.patch(
    `${base}/:id${ID}`,
    {
      config: { access: 'notifications:write' },
      schema: {
        tags,
        summary:
          'Change a channel; its type stays. `settings` given replaces the public settings; a secret left out is kept, one given null is removed.',
        params: Type.Object({ id: Id }),
        body: Type.Object(
          {
            name: Type.Optional(Fields.name),
            type: Type.Optional(StringEnum([...CHANNEL_TYPES])),
            enabled: Type.Optional(Fields.enabled),
            settings: Type.Optional(SettingsIn),
            filters: Type.Optional(Fields.filters),
            group_wait_seconds: Type.Optional(Fields.group_wait_seconds),
            repeat_interval_seconds: Type.Optional(Fields.repeat_interval_seconds),
            rate_limit_per_hour: Type.Optional(Fields.rate_limit_per_hour),
            send_resolved: Type.Optional(Fields.send_resolved),
          },
          { additionalProperties: false },
        ),
        response: { 200: Channel },
      },
    },
    async (request) =>
      channels.update(
        contextOf(request),
        request.params.id,
        request.body as Parameters<ChannelService['update']>[2],
      ),
  );

  app.delete(
    `${base}/:id${ID}`,
    {
      config: { access: 'notifications:write' },
      schema: {
        tags,
        summary: 'Delete a channel and the notifications waiting for it.',
        params: Type.Object({ id: Id }),
        response: { 204: { type: 'null' } },
      },
    },
    async (request, reply) => {
      await channels.remove(contextOf(request), request.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    `${base}/:id${ID}::test`,
    {
      config: { access: 'notifications:write' },
      schema: {
        tags,
        summary:
          'Send one test message on the channel now and tell how it went: `delivered`, the receiver status, the error, the time taken.',
        params: Type.Object({ id: Id }),
        response: { 200: TestResult },
      },
    },
    async (request) => channels.test(contextOf(request), request.params.id),
  );

  app.get(
    '/api/v1/alerts/:id/notifications',
    {
      config: { access: 'alerts:read' },
      schema: {
        tags: ['alerts'],
        summary:
          "An alert's delivery log, oldest first: each attempt per channel (`delivered`, `failed` and retried, or `folded` into the hourly summary by the rate limit).",
        params: Type.Object({ id: Id }),
        response: { 200: Type.Object({ items: Type.Array(Delivery) }) },
      },
    },
    async (request) => {
      const { id } = request.params;
      if (!(await deps.alertExists(id)))
        throw new VigilError('not_found', `no alert ${id}`, { code: 'alert.not_found' });
      return { items: await deps.dispatcher.deliveries(id) };
    },
  );
}
