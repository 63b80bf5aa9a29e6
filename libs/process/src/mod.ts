/**
 * @stratreg/process: what every stratreg service process shares.
 * @module
 */

/** The shared process entry: config, logs, start, graceful stop on signals. */
export { EXIT_CONFIG, type RunningService, runService, type ServiceEntry } from "./entry.js";
/** Integer settings from the environment or flags, checked and named in errors. */
export { intSetting } from "./settings.js";
