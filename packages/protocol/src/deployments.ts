import { Type, type Static } from '@sinclair/typebox';

/** A deployment: an immutable, checksummed snapshot of the whole enabled configuration. */
export const Deployment = Type.Object(
  {
    id: Type.String(),
    checksum: Type.String({ pattern: '^[0-9a-f]{40}$', description: 'SHA-1 of the snapshot.' }),
    created_at: Type.String({ format: 'date-time' }),
    created_by: Type.Union([Type.String(), Type.Null()]),
    objects: Type.Integer({ description: 'How many objects the snapshot holds.' }),
    active: Type.Boolean({ description: 'Whether it is the active deployment.' }),
    activated_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { title: 'Deployment' },
);
export type Deployment = Static<typeof Deployment>;

/** How many objects of each section a deployment holds. */
export const DeploymentCounts = Type.Object(
  {
    commands: Type.Integer(),
    hostgroups: Type.Integer(),
    host_templates: Type.Integer(),
    hosts: Type.Integer(),
    service_templates: Type.Integer(),
    services: Type.Integer(),
  },
  { title: 'DeploymentCounts' },
);

/** A deployment with its counts. */
export const DeploymentDetail = Type.Composite(
  [Deployment, Type.Object({ counts: DeploymentCounts })],
  {
    title: 'DeploymentDetail',
  },
);
export type DeploymentDetail = Static<typeof DeploymentDetail>;

/** The answer to a deploy: the active deployment, and whether the deploy created it. */
export const DeployResult = Type.Composite(
  [
    Deployment,
    Type.Object({
      counts: DeploymentCounts,
      created: Type.Boolean({
        description: 'False when the same configuration was deployed before.',
      }),
    }),
  ],
  { title: 'DeployResult' },
);

/** Query of the deployments list. */
export const DeploymentQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);

/** A page of deployments, newest first; follow `next_cursor` until it is null. */
export const DeploymentPage = Type.Object(
  { items: Type.Array(Deployment), next_cursor: Type.Union([Type.String(), Type.Null()]) },
  { title: 'DeploymentPage' },
);

/** A configuration object as a diff names it. */
export const DiffObject = Type.Object(
  {
    kind: Type.Union([
      Type.Literal('host'),
      Type.Literal('service'),
      Type.Literal('command'),
      Type.Literal('hostgroup'),
    ]),
    object_type: Type.Union([Type.Literal('object'), Type.Literal('template')]),
    name: Type.String(),
    host: Type.Union([Type.String(), Type.Null()], {
      description: 'A service’s host or host template.',
    }),
  },
  { title: 'DiffObject' },
);

/** What changed between two configurations, named by their checksums. */
export const DeploymentDiff = Type.Object(
  {
    from: Type.Union([Type.String(), Type.Null()], {
      description: 'Checksum compared against; null when there is no active deployment.',
    }),
    to: Type.String({ description: 'Checksum of the newer configuration.' }),
    added: Type.Array(DiffObject),
    removed: Type.Array(DiffObject),
    changed: Type.Array(
      Type.Composite([
        DiffObject,
        Type.Object({
          keys: Type.Array(Type.String(), {
            description: 'Properties that differ; `vars.NAME` for one custom variable.',
          }),
        }),
      ]),
    ),
  },
  { title: 'DeploymentDiff' },
);

/** The answer carrying a template's new self-service API key, shown only once. */
export const TemplateApiKey = Type.Object(
  {
    template: Type.String(),
    api_key: Type.String({ pattern: '^[0-9a-f]{40}$' }),
  },
  { title: 'TemplateApiKey' },
);
