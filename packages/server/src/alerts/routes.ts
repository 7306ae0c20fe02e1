import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from '@vigil/protocol';
import { contextOf } from '../http/context.js';
import type { App } from '../http/server.js';
import type { AlertAction, AlertLifecycle } from './lifecycle.js';
import type { ThresholdService } from './thresholds.js';

/** The path parameter of an alert id: anything but `:` and `/`, so `{id}:acknowledge` splits. */
const ID = '(^[^:/]+)';
const Time = Type.String({ format: 'date-time' });
const NTime = Type.Union([Time, Type.Null()]);
const NNumber = Type.Union([Type.Number(), Type.Null()]);
const NString = Type.Union([Type.String(), Type.Null()]);
const SeverityT = StringEnum(['info', 'warning', 'critical']);
const StateT = StringEnum(['active', 'acknowledged', 'silenced', 'resolved', 'dismissed']);

/** An alert: Tyto's fields and Vigil's. */
export const AlertItemSchema = Type.Object(
  {
    id: Type.String(),
    type: Type.String({
      description: 'The rule kind or metric family (cpu, memory, disk, check …).',
    }),
    level: SeverityT,
    message: Type.String(),
    value: NNumber,
    threshold: NNumber,
    agent_id: NString,
    acknowledged: Type.Boolean(),
    created_at: Time,
    host_id: Type.String(),
    host_name: NString,
    rule_id: Type.String(),
    rule_name: NString,
    severity: SeverityT,
    state: StateT,
    labels: Type.Record(Type.String(), Type.String()),
    dedup_key: Type.String(),
    started_at: Time,
    resolved_at: Type.Union([Time, Type.Null()], {
      description: 'When it was resolved or dismissed.',
    }),
    silenced_until: NTime,
    suppressed: Type.Boolean({
      description:
        'Recorded while its host was in maintenance or a silence matched: notifies no one.',
    }),
    updated_at: Time,
  },
  { title: 'AlertItem' },
);

/** One recorded step of an alert's life. */
export const AlertTransitionSchema = Type.Object(
  {
    id: Type.String(),
    alert_id: Type.String(),
    from: Type.Union([StateT, Type.Null()]),
    to: StateT,
    severity: SeverityT,
    actor: Type.Object({
      type: StringEnum(['user', 'client', 'system']),
      id: NString,
      label: NString,
    }),
    reason: NString,
    at: Time,
  },
  { title: 'AlertTransition' },
);

const Pair = Type.Object({ warning: Type.Number(), critical: Type.Number() });
/** Tyto's global thresholds. */
export const ThresholdsSchema = Type.Object(
  { cpu: Pair, memory: Pair, disk: Pair },
  { title: 'AlertThresholds' },
);
const PairChange = Type.Object(
  { warning: Type.Optional(Type.Number()), critical: Type.Optional(Type.Number()) },
  { additionalProperties: false },
);

const AlertList = Type.Object(
  {
    alerts: Type.Array(AlertItemSchema, { description: "Tyto's name of the list." }),
    items: Type.Array(AlertItemSchema, { description: 'The same list, by its OpenWatch name.' }),
    next_cursor: NString,
    config: ThresholdsSchema,
  },
  { title: 'AlertList' },
);

const AlertDetail = Type.Composite(
  [AlertItemSchema, Type.Object({ transitions: Type.Array(AlertTransitionSchema) })],
  { title: 'AlertDetail' },
);

const Reason = Type.Optional(Type.String({ maxLength: 1000 }));
const ReasonBody = Type.Object(
  { reason: Reason },
  { additionalProperties: false, description: 'May be left out: no body is `{}`.' },
);

/** A request without a body is taken as `{}`: the reason is optional, and so is the body. */
const emptyBody = {
  preValidation: async (request: { body: unknown }) => {
    if (request.body === undefined || request.body === null) request.body = {};
  },
};

/** The alert list, one alert with its history, people's actions and Tyto's thresholds. */
export function alertRoutes(
  app: App,
  deps: { lifecycle: AlertLifecycle; thresholds: ThresholdService },
): void {
  const tags = ['alerts'];
  const { lifecycle, thresholds } = deps;
  const read = { config: { access: 'alerts:read' } };
  const write = { config: { access: 'alerts:write' } };
  const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

  app.get(
    '/api/v1/alerts',
    {
      ...read,
      schema: {
        tags,
        summary:
          'Alerts, newest first (by started_at): `state` a comma list of states or `all` (default: the open states), `severity` a comma list, `host_id`, `since`/`until` ISO times on started_at, `limit` 1 to 1000 (default 100); follow next_cursor. `alerts` and `items` are the same list; `config` is the global thresholds.',
        querystring: Type.Object({
          state: Type.Optional(Type.String()),
          severity: Type.Optional(Type.String()),
          host_id: Type.Optional(Type.String()),
          since: Type.Optional(Type.String()),
          until: Type.Optional(Type.String()),
          cursor: Type.Optional(Type.String()),
          limit: Type.Optional(Type.String()),
        }),
        response: { 200: AlertList },
      },
    },
    async (request, reply) => {
      const [page, config] = await Promise.all([lifecycle.list(request.query), thresholds.get()]);
      // The list goes out twice (Tyto's `alerts`, OpenWatch's `items`): written and encoded
      // once, as bytes. The items are rendered with exactly the schema's fields, so the text is
      // what the schema would give.
      const list = Buffer.from(JSON.stringify(page.items));
      const body = Buffer.concat([
        Buffer.from('{"alerts":'),
        list,
        Buffer.from(',"items":'),
        list,
        Buffer.from(
          `,"next_cursor":${JSON.stringify(page.next_cursor)},"config":${JSON.stringify(config)}}`,
        ),
      ]);
      return reply
        .type('application/json; charset=utf-8')
        .send(body as unknown as Static<typeof AlertList>);
    },
  );

  app.post(
    '/api/v1/alerts/config',
    {
      ...write,
      schema: {
        tags,
        summary:
          "Change Tyto's global thresholds (percent 0 to 100, warning at most critical); families and levels not given keep their values.",
        body: Type.Object(
          {
            cpu: Type.Optional(PairChange),
            memory: Type.Optional(PairChange),
            disk: Type.Optional(PairChange),
          },
          { additionalProperties: false },
        ),
        response: { 200: ThresholdsSchema },
      },
    },
    async (request) => thresholds.set(contextOf(request), request.body),
  );

  app.get(
    `/api/v1/alerts/:id${ID}`,
    {
      ...read,
      schema: {
        tags,
        summary: 'One alert with its transitions, oldest first.',
        params: Params,
        response: { 200: AlertDetail },
      },
    },
    async (request) => {
      const { alert, transitions } = await lifecycle.get(request.params.id);
      return { ...alert, transitions };
    },
  );

  const actions: { action: AlertAction; summary: string }[] = [
    { action: 'acknowledge', summary: 'Acknowledge an active or silenced alert.' },
    { action: 'resolve', summary: 'Resolve an open alert by hand.' },
    { action: 'dismiss', summary: 'Dismiss an open alert.' },
  ];
  for (const { action, summary } of actions)
    app.post(
      `/api/v1/alerts/:id${ID}::${action}`,
      {
        ...write,
        ...emptyBody,
        schema: {
          tags,
          summary: `${summary} Answers the alert after the change; from another state 409 \`transition.invalid\`.`,
          params: Params,
          body: ReasonBody,
          response: { 200: AlertItemSchema },
        },
      },
      async (request) => lifecycle.act(contextOf(request), request.params.id, action, request.body),
    );

  app.post(
    `/api/v1/alerts/:id${ID}::silence`,
    {
      ...write,
      schema: {
        tags,
        summary:
          'Silence an active or acknowledged alert until a time (in the future, at most a year ahead); it goes back when that passes. Answers the alert; from another state 409 `transition.invalid`.',
        params: Params,
        body: Type.Object(
          { reason: Reason, until: Type.String({ description: 'ISO 8601 date-time.' }) },
          { additionalProperties: false },
        ),
        response: { 200: AlertItemSchema },
      },
    },
    async (request) =>
      lifecycle.act(contextOf(request), request.params.id, 'silence', request.body),
  );

  // Tyto's spelling of acknowledge.
  app.post(
    `/api/v1/alerts/:id${ID}/acknowledge`,
    {
      ...write,
      ...emptyBody,
      schema: {
        tags,
        summary: "Acknowledge an alert (Tyto's path; the same as `{id}:acknowledge`).",
        params: Params,
        body: ReasonBody,
        response: { 200: AlertItemSchema },
      },
    },
    async (request) =>
      lifecycle.act(contextOf(request), request.params.id, 'acknowledge', request.body),
  );
}
