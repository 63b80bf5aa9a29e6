/**
 * Performance history: the JetStream stream `<cluster>-history` sources every
 * partition log (`<cluster>.log.*`), so each report entry is kept there for the
 * retention period even after the log itself is compacted below a snapshot.
 * The copy is made by the server, durably and in order, and costs the shards
 * nothing on the write path. A strategy's history is read back from its
 * partition's subject and reduced to at most `points` buckets.
 */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  StorageType,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
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

/** The history stream's name. */
export function historyStream(subjects: ClusterSubjects): string {
  return `${subjects.cluster}-history`;
}

/** Creates the history stream if it is not there (another shard may create it first). */
export async function ensureHistoryStream(
  jsm: JetStreamManager,
  subjects: ClusterSubjects,
  replicas: number,
  retentionMs: number,
): Promise<void> {
  const name = historyStream(subjects);
  try {
    await jsm.streams.info(name);
    return;
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.StreamNotFound) throw err;
  }
  try {
    await jsm.streams.add({
      name,
      sources: [{ name: subjects.logStream, filter_subject: subjects.logAll }],
      storage: StorageType.File,
      num_replicas: replicas,
      max_age: nanos(retentionMs),
    });
  } catch (err) {
    await jsm.streams.info(name).catch(() => {
      throw err;
    });
  }
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
  const stream = historyStream(subjects);
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
