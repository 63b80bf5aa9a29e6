/**
 * `@stratreg/testkit`: what stratreg's tests share — real service child processes, polling,
 * unique cluster names, and nats-server processes and clusters from `@stratreg/natsd`.
 * The vitest globalSetup (`src/global-setup.ts`) is not exported here: vitest loads it by
 * path and tests read its server with `inject("natsUrl")`.
 *
 * @packageDocumentation
 */

export {
  type NatsCluster,
  type NatsClusterOptions,
  type NatsServerOptions,
  type NatsServerProcess,
  startNatsCluster,
  startNatsServer,
} from "@stratreg/natsd";
export { CLUSTER_NAME_PATTERN, uniqueClusterName } from "./cluster-name.js";
export {
  type ExitStatus,
  type LogMatch,
  type LogPredicate,
  type ServiceKillSignal,
  type ServiceProcess,
  type SpawnServiceOptions,
  spawnService,
  WaitForLogError,
  type WaitForLogOptions,
} from "./service-process.js";
export { type WaitForOptions, WaitForTimeoutError, waitFor } from "./wait-for.js";
