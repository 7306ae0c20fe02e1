import { Type } from '@sinclair/typebox';
import {
  DeployResult,
  DeploymentDetail,
  DeploymentDiff,
  DeploymentPage,
  DeploymentQuery,
} from '@vigil/protocol';
import { contextOf } from '../http/context.js';
import type { App } from '../http/server.js';
import type { DeploymentService } from './service.js';

const tags = ['deployments'];
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/**
 * Deployments (`/api/v1/deployments`): deploy the current configuration, list and read
 * deployments, diff them (and the pending changes against the active one), and render one as
 * Icinga 2 configuration.
 */
export function deploymentRoutes(app: App, deps: { deployments: DeploymentService }): void {
  const { deployments } = deps;
  app.post(
    '/api/v1/deployments',
    {
      config: { access: 'config:deploy' },
      schema: {
        tags,
        summary:
          'Deploy the current configuration: validate it, snapshot it (once per checksum) and make it the active deployment.',
        response: { 200: DeployResult },
      },
    },
    async (request) => deployments.deploy(contextOf(request)),
  );
  app.get(
    '/api/v1/deployments',
    {
      config: { access: 'config:read' },
      schema: {
        tags,
        summary: 'List deployments, newest first; follow next_cursor for older ones.',
        querystring: DeploymentQuery,
        response: { 200: DeploymentPage },
      },
    },
    async (request) => deployments.list(request.query),
  );
  app.get(
    '/api/v1/deployments/pending-diff',
    {
      config: { access: 'config:read' },
      schema: {
        tags,
        summary:
          'What a deploy now would change: the current configuration against the active deployment.',
        response: { 200: DeploymentDiff },
      },
    },
    async () => deployments.pendingDiff(),
  );
  app.get(
    '/api/v1/deployments/:id',
    {
      config: { access: 'config:read' },
      schema: {
        tags,
        summary: 'One deployment, with how many objects of each kind it holds.',
        params: IdParams,
        response: { 200: DeploymentDetail },
      },
    },
    async (request) => deployments.get(request.params.id),
  );
  app.get(
    '/api/v1/deployments/:id/diff',
    {
      config: { access: 'config:read' },
      schema: {
        tags,
        summary:
          'What changed from another deployment (`against`: its id, or `active`) to this one.',
        params: IdParams,
        querystring: Type.Object(
          { against: Type.String({ minLength: 1, maxLength: 64, default: 'active' }) },
          { additionalProperties: false },
        ),
        response: { 200: DeploymentDiff },
      },
    },
    async (request) => deployments.diff(request.params.id, request.query.against),
  );
  app.get(
    '/api/v1/deployments/:id/icinga2',
    {
      config: { access: 'config:read' },
      schema: {
        tags,
        summary: 'A deployment rendered as Icinga 2 configuration (text/plain).',
        params: IdParams,
        produces: ['text/plain'],
        response: { 200: Type.String({ description: 'Icinga 2 configuration.' }) },
      },
    },
    async (request, reply) =>
      reply.type('text/plain; charset=utf-8').send(await deployments.icinga2(request.params.id)),
  );
}
