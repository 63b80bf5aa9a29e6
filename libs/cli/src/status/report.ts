/** The cluster status report: shard reports summed up, partition coverage checked, rendered as text. */
import { formatBytes, formatCount, formatRanges, formatTable } from "../format.js";
import type { ShardReport } from "./collect.js";

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
  /** Whether shards answered and every partition is served by exactly one member. */
  healthy: boolean;
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
  return {
    cluster,
    partitions: partitions ?? null,
    shards,
    totals,
    unserved,
    multiServed,
    healthy: partitions !== undefined && shards.length > 0 && unserved.length === 0 && multiServed.length === 0,
  };
}

/** The report as lines of text; `verbose` adds each member's partition ranges. */
export function statusLines(status: ClusterStatus, verbose: boolean): string[] {
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
  if (verbose) {
    lines.push("");
    for (const { status: s } of status.shards) {
      lines.push(`${s.member}: serving ${formatRanges(s.serving)}; loading ${formatRanges(s.loading)}`);
    }
  }
  if (status.partitions !== null) {
    const of = `of ${status.partitions}`;
    lines.push(
      `partitions served by nobody: ${status.unserved.length} ${of}${status.unserved.length > 0 ? ` (${formatRanges(status.unserved)})` : ""}`,
      `partitions served by more than one member: ${status.multiServed.length} ${of}${status.multiServed.length > 0 ? ` (${formatRanges(status.multiServed)})` : ""}`,
    );
  }
  return lines;
}
