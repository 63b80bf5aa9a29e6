/**
 * @stratreg/search: finding strategies. Pure, no I/O: the search service keeps
 * these indexes from the partition logs and answers queries with them.
 * @module
 */

/** The metric names a filter may compare (one per ranking metric). */
export { METRICS } from "@stratreg/protocol";
