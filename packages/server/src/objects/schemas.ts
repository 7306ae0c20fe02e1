import { Type, type TSchema } from '@sinclair/typebox';
import { StringEnum } from '@vigil/protocol';

// The OpenAPI schemas of the configuration API (`routes.ts`).

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** A configuration object's name (and a path segment naming one). */
const Name = Type.String({ minLength: 1, maxLength: 255 });

/** The JSON values of properties and vars. */
const Values = Type.Record(Type.String(), Type.Unknown());

/** The kinds of configuration object. */
export const KindSchema = StringEnum(['host', 'service', 'command', 'hostgroup']);

/** A configuration object as the API answers it. */
export const ConfigObjectSchema = Type.Object(
  {
    kind: KindSchema,
    object_type: StringEnum(['object', 'template']),
    object_name: Type.String(),
    host: Nullable(
      Type.String({
        description:
          'A service: the host, or host template, it is attached to; null for a service template and every other kind.',
      }),
    ),
    imports: Type.Array(Type.String(), {
      description: 'Templates imported, in order: a later one overrides an earlier one.',
    }),
    vars: Type.Record(Type.String(), Type.Unknown(), {
      description: 'Custom variables, merged key by key along the imports.',
    }),
    properties: Type.Record(Type.String(), Type.Unknown(), {
      description:
        'Every other property that is set, in Icinga Director’s vocabulary (`check_command`, `check_interval`, `address`, `arguments` …): booleans as booleans, numbers and intervals (in seconds) as strings.',
    }),
    disabled: Type.Boolean(),
  },
  { title: 'ConfigObject' },
);

/** Fields a body may repeat from the object it changes (as a GET answered it); never changed. */
const Identity = {
  kind: Type.Optional(KindSchema),
  object_name: Type.Optional(Name),
  object_type: Type.Optional(StringEnum(['object', 'template'])),
};

/** What a body may set of an object besides its name and type. */
const Content = {
  host: Type.Optional(Nullable(Name)),
  imports: Type.Optional(Type.Array(Name)),
  vars: Type.Optional(Values),
  properties: Type.Optional(Values),
  disabled: Type.Optional(Type.Boolean()),
};

/** The body that creates an object. */
export const CreateBody = Type.Object(
  {
    object_name: Name,
    object_type: Type.Optional(StringEnum(['object', 'template'])),
    ...Content,
  },
  { additionalProperties: false, title: 'ConfigObjectCreate' },
);

/** The body of a PUT: the whole object but its name and type, which stay. */
export const ReplaceBody = Type.Object(
  {
    ...Identity,
    ...Content,
  },
  { additionalProperties: false, title: 'ConfigObjectReplace' },
);

/**
 * The body of a PATCH: a JSON merge patch (RFC 7396) of the object. `imports` replaces the list;
 * each key of `properties` and `vars` sets that one value, and null removes it.
 */
export const PatchBody = Type.Object(
  {
    ...Identity,
    ...Content,
  },
  { additionalProperties: false, title: 'ConfigObjectPatch' },
);

/** Where each resolved value comes from. */
const OriginMap = Type.Record(Type.String(), Nullable(Type.String()), {
  description: 'The template each value comes from; null: the object itself.',
});

/** An object with everything it inherits. */
export const ResolvedSchema = Type.Object(
  {
    object: ConfigObjectSchema,
    properties: Values,
    vars: Values,
    origins: Type.Object({ properties: OriginMap, vars: OriginMap }),
    services: Type.Array(
      Type.Object({
        service: ConfigObjectSchema,
        from: Nullable(
          Type.String({
            description: 'The host template the service comes from; null: the host’s own.',
          }),
        ),
      }),
      { description: 'A host’s services (its own and its templates’); empty for other kinds.' },
    ),
  },
  { title: 'ResolvedConfigObject' },
);

/** The body of an inheritance preview: an unsaved object. */
export const PreviewBody = Type.Object(
  {
    kind: KindSchema,
    object: Type.Object(
      {
        object_name: Type.Optional(Name),
        object_type: Type.Optional(StringEnum(['object', 'template'])),
        host: Type.Optional(Nullable(Name)),
        imports: Type.Optional(Type.Array(Name)),
        vars: Type.Optional(Values),
        properties: Type.Optional(Values),
        disabled: Type.Optional(Type.Boolean()),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, title: 'ConfigPreview' },
);

/** A list of objects. */
export const ObjectList = Type.Object({ items: Type.Array(ConfigObjectSchema) });

/** A name in the path. */
export const NameParams = Type.Object({ name: Name });

/** A host id in the path. */
export const HostIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
