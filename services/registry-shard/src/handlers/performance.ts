/**
 * report (a write), perf, ranking and topk. Reports are checked at the edge,
 * then in the write queue each is classified against what was applied before
 * (duplicate, late, gap, unknown or retired strategy); those applied go to the
 * log as one entry, whose records are the reports themselves.
 */
import {
  decode,
  decodeStrategy,
  ErrorCodes,
  LifecycleStates,
  type LogEntry,
  LogOps,
  MsgpackScanner,
  metricRecord,
  NotFoundError,
  PartitionOps,
  type PartitionStamp,
  type PerformanceReply,
  parseRequest,
  type ReportReply,
  UnavailableError,
  ValidationError,
} from "@stratreg/protocol";
import { type LoggedReport, MISSING_MAX } from "@stratreg/replica";
import type { Partition } from "../partition.js";
import { checkPartition } from "./reads.js";
import { okReply } from "./reply.js";
import { commit, entryOf, writeOnce } from "./writes.js";

/** Points in a history reply unless the query asks for another number. */
const DEFAULT_HISTORY_POINTS = 500;

/** What a report is checked against: the strategy's last report, its last period and the numbers it skipped. */
interface ReportState {
  seq: number;
  lastAt: number;
  missing: readonly number[];
}

/** Why `report` cannot follow `state`, or undefined if it can. */
export function classifyReport(
  state: ReportState,
  report: { seq: number; times?: number[] | undefined },
): "duplicate" | "late" | "times" | undefined {
  if (report.seq <= state.seq) return state.missing.includes(report.seq) ? "late" : "duplicate";
  const first = report.times?.[0];
  if (first !== undefined && !Number.isNaN(state.lastAt) && first <= state.lastAt) return "times";
  return undefined;
}

/** The reply of a report command, rebuilt from its log entry (a retry gets the first reply). */
export function reportReplyFromEntry(entry: Pick<LogEntry, "recs" | "rejected" | "outcome">): ReportReply {
  let periods = 0;
  let trades = 0;
  for (const rec of entry.recs) {
    const report = decode(rec) as LoggedReport;
    periods += report.returns?.length ?? 0;
    trades += report.trades?.length ?? 0;
  }
  const outcome = (entry.outcome ?? {}) as Partial<ReportReply>;
  return {
    accepted: entry.recs.length,
    periods,
    trades,
    duplicates: outcome.duplicates ?? [],
    gaps: outcome.gaps ?? [],
    late: outcome.late ?? [],
    rejected: (entry.rejected ?? []) as ReportReply["rejected"],
  };
}

function stateOf(partition: Partition, id: string): string | undefined {
  const perf = partition.performance.get(id);
  if (perf !== undefined) return partition.performance.attributes(id, perf).state;
  const bytes = partition.store.get(id);
  return bytes === undefined ? undefined : decodeStrategy(bytes).state;
}

export function report(partition: Partition, payload: Uint8Array): Promise<Uint8Array> {
  const request = parseRequest(PartitionOps.Report, payload);
  const { reports } = request.body;
  reports.forEach((r, i) => {
    checkPartition(partition, r.id, () => `body.reports[${i}].id`);
    const periods = r.returns?.length ?? 0;
    if ((r.times?.length ?? 0) !== periods) {
      throw new ValidationError(
        ErrorCodes.InvalidField,
        `body.reports[${i}].times must hold one period end time per return (${periods})`,
        { field: `body.reports[${i}].times` },
      );
    }
    r.times?.forEach((t, j) => {
      if (j > 0 && t <= (r.times?.[j - 1] as number)) {
        throw new ValidationError(ErrorCodes.InvalidField, `body.reports[${i}].times must be strictly increasing`, {
          field: `body.reports[${i}].times[${j}]`,
        });
      }
    });
  });
  // Each report is logged as the bytes it came in (its id included), not encoded again.
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const scanner = new MsgpackScanner(bytes, true);
  const ranges = scanner.arrayItems(scanner.mapValue(scanner.mapValue(0, "body") as number, "reports") as number);
  return writeOnce(partition, request, async () => {
    const entry = entryOf(partition, LogOps.Report, request.cid, Date.now());
    const values: LoggedReport[] = [];
    entry.values = values;
    const result: ReportReply = {
      accepted: 0,
      periods: 0,
      trades: 0,
      duplicates: [],
      gaps: [],
      late: [],
      rejected: [],
    };
    // Several reports of one strategy in a batch: each is checked against those before it.
    const pending = new Map<string, ReportState>();
    for (const [index, r] of reports.entries()) {
      const reject = (code: string, message: string) =>
        result.rejected.push({ index, id: r.id, error: { code, message, retryable: false } });
      const strategyState = stateOf(partition, r.id);
      if (strategyState === undefined) {
        reject(ErrorCodes.NotFound, `no strategy ${r.id}`);
        continue;
      }
      if (strategyState === LifecycleStates.Retired) {
        reject(ErrorCodes.Retired, `strategy ${r.id} is retired: it takes no more reports`);
        continue;
      }
      const perf = partition.performance.get(r.id);
      const state: ReportState = pending.get(r.id) ?? {
        seq: perf?.seq ?? 0,
        lastAt: perf?.lastAt ?? Number.NaN,
        missing: perf?.missing ?? [],
      };
      const problem = classifyReport(state, r);
      if (problem === "duplicate") result.duplicates.push({ id: r.id, seq: r.seq });
      else if (problem === "late") result.late.push({ id: r.id, seq: r.seq, last: state.seq });
      else if (problem === "times") {
        reject(
          ErrorCodes.InvalidField,
          `body.reports[${index}].times must come after the last period reported (${state.lastAt})`,
        );
      }
      if (problem !== undefined) continue;
      if (r.seq > state.seq + 1) result.gaps.push({ id: r.id, expected: state.seq + 1, got: r.seq });
      // Only the most recent skipped numbers are remembered (as the book does): a jump of a billion costs nothing.
      const missing = [...state.missing];
      for (let s = Math.max(state.seq + 1, r.seq - MISSING_MAX); s < r.seq; s++) missing.push(s);
      if (missing.length > MISSING_MAX) missing.splice(0, missing.length - MISSING_MAX);
      pending.set(r.id, { seq: r.seq, lastAt: r.times?.[r.times.length - 1] ?? state.lastAt, missing });
      const [start, end] = ranges[index] as [number, number, number];
      entry.ids.push(r.id);
      entry.recs.push(bytes.subarray(start, end));
      values.push(r);
      result.accepted++;
      result.periods += r.returns?.length ?? 0;
      result.trades += r.trades?.length ?? 0;
    }
    if (result.rejected.length > 0) entry.head.rejected = result.rejected as LogEntry["rejected"];
    const { duplicates, gaps, late } = result;
    if (duplicates.length + gaps.length + late.length > 0) entry.head.outcome = { duplicates, gaps, late };
    if (entry.ids.length === 0) return okReply({ ...result });
    return commit(partition, entry, () => okReply({ ...result }));
  });
}

function stampOf(partition: Partition): PartitionStamp {
  return { partition: partition.id, epoch: partition.lease.epoch, seq: partition.lastSeq };
}

export function perf(partition: Partition, payload: Uint8Array): Uint8Array {
  const { id } = parseRequest(PartitionOps.Perf, payload).body;
  checkPartition(partition, id, "body.id");
  const bytes = partition.store.get(id);
  if (bytes === undefined) throw new NotFoundError(`no strategy ${id}`, { details: { id } });
  const book = partition.performance.get(id);
  const strategy = decodeStrategy(bytes);
  const known = book !== undefined && book.returns.count > 0;
  const vectors = book?.metricVectors();
  const metrics = book?.returns.metrics();
  const finite = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : null);
  const reply: PerformanceReply = {
    id,
    seq: book?.seq ?? 0,
    missing: book?.missing ?? [],
    conventions: { ...(book?.returns.conventions ?? { periodsPerYear: 252, riskFree: 0, mar: 0 }) },
    periods: book?.returns.count ?? 0,
    trades: book?.trades.count ?? 0,
    since: known ? finite(book.since) : null,
    lastAt: known ? finite(book.lastAt) : null,
    metrics: metricRecord(vectors?.overall ?? []),
    moments: { mean: finite(metrics?.mean), skewness: finite(metrics?.skewness), kurtosis: finite(metrics?.kurtosis) },
    regimes: Object.fromEntries(
      [...(book?.regimes ?? [])].map(([name, acc]) => {
        const m = acc.metrics();
        return [
          name,
          {
            periods: acc.count,
            metrics: metricRecord(vectors?.regimes[name] ?? []),
            moments: { mean: finite(m.mean), skewness: finite(m.skewness), kurtosis: finite(m.kurtosis) },
          },
        ];
      }),
    ),
    family: strategy.family,
    state: strategy.state,
    stamp: stampOf(partition),
  };
  return okReply({ ...reply });
}

export function ranking(partition: Partition, payload: Uint8Array): Uint8Array {
  const query = parseRequest(PartitionOps.Ranking, payload).body;
  const answer = partition.rankings.query(query);
  return okReply({ stamp: stampOf(partition), ...answer });
}

export async function history(partition: Partition, payload: Uint8Array): Promise<Uint8Array> {
  const { id, from, to, points } = parseRequest(PartitionOps.History, payload).body;
  checkPartition(partition, id, "body.id");
  if (!partition.store.has(id)) throw new NotFoundError(`no strategy ${id}`, { details: { id } });
  const reply = await partition.context.history({
    partition: partition.id,
    id,
    from: from ?? 0,
    to: to ?? Number.MAX_SAFE_INTEGER,
    maxPoints: points ?? DEFAULT_HISTORY_POINTS,
  });
  return okReply({ ...reply });
}

export function topk(partition: Partition, payload: Uint8Array): Uint8Array {
  parseRequest(PartitionOps.TopK, payload);
  const current = partition.rankings.current();
  if (current === undefined) {
    throw new UnavailableError(ErrorCodes.Unavailable, `partition ${partition.id} has not published its rankings yet`);
  }
  return okReply({ ...current });
}
