import type { FastifyRequest } from 'fastify';
import type { DeploymentService } from '../../deployments/service.js';
import { contextOf } from '../../http/context.js';
import { DIRECTOR_PERMISSION, sendPlainJson, type DirectorModule } from './http.js';

// Director's deployment endpoints (research: ConfigController): `config/deploy` deploys the
// current configuration and answers its checksum; `config/deployment-status` tells which
// configuration is active.

/** What the endpoints need of deployments. Declared here, where it is used. */
export type DirectorDeployments = Pick<DeploymentService, 'deploy' | 'activate' | 'status'>;

/** Splits a comma-separated query parameter; undefined when absent or empty. */
function listParam(request: FastifyRequest, name: string): string[] | undefined {
  const v = (request.query as Record<string, unknown>)[name];
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * `POST director/config/deploy[?checksum=…]` → `{"checksum": "…"}` (with a checksum: that stored
 * deployment made active again); any other method answers as Icinga Web's
 * error controller does, 500 `{"status":"error","message":"Unsupported method: GET"}` (compact).
 * `GET director/config/deployment-status[?configs=a,b][&activities=c,d]` →
 * `{"active_configuration": {stage_name, config, activity}}` (`{}` before the first deploy),
 * with the status of each checksum asked about.
 */
export function directorDeployRoutes(deployments: DirectorDeployments): DirectorModule {
  return (router) => {
    router.route({
      method: 'POST',
      path: '/config/deploy',
      access: 'config:deploy',
      unescaped: true,
      async handler(request, reply) {
        // `?checksum=` deploys a configuration stored before, as Director's does.
        const { checksum } = request.query as Record<string, unknown>;
        const d =
          typeof checksum === 'string' && checksum !== ''
            ? await deployments.activate(contextOf(request), checksum)
            : await deployments.deploy(contextOf(request));
        return sendPlainJson(reply, 200, { checksum: d.checksum });
      },
    });
    router.route({
      method: ['GET', 'PUT', 'DELETE'],
      path: '/config/deploy',
      access: DIRECTOR_PERMISSION,
      async handler(request, reply) {
        // Director throws before anything else happens; Icinga Web answers compact JSON.
        return reply
          .code(500)
          .type('application/json')
          .send(
            JSON.stringify({ status: 'error', message: `Unsupported method: ${request.method}` }),
          );
      },
    });
    router.route({
      method: 'GET',
      path: '/config/deployment-status',
      access: DIRECTOR_PERMISSION,
      unescaped: true,
      async handler(request, reply) {
        const status = await deployments.status(
          listParam(request, 'configs'),
          listParam(request, 'activities'),
        );
        return sendPlainJson(reply, 200, status);
      },
    });
  };
}
