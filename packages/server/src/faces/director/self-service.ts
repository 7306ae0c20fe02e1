import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  SELF_SERVICE_API_VERSION,
  type PowerShellParameters,
  type SelfService,
} from '../../deployments/self-service.js';
import { VigilError } from '../../errors.js';
import { contextOf } from '../../http/context.js';
import { toVigilError } from '../../http/errors.js';
import { directorStatus, sendPlainJson, type DirectorModule } from './http.js';

// Director's self-service API (research: SelfServiceController), used by Icinga's PowerShell
// module and `vigil-agent enroll --template-key`. No user authenticates: the API keys in the
// URL do. `X-Director-Accept: text/plain` switches answers from JSON to text: a string as it
// is, a parameter list as `key: value` lines (CRLF), an error as `ERROR: message`.

/** What the endpoints need of the self-service. Declared here, where it is used. */
export type DirectorSelfService = Pick<
  SelfService,
  'registerHost' | 'ticketByKey' | 'powershellParameters'
>;

const wantsText = (request: FastifyRequest): boolean =>
  request.headers['x-director-accept'] === 'text/plain';

/** Director's `makePlainTextPowerShellArray`: `key: value\r\n`, lists joined with `!`. */
export function plainTextParameters(params: PowerShellParameters): string {
  let out = '';
  for (const [k, v] of Object.entries(params)) {
    const text = typeof v === 'boolean' ? String(v) : Array.isArray(v) ? v.join('!') : (v ?? '');
    out += `${k}: ${text}\r\n`;
  }
  return out;
}

/** Answers a value, or the error `run` throws, in the flavour the caller asked for. */
async function answer(
  request: FastifyRequest,
  reply: FastifyReply,
  run: () => Promise<string | PowerShellParameters>,
): Promise<FastifyReply> {
  const text = wantsText(request);
  try {
    const value = await run();
    if (!text) return sendPlainJson(reply, 200, value);
    return reply
      .code(200)
      .type('text/plain; charset=utf-8')
      .send(typeof value === 'string' ? value : plainTextParameters(value));
  } catch (err) {
    if (!text) throw err;
    const e = toVigilError(err);
    const message = e.kind === 'internal' ? 'Internal error' : e.message;
    if (e.kind === 'internal') request.log.error({ err: e.cause ?? e }, 'unhandled error');
    return reply
      .code(directorStatus(e))
      .type('text/plain; charset=utf-8')
      .send(`ERROR: ${message}`);
  }
}

/** A query parameter as a string; undefined when absent. */
const param = (request: FastifyRequest, name: string): string | undefined => {
  const v = (request.query as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
};

/**
 * The JSON object of a registration body; an empty or absent body is an empty form.
 * @throws VigilError bad_data `Invalid JSON: Syntax error`.
 */
function formOf(request: FastifyRequest): Record<string, unknown> {
  const raw = typeof request.body === 'string' ? request.body.trim() : '';
  if (raw === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new VigilError('bad_data', 'Invalid JSON: Syntax error', {
      code: 'director.invalid_json',
    });
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/**
 * `director/self-service/api-version` → `"1.4.0"`; `register-host?name=&key=` (POST, body
 * {display_name, address, address6}) → the new host key; `ticket?key=` → the host's ticket;
 * `powershell-parameters?key=` → the PowerShell module's parameters.
 */
export function directorSelfServiceRoutes(selfService: DirectorSelfService): DirectorModule {
  return (router) => {
    router.route({
      method: ['GET', 'POST'],
      path: '/self-service/api-version',
      access: 'anonymous',
      unescaped: true,
      handler: (request, reply) => answer(request, reply, async () => SELF_SERVICE_API_VERSION),
    });
    router.route({
      method: 'POST',
      path: '/self-service/register-host',
      access: 'anonymous',
      unescaped: true,
      handler: (request, reply) =>
        answer(request, reply, async () => {
          const form = formOf(request);
          const name = param(request, 'name') || form.object_name;
          const key = param(request, 'key') || form.key;
          return selfService.registerHost(contextOf(request), {
            name: typeof name === 'string' ? name : undefined,
            key: typeof key === 'string' ? key : undefined,
            display_name: form.display_name,
            address: form.address,
            address6: form.address6,
          });
        }),
    });
    router.route({
      method: ['GET', 'POST'],
      path: '/self-service/ticket',
      access: 'anonymous',
      unescaped: true,
      handler: (request, reply) =>
        answer(request, reply, () => selfService.ticketByKey(param(request, 'key'))),
    });
    router.route({
      method: ['GET', 'POST'],
      path: '/self-service/powershell-parameters',
      access: 'anonymous',
      unescaped: true,
      handler: (request, reply) =>
        answer(request, reply, () => selfService.powershellParameters(param(request, 'key'))),
    });
  };
}
