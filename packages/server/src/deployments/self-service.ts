import { randomBytes } from 'node:crypto';
import type { Audited } from '../audit/audited.js';
import type { RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import type { ConfigObject, ResolvedObject } from '../objects/model.js';
import type { ObjectService } from '../objects/service.js';
import { hostObject, rowObject, type ObjectStore, type ObjectStores } from '../objects/stored.js';
import { hashToken } from '../secrets/tokens.js';
import type { TicketService } from '../secrets/ticket.js';

/** The version of Director's self-service API this server speaks (Director's own answer). */
export const SELF_SERVICE_API_VERSION = '1.4.0';

/** What the self-service needs of the configuration objects. Declared here, where it is used. */
export type SelfServiceObjects = Pick<ObjectService, 'get' | 'create' | 'modify' | 'resolved'>;

/** What a host registering itself sends (Director's self-service form fields). */
export interface Registration {
  /** The host's name (`name` in the URL, else `object_name` in the body). */
  name?: string;
  /** The template's API key (`key` in the URL, else in the body). */
  key?: string;
  display_name?: unknown;
  address?: unknown;
  address6?: unknown;
}

/** The parameters Director's PowerShell module reads; values as Director sends them. */
export type PowerShellParameters = Record<string, string | boolean | string[] | null>;

/** A fresh API key: 20 random bytes as 40 hex digits, like Director's. */
const newKey = (): string => randomBytes(20).toString('hex');

const invalidKey = (key: string): VigilError =>
  new VigilError('not_found', `Got invalid API key "${key}"`, { code: 'self_service.invalid_key' });

const notAnAgent = (name: string): VigilError =>
  new VigilError('not_found', `The host "${name}" is not an agent`, {
    code: 'self_service.not_agent',
  });

/** A required parameter that is missing, as Icinga Web names it. */
const missing = (name: string): VigilError =>
  new VigilError('bad_data', `Required parameter '${name}' missing`, {
    code: 'self_service.missing_parameter',
  });

/** Reads an optional form value: a non-empty string, or undefined. */
function formValue(field: string, v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || v.length > 255)
    throw new VigilError('bad_data', `${field} must be a string of at most 255 characters`, {
      code: 'self_service.invalid',
    });
  return v;
}

/**
 * Director's self-service API over the configuration objects: host templates get API keys
 * (stored only as hashes), hosts register themselves with a template's key and get a key of
 * their own, and with it their Icinga 2 ticket and the PowerShell module's parameters.
 */
export function createSelfService(deps: {
  store: Pick<ObjectStore, 'hostByName' | 'hostByKey' | 'objectByKey' | 'object'>;
  objects: SelfServiceObjects;
  audited: Audited<ObjectStores>;
  tickets: TicketService;
  now: () => number;
}) {
  const { store, objects, audited, tickets, now } = deps;

  const isAgent = (r: ResolvedObject): boolean => r.properties.has_agent === true;

  /** The enabled host template a key belongs to; undefined when none. */
  async function templateByKey(key: string): Promise<ConfigObject | undefined> {
    const row = await store.objectByKey(hashToken(key));
    if (!row || row.kind !== 'host' || row.object_type !== 'template' || row.disabled === 1)
      return undefined;
    return rowObject(row, null);
  }

  /** The enabled host a key belongs to; undefined when none. */
  async function hostByKey(key: string): Promise<ConfigObject | undefined> {
    const row = await store.hostByKey(hashToken(key));
    return row && row.disabled === 0 ? hostObject(row) : undefined;
  }

  return {
    /**
     * Gives host template `name` a new self-service API key, replacing any earlier one, and
     * returns it: only its hash is kept, so this is the one time it is shown. Audited as
     * `config.api_key`.
     * @throws VigilError not_found when there is no host template of that name.
     */
    async templateKey(ctx: RequestContext, name: string): Promise<string> {
      const key = newKey();
      return audited(
        ctx,
        { action: 'config.api_key', resourceType: 'host_template' },
        async (s, draft) => {
          const row = await s.objects.object('host', '', name);
          if (!row || row.object_type !== 'template')
            throw new VigilError('not_found', `Failed to load icinga_host "${name}"`, {
              code: 'config.not_found',
            });
          await s.objects.setObjectKey(row.id, hashToken(key), now());
          draft.entry.resourceId = row.id;
          draft.entry.detail = { name, replaced: row.api_key_hash !== null };
          return key;
        },
      );
    },

    /**
     * Registers a host with a host template's key, and returns the host's new API key. An
     * unknown name creates a host importing the template; an existing host that imports the
     * template and has no key yet gets the display name and addresses given (the ones given,
     * not empty) and a key. Everything else is refused.
     * @throws VigilError bad_data (400) for missing name or key, a template's name, a host
     *   already registered; not_found (404) for a key that is no agent template's; forbidden
     *   (403) for an existing host that does not import the template, or is disabled.
     */
    async registerHost(ctx: RequestContext, r: Registration): Promise<string> {
      const name = formValue('object_name', r.name);
      const key = formValue('key', r.key);
      const absent = [...(name ? [] : ['object_name']), ...(key ? [] : ['key'])];
      if (absent.length === 1)
        throw new VigilError('bad_data', `${absent[0]} is required`, {
          code: 'self_service.missing_parameter',
        });
      if (absent.length === 2)
        throw new VigilError('bad_data', `Missing parameters: ${absent.join(', ')}`, {
          code: 'self_service.missing_parameter',
        });
      const values = {
        display_name: formValue('display_name', r.display_name),
        address: formValue('address', r.address),
        address6: formValue('address6', r.address6),
      };
      const template = await templateByKey(key!);
      if (!template) throw invalidKey(key!);
      if (!isAgent(await objects.resolved(template)))
        throw new VigilError(
          'not_found',
          `Got valid API key "${key}", but template is not for Agents`,
          {
            code: 'self_service.not_agent',
          },
        );
      if (await store.object('host', '', name!))
        throw new VigilError('bad_data', `You are not allowed to create "${name}"`, {
          code: 'self_service.refused',
        });
      const existing = await store.hostByName(name!);
      const given = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
      if (existing) {
        if (existing.api_key_hash !== null)
          throw new VigilError('bad_data', `The host "${name}" has already been registered`, {
            code: 'self_service.registered',
          });
        const host = hostObject(existing);
        if (host.disabled)
          throw new VigilError('forbidden', `The host "${name}" is disabled`, {
            code: 'self_service.refused',
          });
        if (!host.imports.includes(template.object_name))
          throw new VigilError(
            'forbidden',
            `The host "${name}" does not import the template "${template.object_name}"`,
            { code: 'self_service.refused' },
          );
        await objects.modify(ctx, { kind: 'host', name: name! }, given, 'merge');
      } else
        await objects
          .create(ctx, 'host', {
            ...given,
            object_name: name,
            object_type: 'object',
            imports: [template.object_name],
          })
          .catch(async (err: unknown) => {
            // Another registration of the same name created it meanwhile (the service's own
            // check, or the database's unique name when both passed that check at once).
            const raced =
              (err instanceof VigilError && err.code === 'config.exists') ||
              (await store.hostByName(name!)) !== undefined;
            if (raced)
              throw new VigilError('bad_data', `The host "${name}" has already been registered`, {
                code: 'self_service.registered',
              });
            throw err;
          });
      const hostKey = newKey();
      await audited(ctx, { action: 'config.register', resourceType: 'host' }, async (s, draft) => {
        const row = await s.objects.hostByName(name!);
        // Registered meanwhile by another request with the same template key.
        if (!row || row.api_key_hash !== null)
          throw new VigilError('bad_data', `The host "${name}" has already been registered`, {
            code: 'self_service.registered',
          });
        // The key is set only where none is: of two registrations racing here, one wins.
        if (!(await s.objects.claimHostKey(row.id, hashToken(hostKey), now())))
          throw new VigilError('bad_data', `The host "${name}" has already been registered`, {
            code: 'self_service.registered',
          });
        draft.entry.resourceId = row.id;
        draft.entry.detail = { name, template: template.object_name, created: !existing };
      });
      return hostKey;
    },

    /**
     * The Icinga 2 ticket of the host a host key belongs to.
     * @throws VigilError bad_data without a key; not_found for a key that is no host's (a
     *   template's included) and for a host that is not an agent (`has_agent`, resolved).
     */
    async ticketByKey(key: string | undefined): Promise<string> {
      if (!key) throw missing('key');
      const host = await hostByKey(key);
      if (!host) throw invalidKey(key);
      if (!isAgent(await objects.resolved(host))) throw notAnAgent(host.object_name);
      return tickets.ticketFor(host.object_name);
    },

    /**
     * The Icinga 2 ticket of host `name` (Director's `director/host/ticket`).
     * @throws VigilError not_found for an unknown host, and a host that is not an agent.
     */
    async ticketByName(name: string | undefined): Promise<string> {
      if (!name) throw missing('name');
      const host = await objects.get({ kind: 'host', name });
      if (host.disabled)
        throw new VigilError('not_found', `Failed to load icinga_host "${name}"`, {
          code: 'config.not_found',
        });
      if (!isAgent(await objects.resolved(host))) throw notAnAgent(name);
      return tickets.ticketFor(name);
    },

    /**
     * The parameters of Director's PowerShell module for a template's or a host's key: the
     * module's settings (none are configured here, so Director's defaults), and for a host key
     * what the host itself decides.
     * @throws VigilError bad_data without a key; not_found for an unknown key; forbidden for a
     *   host that is not an agent.
     */
    async powershellParameters(key: string | undefined): Promise<PowerShellParameters> {
      if (!key) throw missing('key');
      const params: PowerShellParameters = {
        fetch_agent_name: false,
        fetch_agent_fqdn: false,
        transform_hostname: null,
        flush_api_directory: false,
        resolve_parent_host: null,
        install_framework_service: '0',
        install_framework_plugins: '0',
        director_host_object: JSON.stringify({ address: '&ipaddress&' }),
      };
      if (await templateByKey(key)) return params;
      const host = await hostByKey(key);
      if (!host) throw invalidKey(key);
      const r = await objects.resolved(host);
      if (!isAgent(r))
        throw new VigilError(
          'forbidden',
          `${host.object_name} is not configured for Icinga Agent usage`,
          { code: 'self_service.not_agent' },
        );
      return {
        ...params,
        agent_add_firewall_rule: r.properties.master_should_connect === true,
        global_zones: ['director-global'],
        accept_config: r.properties.accept_config === true,
      };
    },
  };
}

/** The self-service. */
export type SelfService = ReturnType<typeof createSelfService>;
