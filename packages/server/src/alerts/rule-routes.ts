import { Type, type TSchema } from '@sinclair/typebox';
import { StringEnum } from '@vigil/protocol';
import { contextOf } from '../http/context.js';
import type { App } from '../http/server.js';
import { COMPARATORS, RULE_KINDS, type RuleInput } from './rules.js';
import type { RuleService } from './rules-service.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Id = Type.String({ minLength: 1, maxLength: 128 });
/** A path id: no colon, so that `rules:preview` reaches its own route. */
const ID = '(^[^:/]+)';

const Matcher = Type.Union(
  [
    Type.String({ description: 'Equality.' }),
    Type.Object(
      {
        op: StringEnum(['=', '!=', '=~', '!~']),
        value: Type.String({ description: 'A value, or an anchored regex for =~ and !~.' }),
      },
      { additionalProperties: false },
    ),
  ],
  { title: 'LabelMatcher' },
);
const Scope = Type.Object(
  {
    host_ids: Type.Optional(Type.Array(Type.String())),
    tags: Type.Optional(Type.Array(Type.String())),
    environments: Type.Optional(Type.Array(Type.String())),
    templates: Type.Optional(Type.Array(Type.String())),
  },
  {
    title: 'AlertRuleScope',
    description: 'Which hosts the rule applies to: every non-empty list must name the host.',
  },
);

const Fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Nullable(Type.String({ maxLength: 4096 })),
  enabled: Type.Boolean(),
  kind: StringEnum([...RULE_KINDS]),
  metric: Nullable(
    Type.String({ maxLength: 200, description: 'A series metric (threshold rules only).' }),
  ),
  matchers: Type.Record(Type.String(), Matcher, {
    description: 'Label matchers: `{label: value}` or `{label: {op, value}}`.',
  }),
  comparator: Nullable(StringEnum([...COMPARATORS])),
  warning: Nullable(Type.Number()),
  critical: Nullable(Type.Number()),
  for_seconds: Type.Integer({ minimum: 0 }),
  recovery: Nullable(
    Type.Number({
      description:
        'Hysteresis: the value a firing condition must get back past to clear; null: the lowest threshold.',
    }),
  ),
  keep_firing_for_seconds: Type.Integer({ minimum: 0 }),
  scope: Scope,
  params: Type.Record(Type.String(), Type.Unknown(), {
    description:
      'Kind-specific: `hours` (disk_forecast), `flapping` (check), `failures` (host_unreachable), `global` (cpu, memory or disk: null thresholds read the global ones); log_count: the filter `q`, `level` (a list), `source`, `source_name`, and `window_seconds` (60 to 86400, default 300).',
  }),
};

const Rule = Type.Object(
  {
    id: Type.String(),
    ...Fields,
    builtin: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { title: 'AlertRule' },
);

const Body = Type.Object(
  {
    name: Type.Optional(Fields.name),
    description: Type.Optional(Fields.description),
    enabled: Type.Optional(Fields.enabled),
    kind: Type.Optional(Fields.kind),
    metric: Type.Optional(Fields.metric),
    matchers: Type.Optional(Fields.matchers),
    comparator: Type.Optional(Fields.comparator),
    warning: Type.Optional(Fields.warning),
    critical: Type.Optional(Fields.critical),
    for_seconds: Type.Optional(Fields.for_seconds),
    recovery: Type.Optional(Fields.recovery),
    keep_firing_for_seconds: Type.Optional(Fields.keep_firing_for_seconds),
    scope: Type.Optional(Fields.scope),
    params: Type.Optional(Fields.params),
  },
  { additionalProperties: false },
);

const Preview = Type.Object(
  {
    items: Type.Array(
      Type.Object({
        host_id: Type.String(),
        host_name: Type.String(),
        labels: Type.Record(Type.String(), Type.String()),
        value: Type.Number(),
        severity: StringEnum(['warning', 'critical']),
      }),
    ),
    evaluated_hosts: Type.Integer(),
  },
  { title: 'AlertRulePreview' },
);

/** Alert rules: CRUD and the preview, under `/api/v1/alerts/rules`. */
export function alertRuleRoutes(app: App, deps: { rules: RuleService }): void {
  const tags = ['alerts'];
  const { rules } = deps;

  app.get(
    '/api/v1/alerts/rules',
    {
      config: { access: 'alerts:read' },
      schema: {
        tags,
        summary: 'Every alert rule: the built-in ones first, then oldest first.',
        response: { 200: Type.Object({ items: Type.Array(Rule), total: Type.Integer() }) },
      },
    },
    async () => rules.list(),
  );

  app.post(
    '/api/v1/alerts/rules',
    {
      config: { access: 'alerts:write' },
      schema: {
        tags,
        summary:
          'Create an alert rule. A threshold rule needs `metric`, a comparator (default `>`) and a warning or a critical threshold; a field that does not fit is 400 naming it.',
        body: Type.Intersect([Body, Type.Object({ name: Fields.name })]),
        response: { 201: Rule },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await rules.create(contextOf(request), request.body as RuleInput)),
  );

  app.post(
    '/api/v1/alerts/rules::preview',
    {
      config: { access: 'alerts:read' },
      schema: {
        tags,
        summary:
          "Dry run of a threshold rule: which hosts breach it now, from each host's latest stored data (its `for` is not waited for). Nothing is stored.",
        body: Body,
        response: { 200: Preview },
      },
    },
    async (request) => rules.preview({ name: 'preview', ...(request.body as RuleInput) }),
  );

  app.get(
    `/api/v1/alerts/rules/:id${ID}`,
    {
      config: { access: 'alerts:read' },
      schema: {
        tags,
        summary: 'One alert rule.',
        params: Type.Object({ id: Id }),
        response: { 200: Rule },
      },
    },
    async (request) => rules.get(request.params.id),
  );

  app.patch(
    `/api/v1/alerts/rules/:id${ID}`,
    {
      config: { access: 'alerts:write' },
      schema: {
        tags,
        summary:
          "Change an alert rule: the fields given replace the stored ones. A built-in rule's kind, metric, matchers and params stay.",
        params: Type.Object({ id: Id }),
        body: Body,
        response: { 200: Rule },
      },
    },
    async (request) =>
      rules.update(contextOf(request), request.params.id, request.body as RuleInput),
  );

  app.delete(
    `/api/v1/alerts/rules/:id${ID}`,
    {
      config: { access: 'alerts:write' },
      schema: {
        tags,
        summary: 'Delete an alert rule; a built-in one is 409 `rule.builtin` (disable it instead).',
        params: Type.Object({ id: Id }),
        response: { 204: { type: 'null' } },
      },
    },
    async (request, reply) => {
      await rules.remove(contextOf(request), request.params.id);
      return reply.code(204).send();
    },
  );
}
