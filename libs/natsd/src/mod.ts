/**
 * `@stratreg/natsd`: starts and supervises real nats-server child processes — the
 * launcher's embedded server and every test's own server or 3-node JetStream cluster —
 * and finds a nats-server new enough for what it is asked to run, fetching Debian's build
 * into the project's `.nats-server/` folder when the machine's is missing or too old.
 *
 * @packageDocumentation
 */

export { NATS_SERVER_CACHE_DIR_ENV, natsServerCacheDir } from "./cache.js";
export { type NatsCluster, type NatsClusterOptions, startNatsCluster } from "./cluster.js";
export {
  DEFAULT_DEBIAN_SUITES,
  type EnsuredNatsServer,
  type EnsureNatsServerOptions,
  ensureNatsServer,
} from "./ensure.js";
export {
  NatsdError,
  type NatsdErrorCode,
  NatsdErrorCodes,
  type NatsdErrorOptions,
  NatsServerNotFoundError,
  NatsServerStartError,
} from "./errors.js";
export {
  DEFAULT_NATS_SERVER_PATHS,
  type FindNatsServerOptions,
  findNatsServer,
  NATS_INSTALL_HINT,
  natsServerVersion,
  parseNatsServerVersion,
  requireNatsServer,
} from "./find.js";
export { freePort } from "./ports.js";
export { fetchServerInfo, type NatsServerInfo } from "./probe.js";
export { killOnExit } from "./reaper.js";
export {
  type NatsClusterRouteOptions,
  type NatsServerKillSignal,
  type NatsServerOptions,
  type NatsServerProcess,
  startNatsServer,
} from "./server.js";
export {
  compareVersions,
  isAtLeast,
  MIN_NATS_SERVER_VERSION,
  REPLICATED_NATS_SERVER_VERSION,
  SYNC_ALWAYS_NATS_SERVER_VERSION,
} from "./version.js";
