/**
 * @stratreg/versions-service: a process that keeps every version of every
 * strategy (copied once from the partition logs into a stream of its own) and
 * answers log, show, diff, rollback, branches, merge and tags on
 * `<cluster>.versions.<op>` (docs/adr/016).
 * @module
 */
export { loadConfig, type VersionsConfig } from "./config.js";
export { answers, createVersionsMachine, VersionsEvents, type VersionsState, VersionsStates } from "./machine.js";
export { VERSIONS_VERSION, VersionsProcess } from "./versions.js";
