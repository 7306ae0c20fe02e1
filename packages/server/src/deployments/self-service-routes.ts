import { Type } from '@sinclair/typebox';
import { TemplateApiKey } from '@vigil/protocol';
import { contextOf } from '../http/context.js';
import type { App } from '../http/server.js';
import type { SelfService } from './self-service.js';

/**
 * `POST /api/v1/host-templates/{name}/api-key`: a new self-service API key for a host template,
 * shown once (only its hash is kept); it replaces the template's earlier key.
 */
export function selfServiceRoutes(app: App, deps: { selfService: SelfService }): void {
  app.post(
    '/api/v1/host-templates/:name/api-key',
    {
      config: { access: 'config:write' },
      schema: {
        tags: ['deployments'],
        summary:
          'Give a host template a new self-service API key (replacing any earlier one); the key is shown only in this answer.',
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) }),
        response: { 200: TemplateApiKey },
      },
    },
    async (request) => ({
      template: request.params.name,
      api_key: await deps.selfService.templateKey(contextOf(request), request.params.name),
    }),
  );
}
