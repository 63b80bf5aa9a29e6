/**
 * `@stratreg/natsd`: starts and supervises real nats-server child processes — the
 * launcher's embedded server and every test's own server or 3-node JetStream cluster.
 *
 * @packageDocumentation
 */

export { type NatsCluster, type NatsClusterOptions, startNatsCluster } from "./cluster.js";
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
