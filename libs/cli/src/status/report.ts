/** The cluster status report: shard reports summed up, partition coverage checked, rendered as text. */
import { formatBytes, formatCount, formatRanges, formatTable } from "../format.js";
import type { ShardReport } from "./collect.js";
import {
  type PartitionRow,
  partitionTableLines,
  partitionView,
  type StateCounts,
  stateTableLines,
} from "./partitions.js";

/** Everything `stratreg status` found out (also its `--json` output). */
export interface ClusterStatus {
  cluster: string;
  /** The cluster's partition count; null if no shard answered `<cluster>.cluster.info`. */
  partitions: number | null;
  shards: ShardReport[];
  totals: { members: number; serving: number; loading: number; strategies: number; rss: number };
  /** Partitions no member serves (empty when the partition count is unknown). */
  unserved: number[];
  /** Partitions more than one member claims to serve. */
  multiServed: number[];
  /** Partitions no member holds or is taking a lease on (empty when the partition count is unknown). */
  unowned: number[];
  /** Members' claims on partitions counted by ownership state, in all and per member. */
  states: StateCounts;
  /** Every claim on a partition, and a row for each partition nobody claims; sorted by partition. */
  partitionTable: PartitionRow[];
  /** Members whose shards sent no partition details (older shards): their rows show the state only. */
  withoutPartitionDetails: string[];
  /** Whether shards answered and every partition is served by exactly one member. */
  healthy: boolean;
}

/** What the text report shows besides the member table and the coverage lines. */
export interface StatusDetail {
  /** Each member's partitions as ranges. */
  ranges?: boolean;
  /** The table of every partition. */
  partitions?: boolean;
}

/** Sums the shard reports and checks that each of the `partitions` is served exactly once. */
export function summarize(cluster: string, partitions: number | undefined, shards: ShardReport[]): ClusterStatus {
  const servers = new Map<number, number>();
  const totals = { members: shards.length, serving: 0, loading: 0, strategies: 0, rss: 0 };
  for (const { status } of shards) {
    totals.serving += status.serving.length;
    totals.loading += status.loading.length;
    totals.strategies += status.strategies;
    totals.rss += status.rss;
    for (const p of status.serving) servers.set(p, (servers.get(p) ?? 0) + 1);
  }
  const unserved: number[] = [];
  for (let p = 0; p < (partitions ?? 0); p++) if (!servers.has(p)) unserved.push(p);
  const multiServed = [...servers].filter(([, n]) => n > 1).map(([p]) => p);
  multiServed.sort((a, b) => a - b);
  const view = partitionView(shards, partitions, multiServed);
  return {
    cluster,
    partitions: partitions ?? null,
    shards,
    totals,
    unserved,
    multiServed,
    unowned: view.unowned,
    states: view.states,
    partitionTable: view.rows,
    withoutPartitionDetails: view.withoutDetails,
    healthy: partitions !== undefined && shards.length > 0 && unserved.length === 0 && multiServed.length === 0,
  };
}

/** `label: N of P (ranges)`, the ranges only when there are any. */
function countLine(label: string, partitions: readonly number[], of: number): string {
  return `${label}: ${partitions.length} of ${of}${partitions.length > 0 ? ` (${formatRanges(partitions)})` : ""}`;
}

/** The report as lines of text; `detail` adds each member's ranges and the table of every partition. */
export function statusLines(status: ClusterStatus, detail: StatusDetail = {}): string[] {
  const count = status.partitions === null ? "unknown partition count" : `${status.partitions} partitions`;
  const lines = [`cluster ${status.cluster}: ${count}, ${status.totals.members} members`];
  if (status.shards.length === 0) return [...lines, "no shard of this cluster answered"];
  const header = ["MEMBER", "SERVING", "LOADING", "STRATEGIES", "RSS", "UPTIME"];
  const rows = status.shards.map(({ status: s }) => [
    s.member,
    String(s.serving.length),
    String(s.loading.length),
    formatCount(s.strategies),
    formatBytes(s.rss),
    `${Math.round(s.uptimeMs / 1000)} s`,
  ]);
  const { totals } = status;
  const total = [
    "total",
    String(totals.serving),
    String(totals.loading),
    formatCount(totals.strategies),
    formatBytes(totals.rss),
    "",
  ];
  lines.push(...formatTable([header, ...rows, total], ["left", "right", "right", "right", "right", "right"]));
  const byState = stateTableLines(status.states);
  if (byState.length > 0) lines.push("", "partitions by state:", ...byState);
  if (detail.ranges === true) {
    lines.push("");
    for (const { status: s } of status.shards) {
      lines.push(`${s.member}: serving ${formatRanges(s.serving)}; loading ${formatRanges(s.loading)}`);
    }
  }
  if (status.partitions !== null) {
    lines.push(
      "",
      countLine("partitions served by nobody", status.unserved, status.partitions),
      countLine("partitions served by more than one member", status.multiServed, status.partitions),
      countLine("partitions with no owner", status.unowned, status.partitions),
    );
  }
  for (const member of status.withoutPartitionDetails) {
    lines.push(`${member} sent no partition details (an older shard): its partitions show their state only`);
  }
  if (detail.partitions === true) lines.push("", ...partitionTableLines(status.partitionTable));
  return lines;
}
