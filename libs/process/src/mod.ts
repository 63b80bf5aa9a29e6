/**
 * @stratreg/process: what every stratreg service process shares.
 * @module
 */

/** The NATS connection and lifecycle-actor logging every service process shares. */
export { connectService, logStates, type WatchedActor } from "./connection.js";
/** Answering requests: replies where asked for, errors as wire error replies, counted. */
export { type Endpoint, serveEndpoints, watchService } from "./endpoints.js";
/** The shared process entry: config, logs, start, graceful stop on signals. */
export { EXIT_CONFIG, type RunningService, runService, type ServiceEntry } from "./entry.js";
export { type Replies, type ReplyCounters, replies } from "./replies.js";
/** Settings from the environment or flags, checked and named in errors. */
export { intSetting, type MemberSettings, memberSettings, type ServiceFlags, serviceFlags } from "./settings.js";
