/**
 * Performance history: a strategy's reports, read back from its partition's
 * log. The log keeps every entry for the retention period even after a
 * snapshot covers it (see PartitionLog.firstSince), so the log is the history:
 * the server keeps one copy of each entry, not two. A strategy's history is
 * read from its partition's subject and reduced to at most `points` buckets.
 */
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { readSubject } from "@stratreg/fencing";
import {
  type ClusterSubjects,
  decode,
  type HistoryPoint,
  type HistoryReply,
  LogOps,
  readLogEntry,
  recordAt,
} from "@stratreg/protocol";
import { ReturnAccumulator } from "@stratreg/quant";
import type { LoggedReport } from "@stratreg/replica";
import type { Logger } from "pino";

/**
 * Says, once at start, that a cluster upgraded from a build that kept a separate history stream
 * (`<cluster>-history`, sourcing every log entry) still has it: nothing reads it any more, and
 * the server still copies every entry into it. An operator deletes it once the reports and
 * versions from before the upgrade, which only it holds, are no longer wanted.
 */
export async function warnOfFormerHistory(
  jsm: JetStreamManager,
  subjects: ClusterSubjects,
  logger: Pick<Logger, "warn">,
): Promise<boolean> {
  const stream = `${subjects.cluster}-history`;
  const found = await jsm.streams.info(stream).then(
    () => true,
    () => false,
  );
  if (found) {
    logger.warn(
      { stream },
      `the stream ${stream} is no longer read (the log is the history) but the server still copies every log entry into it; delete it (nats stream rm ${stream}) once what it holds from before the upgrade is not wanted`,
    );
  }
  return found;
}

const finite = (x: number) => (Number.isFinite(x) ? x : null);

/**
 * Reads strategy `id`'s periods with end times in [from, to] from the history
 * of its partition, and reduces them to at most `maxPoints` buckets of equal
 * period counts (open/high/low/close of wealth, so drawdowns inside a bucket
 * stay visible).
 */
export async function readHistory(
  js: JetStreamClient,
  jsm: JetStreamManager,
  subjects: ClusterSubjects,
  query: { partition: number; id: string; from: number; to: number; maxPoints: number; retentionMs: number },
  idleMs: number,
): Promise<HistoryReply> {
  const stream = subjects.logStream;
  const subject = subjects.log(query.partition);
  const times: number[] = [];
  const returns: number[] = [];
  const regimes: Array<string | null> = [];
  const last = await jsm.streams.getMessage(stream, { last_by_subj: subject }).catch(() => null);
  if (last !== null) {
    await readSubject(
      js,
      stream,
      subject,
      1,
      last.seq,
      (data) => {
        const entry = readLogEntry(data);
        if (entry.op !== LogOps.Report) return;
        entry.ids.forEach((id, i) => {
          if (id !== query.id) return;
          const report = decode(recordAt(entry, i)) as LoggedReport;
          report.times?.forEach((t, j) => {
            if (t < query.from || t > query.to) return;
            times.push(t);
            returns.push(report.returns?.[j] as number);
            regimes.push(report.regime ?? null);
          });
        });
      },
      idleMs,
    );
  }
  const n = times.length;
  const buckets = Math.min(n, Math.max(1, query.maxPoints));
  const points: HistoryPoint[] = [];
  const acc = new ReturnAccumulator();
  let wealth = 1;
  let j = 0;
  for (let b = 0; b < buckets; b++) {
    const end = Math.round(((b + 1) * n) / buckets);
    const open = wealth;
    let high = wealth;
    let low = wealth;
    const first = j;
    for (; j < end; j++) {
      acc.add(returns[j] as number);
      wealth *= 1 + (returns[j] as number);
      if (wealth > high) high = wealth;
      if (wealth < low) low = wealth;
    }
    const metrics = acc.metrics();
    points.push({
      t: times[end - 1] as number,
      open,
      high,
      low,
      close: wealth,
      periods: end - first,
      regime: regimes[end - 1] ?? null,
      sharpe: finite(metrics.sharpe),
      maxDrawdown: finite(metrics.maxDrawdown),
    });
  }
  return {
    id: query.id,
    from: query.from,
    to: query.to,
    periods: n,
    downsampled: buckets < n,
    retentionMs: query.retentionMs,
    points,
  };
}
