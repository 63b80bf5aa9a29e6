/**
 * @stratreg/risk-guard: the risk guard service, for the launcher and the tests to run in
 * process. Trading services talk to it over NATS (see the SDK's `RiskClient`).
 * @module
 */

/** The book of positions, reservations and exposures, and its records (what replaying the log applies). */
export { type BookState, RiskBook } from "./book/book.js";
/** Worst-case exposures of a scope's totals, as the limits judge them. */
export { type ScopeTotals, worstGross, worstNet } from "./book/limits.js";
export {
  type CheckRecord,
  decodeEntry,
  encodeEntry,
  RecordKinds,
  type RiskEntry,
  type RiskRecord,
} from "./book/records.js";
/** The guard's configuration. */
export { type GuardConfig, loadConfig } from "./config.js";
/** The guard process. */
export { GUARD_VERSION, Guard } from "./guard.js";
/** Its lifecycle. */
export { type GuardState, GuardStates } from "./machine.js";
/** The exposure report, computed from a book (what `exposure` answers). */
export { exposureReply } from "./reports.js";
