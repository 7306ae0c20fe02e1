import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { ErrorEnvelope } from '@vigil/protocol';
import type { App } from './server.js';

/** A route's URL pattern (find-my-way syntax) as an OpenAPI path: `:id` becomes `{id}`. */
export const openapiPath = (url: string): string =>
  url
    .split('::')
    .map((part) => part.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, '{$1}'))
    .join(':');

/**
 * Serves the OpenAPI document (`/api/v1/openapi.json`) and its browsable form (`/api/v1/docs`).
 * Each operation's security and `x-required-permission` come from `accessByOperation` (keyed
 * `method path`, as `openapiPath` writes the path), which the caller fills as routes register.
 */
export async function registerOpenApi(
  app: App,
  options: { version: string; accessByOperation: ReadonlyMap<string, string> },
): Promise<void> {
  const { accessByOperation } = options;
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Vigil API',
        version: options.version,
        description:
          'The native Vigil API. Every protected operation names the permission it needs in `x-required-permission`.',
      },
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: 'Access token from /api/v1/auth/login.',
          },
          // OpenAPI 3.1's mutualTLS scheme; the plugin's types know only 3.0's.
          agentCertificate: {
            type: 'mutualTLS',
            description: 'The client certificate the Vigil CA issued to the agent at enrollment.',
          } as never,
        },
      },
    },
  });

  let cached: Record<string, unknown> | undefined;
  const document = (): Record<string, unknown> => {
    if (cached) return cached;
    const spec = structuredClone(app.swagger()) as {
      paths?: Record<string, Record<string, Record<string, unknown>>>;
      components?: Record<string, Record<string, unknown>>;
    };
    spec.components ??= {};
    spec.components.schemas = { ...spec.components.schemas, ErrorEnvelope };
    for (const [p, ops] of Object.entries(spec.paths ?? {})) {
      for (const [method, op] of Object.entries(ops)) {
        const access = accessByOperation.get(`${method} ${p}`);
        if (access === undefined || access === 'anonymous') {
          op.security = [];
        } else if (access === 'agent') {
          op.security = [{ agentCertificate: [] }];
        } else {
          op.security = [{ bearerAuth: [] }];
          op['x-required-permission'] = access;
        }
        const responses = (op.responses ??= {}) as Record<string, unknown>;
        responses.default = {
          description: 'Error envelope',
          content: {
            'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } },
          },
        };
      }
    }
    cached = spec;
    return spec;
  };

  app.get(
    '/api/v1/openapi.json',
    { config: { access: 'anonymous' }, schema: { hide: true } },
    async () => document(),
  );
  await app.register(swaggerUi, {
    routePrefix: '/api/v1/docs',
    transformSpecificationClone: false,
    transformSpecification: () => document(),
  });
}
