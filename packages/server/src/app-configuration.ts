import type { Logger } from 'pino';
import { createAudited, type Transact } from './audit/audited.js';
import type { CursorCodec } from './audit/service.js';
import { createAuditStore } from './audit/store.js';
import type { Config } from './config/config.js';
import { createCredentialService } from './credentials/service.js';
import { createCredentialStore } from './credentials/store.js';
import type { Db } from './db/connection.js';
import { createDeploymentService } from './deployments/service.js';
import { createDeploymentStore } from './deployments/store.js';
import { createHostAdmin, type HostStores } from './hosts/admin.js';
import { createConnectivity } from './hosts/connectivity.js';
import { createDiscovery } from './hosts/discovery-runner.js';
import type { HostService } from './hosts/service.js';
import { createHostStore } from './hosts/store.js';
import { createObjectService } from './objects/service.js';
import { createObjectStore } from './objects/store.js';
import type { ObjectStores } from './objects/stored.js';
import type { Sealer } from './secrets/sealer.js';
import { createTicketService } from './secrets/ticket.js';
import { ticketSalt } from './secrets/ticket-salt.js';
import { createSettingsService } from './system/settings.js';
import { createSettingsStore } from './system/settings-store.js';
import { systemConfigRoutes } from './system/config-routes.js';
import { credentialRoutes } from './credentials/routes.js';
import { deploymentRoutes } from './deployments/routes.js';
import { createSelfService } from './deployments/self-service.js';
import { selfServiceRoutes } from './deployments/self-service-routes.js';
import { directorDeployRoutes } from './faces/director/deploy.js';
import { directorFace } from './faces/director/http.js';
import { directorObjectRoutes } from './faces/director/objects.js';
import { directorSelfServiceRoutes } from './faces/director/self-service.js';
import { directorTicketRoutes } from './faces/director/ticket.js';
import { hostAdminRoutes } from './hosts/admin-routes.js';
import type { FleetOverview } from './hosts/overview.js';
import type { App } from './http/server.js';
import type { IdentityService } from './identity/service.js';
import { configRoutes } from './objects/routes.js';

/**
 * Composes the configuration side of the server for app.ts: configuration objects and
 * deployments, hosts as operators change them, SSH credentials, connectivity and discovery,
 * settings, and Icinga tickets. Composition only: each part is built on its stores and its
 * unit of work.
 */
export function composeConfiguration(deps: {
  db: Db;
  config: Config;
  hosts: HostService;
  sealer: Sealer;
  cursors: CursorCodec;
  now: () => number;
  logger: Logger;
}) {
  const { db, config, hosts, sealer, cursors, now, logger } = deps;
  /** Told after a change to configuration objects or to hosts committed (in this process). */
  const changeListeners = new Set<() => void>();
  const thenTell =
    <S>(transact: Transact<S>): Transact<S> =>
    async (fn) => {
      const result = await transact(fn);
      for (const listener of changeListeners) listener();
      return result;
    };
  const objectsAudited = createAudited<ObjectStores>(
    thenTell((fn) =>
      db.kysely
        .transaction()
        .execute((trx) => fn({ objects: createObjectStore(trx), audit: createAuditStore(trx) })),
    ),
    now,
  );
  const objects = createObjectService({
    store: createObjectStore(db.kysely),
    audited: objectsAudited,
    now,
  });
  const deployments = createDeploymentService({
    source: objects,
    store: createDeploymentStore(db.kysely),
    audited: createAudited(
      (fn) =>
        db.kysely
          .transaction()
          .execute((trx) =>
            fn({ deployments: createDeploymentStore(trx), audit: createAuditStore(trx) }),
          ),
      now,
    ),
    cursors,
    now,
  });
  // Hosts as configuration: operators' changes, credentials, connectivity and discovery.
  const hostStore = createHostStore(db.kysely);
  const hostTransact: Transact<HostStores> = (fn) =>
    db.kysely
      .transaction()
      .execute((trx) => fn({ hosts: createHostStore(trx), audit: createAuditStore(trx) }));
  const hostAdmin = createHostAdmin({
    store: hostStore,
    transact: thenTell(hostTransact),
    now,
    log: (err) => logger.warn({ err }, 'bringing back a deleted host failed'),
  });
  const settings = createSettingsService({
    store: createSettingsStore(db.kysely),
    transact: (fn) =>
      db.kysely
        .transaction()
        .execute((trx) => fn({ settings: createSettingsStore(trx), audit: createAuditStore(trx) })),
    now,
  });
  const credentials = createCredentialService({
    store: createCredentialStore(db.kysely),
    transact: (fn) =>
      db.kysely
        .transaction()
        .execute((trx) =>
          fn({ credentials: createCredentialStore(trx), audit: createAuditStore(trx) }),
        ),
    hostExists: async (id) => (await hosts.get(id)) !== undefined,
    sealer,
    now,
  });
  const agentlessLog = (what: string) => (err: unknown, hostId: string) =>
    logger.warn({ err, host_id: hostId }, what);
  const connectivity = createConnectivity({
    store: hostStore,
    transact: hostTransact,
    secrets: credentials,
    config: () => settings.get('connectivity'),
    now,
    log: agentlessLog('connectivity probe failed'),
  });
  const discovery = createDiscovery({
    store: hostStore,
    transact: hostTransact,
    secrets: credentials,
    config: () => settings.get('discovery'),
    intelligence: () => settings.get('intelligence'),
    timeoutSeconds: async () => (await settings.get('connectivity')).timeout_seconds,
    now,
    log: agentlessLog('discovery failed'),
  });
  const tickets = createTicketService(
    ticketSalt(config.director.ticket_salt, config.storage.data_dir),
  );
  return {
    /** Calls `listener` after each change to configuration objects or hosts made here. */
    onConfigurationChange: (listener: () => void): void => void changeListeners.add(listener),
    objects,
    objectsAudited,
    deployments,
    hostAdmin,
    settings,
    credentials,
    connectivity,
    discovery,
    tickets,
    selfService: createSelfService({
      store: createObjectStore(db.kysely),
      objects,
      audited: objectsAudited,
      tickets,
      now,
    }),
  };
}

/** The configuration side's parts, as composeConfiguration builds them. */
export type ConfigurationParts = ReturnType<typeof composeConfiguration>;

/**
 * Registers the configuration side's routes: the native API (configuration objects, hosts'
 * administration, credentials, system settings, deployments, self-service keys) and the Icinga
 * Director face.
 */
export function configurationRoutes(
  app: App,
  parts: ConfigurationParts,
  deps: { identity: IdentityService; overview: FleetOverview },
): void {
  const { objects, deployments, selfService, hostAdmin, connectivity, discovery } = parts;
  configRoutes(app, { objects });
  deploymentRoutes(app, { deployments });
  selfServiceRoutes(app, { selfService });
  hostAdminRoutes(app, { admin: hostAdmin, overview: deps.overview, connectivity, discovery });
  credentialRoutes(app, { credentials: parts.credentials });
  systemConfigRoutes(app, {
    settings: parts.settings,
    connectivityStatus: () => connectivity.status(),
    sweepDiscovery: (ctx) => discovery.sweep(ctx),
  });
  directorFace(app, {
    authenticator: deps.identity,
    modules: [
      directorObjectRoutes(objects),
      directorDeployRoutes(deployments),
      directorSelfServiceRoutes(selfService),
      directorTicketRoutes(selfService),
    ],
  });
}
