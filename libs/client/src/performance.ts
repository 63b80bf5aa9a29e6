/**
 * Performance reports from the SDK: any number of reports, for strategies of
 * any partitions, grouped by partition and sent in batches (each one log entry,
 * each with its own command id, retried with it until its deadline).
 */
import { nuid } from "@nats-io/transport-node";
import { PartitionOps, PerformanceLimits, type PerformanceReport, type ReportReply } from "@stratreg/protocol";
import type { CallOptions, StratregClient } from "./client.js";

/** What {@link StratregClient.report} did: the partitions' replies merged, indexes into the caller's array. */
export type ReportResult = ReportReply;

/**
 * Sends `reports` grouped by partition, up to 1000 per request, `concurrency`
 * requests at a time. Two reports of one strategy keep their order (they are in
 * one partition's batches, sent one after another). Throws the first failure
 * once every batch has finished; batches that succeeded stay applied.
 */
export async function reportPerformance(
  client: StratregClient,
  reports: PerformanceReport[],
  options: CallOptions & { concurrency?: number } = {},
): Promise<ReportResult> {
  const byPartition = new Map<number, number[]>();
  reports.forEach((report, i) => {
    const p = client.partitionOf(report.id);
    const group = byPartition.get(p);
    if (group === undefined) byPartition.set(p, [i]);
    else group.push(i);
  });
  const result: ReportResult = { accepted: 0, periods: 0, trades: 0, duplicates: [], gaps: [], late: [], rejected: [] };
  const groups = [...byPartition];
  let failure: unknown;
  const sendGroup = async ([partition, indexes]: [number, number[]]) => {
    for (let start = 0; start < indexes.length; start += PerformanceLimits.reportsMax) {
      const chunk = indexes.slice(start, start + PerformanceLimits.reportsMax);
      const reply = await client.send(
        partition,
        PartitionOps.Report,
        { reports: chunk.map((i) => reports[i]) },
        { timeoutMs: options.timeoutMs, cid: nuid.next(), issued: Date.now() },
        true,
      );
      result.accepted += reply.accepted;
      result.periods += reply.periods;
      result.trades += reply.trades;
      result.duplicates.push(...reply.duplicates);
      result.gaps.push(...reply.gaps);
      result.late.push(...reply.late);
      for (const r of reply.rejected) result.rejected.push({ ...r, index: chunk[r.index] ?? -1 });
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < groups.length) {
      const group = groups[next++] as [number, number[]];
      await sendGroup(group).catch((err: unknown) => {
        failure ??= err;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 16, groups.length)) }, worker));
  if (failure !== undefined) throw failure;
  result.rejected.sort((a, b) => a.index - b.index);
  return result;
}
