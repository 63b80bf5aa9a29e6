/**
 * The partition view of the cluster status: one row per member's claim on a
 * partition (a lease held or being taken), the claims counted by state, and
 * the partitions that need a look. Built from each shard's `status.partitions`;
 * shards too old to send it still count, by their `serving` and `loading` lists.
 */
import type { PartitionStatus } from "@stratreg/protocol";
import { formatCount, formatTable } from "../format.js";
import type { ShardReport } from "./collect.js";

/** Why a partition row is flagged. */
export const PartitionFlags = {
  /** More than one member says it serves the partition. */
  MultiServed: "multi-served",
  /** No member holds or is taking the partition's lease. */
  NoOwner: "no-owner",
} as const;
export type PartitionFlag = (typeof PartitionFlags)[keyof typeof PartitionFlags];

/** The state of a row for a partition no member claims. */
export const UNOWNED = "unowned";

/**
 * One member's claim on one partition, or (owner null) a partition nobody claims.
 * The numbers are the shard's PartitionStatus; null when the shard sent no details.
 */
export interface PartitionRow {
  partition: number;
  owner: string | null;
  /** The shard's ownership state (acquiring, loading, retrying, serving, handing-off), or `unowned`. */
  state: string;
  epoch: number | null;
  /** Milliseconds since the lease was renewed; -1 while no lease is held. */
  leaseAgeMs: number | null;
  logSeq: number | null;
  snapshotSeq: number | null;
  queued: number | null;
  strategies: number | null;
  flag: PartitionFlag | null;
}

/** Claims counted by state, for the whole cluster and for each member. */
export interface StateCounts {
  total: Record<string, number>;
  members: Record<string, Record<string, number>>;
}

/** The partition view: rows, counts, and what the report flags. */
export interface PartitionView {
  rows: PartitionRow[];
  states: StateCounts;
  /** Partitions no member holds or takes (empty when the partition count is unknown). */
  unowned: number[];
  /** Members whose shards sent no partition details (older shards): their rows carry the state only. */
  withoutDetails: string[];
}

/** The shard's ownership states in the order a partition moves through them. */
const STATE_ORDER = ["acquiring", "loading", "retrying", "serving", "handing-off"];

/** A row with no numbers: a partition nobody claims, or a claim of a shard that sent no details. */
function bareRow(partition: number, owner: string | null, state: string, flag: PartitionFlag | null): PartitionRow {
  const unknown = { epoch: null, leaseAgeMs: null, logSeq: null, snapshotSeq: null, queued: null, strategies: null };
  return { partition, owner, state, ...unknown, flag };
}

function rowsOf({ status }: ShardReport): PartitionRow[] {
  if (status.partitions === undefined) {
    // An older shard says only which partitions it serves and which it is still getting.
    return [
      ...status.serving.map((p) => bareRow(p, status.member, "serving", null)),
      ...status.loading.map((p) => bareRow(p, status.member, "loading", null)),
    ];
  }
  return status.partitions.map((p: PartitionStatus) => ({
    partition: p.partition,
    owner: status.member,
    state: p.state,
    epoch: p.epoch,
    leaseAgeMs: p.leaseAgeMs,
    logSeq: p.logSeq,
    snapshotSeq: p.snapshotSeq,
    queued: p.queued,
    strategies: p.strategies,
    flag: null,
  }));
}

/**
 * The partition view of `shards` in a cluster of `partitions` (undefined: unknown count).
 * `multiServed` is the coverage check's list, whose rows get flagged.
 */
export function partitionView(
  shards: ShardReport[],
  partitions: number | undefined,
  multiServed: readonly number[],
): PartitionView {
  const contested = new Set(multiServed);
  const rows = shards.flatMap(rowsOf);
  const states: StateCounts = { total: {}, members: {} };
  for (const { status } of shards) states.members[status.member] = {};
  for (const row of rows) {
    if (contested.has(row.partition)) row.flag = PartitionFlags.MultiServed;
    const member = states.members[row.owner ?? ""] ?? {};
    member[row.state] = (member[row.state] ?? 0) + 1;
    states.total[row.state] = (states.total[row.state] ?? 0) + 1;
  }
  const claimed = new Set(rows.map((row) => row.partition));
  const unowned: number[] = [];
  for (let p = 0; p < (partitions ?? 0); p++) {
    if (claimed.has(p)) continue;
    unowned.push(p);
    rows.push(bareRow(p, null, UNOWNED, PartitionFlags.NoOwner));
  }
  rows.sort((a, b) => a.partition - b.partition || (a.owner ?? "").localeCompare(b.owner ?? ""));
  const withoutDetails = shards.filter((s) => s.status.partitions === undefined).map((s) => s.status.member);
  return { rows, states, unowned, withoutDetails };
}

/** States in display order: the known ones as a partition moves through them, then any others. */
function orderedStates(counts: Record<string, number>): string[] {
  const known = STATE_ORDER.filter((state) => state in counts);
  const others = Object.keys(counts)
    .filter((state) => !STATE_ORDER.includes(state))
    .sort();
  return [...known, ...others];
}

/** The claims by state as a table: one row per member, a column per state seen, and a total. */
export function stateTableLines(states: StateCounts): string[] {
  const columns = orderedStates(states.total);
  if (columns.length === 0) return [];
  const count = (counts: Record<string, number>, state: string) => formatCount(counts[state] ?? 0);
  const rows = Object.entries(states.members)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([member, counts]) => [member, ...columns.map((state) => count(counts, state))]);
  const header = ["MEMBER", ...columns.map((state) => state.toUpperCase())];
  const total = ["total", ...columns.map((state) => count(states.total, state))];
  return formatTable([header, ...rows, total], ["left", ...columns.map(() => "right" as const)]);
}

const cell = (value: number | null): string => (value === null || value < 0 ? "-" : String(value));

/** Every partition row as a table; unknown numbers (and the lease age of a partition without a lease) show as `-`. */
export function partitionTableLines(rows: readonly PartitionRow[]): string[] {
  const header = [
    "PARTITION",
    "OWNER",
    "STATE",
    "EPOCH",
    "LEASE AGE (ms)",
    "LOG SEQ",
    "SNAPSHOT SEQ",
    "QUEUED",
    "STRATEGIES",
    "FLAG",
  ];
  const body = rows.map((row) => [
    String(row.partition),
    row.owner ?? "-",
    row.state,
    cell(row.epoch),
    cell(row.leaseAgeMs),
    cell(row.logSeq),
    cell(row.snapshotSeq),
    cell(row.queued),
    cell(row.strategies),
    row.flag ?? "",
  ]);
  const align = ["right", "left", "left", "right", "right", "right", "right", "right", "right", "left"] as const;
  return formatTable([header, ...body], align);
}
