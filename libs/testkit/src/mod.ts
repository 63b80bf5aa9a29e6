/**
 * `@stratreg/testkit`: what stratreg's tests share — real service child processes, polling,
 * unique cluster names, operation histories that fault tests record and check, and
 * nats-server processes and clusters from `@stratreg/natsd`.
 * The vitest globalSetup (`src/global-setup.ts`) is not exported here: vitest loads it by
 * path and tests read its server with `inject("natsUrl")`.
 *
 * @packageDocumentation
 */

export {
  freePort,
  type NatsCluster,
  type NatsClusterOptions,
  type NatsServerOptions,
  type NatsServerProcess,
  startNatsCluster,
  startNatsServer,
} from "@stratreg/natsd";
export { CLUSTER_NAME_PATTERN, uniqueClusterName } from "./cluster-name.js";
export { goodEvidence, normalReturns, weakEvidence } from "./evidence.js";
export {
  classifyError,
  type ErrorOutcome,
  type FinalStateSource,
  History,
  type HistoryOptions,
  type InvokeOptions,
  type PendingOperation,
  type RunOptions,
  type RunResult,
  UNKNOWN_OUTCOME_CODES,
} from "./history.js";
export {
  checkHistory,
  type HistoryReport,
  type HistoryStats,
  type OutcomeCounts,
  type Problem,
  type ProblemKind,
  ProblemKinds,
} from "./history-check.js";
export {
  ABSENT,
  describeOperation,
  type FinalState,
  type ObservedVersion,
  type Operation,
  type OperationKind,
  OperationKinds,
  type Outcome,
  Outcomes,
  type Versioned,
  type WorkerId,
} from "./history-operation.js";
/** Brute-force reachability, the reference for dependency-graph checks. */
export { reachable } from "./reach.js";
export { refusal } from "./refusal.js";
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
/** The shipped nats-server config with a test's store dir and WebSocket port. */
export { testNatsConfig } from "./shipped-config.js";
export { strictDecode } from "./strict-msgpack.js";
export { MEAN_REVERSION } from "./templates.js";
export { type WaitForOptions, WaitForTimeoutError, waitFor } from "./wait-for.js";
