/**
 * The checker of a recorded `History`: given the operations and the state read after
 * recovery, finds what a single-copy, linearizable registry could not have produced.
 *
 * Each strategy is a chain of versions 1, 2, 3… where every applied write (register, update,
 * retire) makes exactly one version and nothing ever makes a version smaller. Every check
 * follows from that and from real time: an operation that completed before another began took
 * effect before it. Operations are grouped per id and sorted, so a check is O(n log n).
 */
import {
  ABSENT,
  describeOperation,
  type FinalState,
  type Operation,
  type OperationKind,
  OperationKinds,
  Outcomes,
  type Versioned,
} from "./history-operation.js";

/** The kinds of problem the checker reports. */
export const ProblemKinds = {
  /** An acknowledged write, or a version a read saw, is missing after recovery. */
  LostWrite: "lost-write",
  /** Two different commands were acknowledged with the same version. */
  DuplicateVersion: "duplicate-version",
  /** A version was acknowledged, or exists after recovery, that no recorded write can account for. */
  VersionGap: "version-gap",
  /** A read returned a version that the writes invoked before it ended could not have made. */
  PhantomRead: "phantom-read",
  /** A read returned less than what an operation that ended before it began had seen or written. */
  StaleRead: "stale-read",
  /** A write was acknowledged with a version no newer than one seen before the write began. */
  RealTimeOrder: "real-time-order",
  /** A reply's version cannot be right: a register not at 1, an update or retire below 2, not a positive integer. */
  InvalidAck: "invalid-ack",
  /** Attempts of one command (one cid) were answered differently. */
  ConflictingAcks: "conflicting-acks",
} as const;
/** One of {@link ProblemKinds}. */
export type ProblemKind = (typeof ProblemKinds)[keyof typeof ProblemKinds];

/** One thing wrong with a history. */
export interface Problem {
  readonly kind: ProblemKind;
  /** The strategy id. */
  readonly id: string;
  /** What is wrong, naming the operations involved (worker, times, versions). */
  readonly message: string;
  /** The operations involved. */
  readonly operations: readonly Operation[];
}

/** How many operations of one kind ended each way. */
export interface OutcomeCounts {
  ok: number;
  fail: number;
  unknown: number;
  pending: number;
}

/** Figures of a checked history. */
export interface HistoryStats {
  /** Operations recorded. */
  readonly operations: number;
  /** Distinct strategy ids. */
  readonly ids: number;
  readonly byKind: Readonly<Record<OperationKind, Readonly<OutcomeCounts>>>;
}

/** The verdict on a history. */
export interface HistoryReport {
  /** True when no problem was found. */
  readonly ok: boolean;
  readonly problems: readonly Problem[];
  readonly stats: HistoryStats;
  /** The figures and the first `maxProblems` (default 20) problems, for a test's failure message. */
  summary(maxProblems?: number): string;
}

/** Attempts of one write command (one cid, or a lone operation without one). */
interface Command {
  readonly ops: Operation[];
  readonly invokedAt: number;
  readonly outcome: typeof Outcomes.Ok | typeof Outcomes.Fail | typeof Outcomes.Unknown;
  /** For an ok command: the version of its first acknowledgement, and when that came. */
  readonly version: number;
  readonly completedAt: number;
  readonly ack: Operation | undefined;
}

/** A version known to exist at time `at`: an ok write's reply or an ok read (absent = 0). */
interface Observation {
  readonly at: number;
  readonly version: number;
  readonly op: Operation;
}

/** How many of the ascending `sorted` are ≤ `x` (or < `x` when `strictly`). */
function countAtMost(sorted: readonly number[], x: number, strictly = false): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const y = sorted[mid] as number;
    if (y < x || (!strictly && y === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A problem's message lists at most this many operations; `Problem.operations` has them all. */
const MAX_OPS_SHOWN = 8;

const isVersion = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;

/** The final state as a map, whichever form it was given in. */
function toFinalMap(final: FinalState): ReadonlyMap<string, Versioned | undefined> {
  if (final instanceof Map) return final;
  const map = new Map<string, Versioned>();
  for (const s of final as Iterable<Versioned & { id: string }>) map.set(s.id, s);
  return map;
}

/**
 * Checks `operations` (as recorded by a `History`) against `final`, the state read after
 * recovery. Pending operations count as unknown. See {@link ProblemKinds} for what is found.
 */
export function checkHistory(operations: readonly Operation[], final: FinalState): HistoryReport {
  const finalById = toFinalMap(final);
  const origin = operations.reduce((min, op) => Math.min(min, op.invokedAt), Number.POSITIVE_INFINITY);
  const describe = (op: Operation) => describeOperation(op, Number.isFinite(origin) ? origin : 0);
  const counts = (): OutcomeCounts => ({ ok: 0, fail: 0, unknown: 0, pending: 0 });
  const byKind: Record<OperationKind, OutcomeCounts> = {
    [OperationKinds.Register]: counts(),
    [OperationKinds.Update]: counts(),
    [OperationKinds.Retire]: counts(),
    [OperationKinds.Read]: counts(),
  };
  const byId = new Map<string, Operation[]>();
  for (const op of operations) {
    byKind[op.kind][op.outcome]++;
    const ops = byId.get(op.id);
    if (ops === undefined) byId.set(op.id, [op]);
    else ops.push(op);
  }
  const problems: Problem[] = [];
  for (const [id, ops] of byId) {
    const report = (kind: ProblemKind, involved: Operation[], what: string) => {
      const shown = involved.slice(0, MAX_OPS_SHOWN).map((op) => `\n    ${describe(op)}`);
      if (involved.length > MAX_OPS_SHOWN) shown.push(`\n    … and ${involved.length - MAX_OPS_SHOWN} more`);
      problems.push({ kind, id, operations: involved, message: `${id}: ${what}${shown.join("")}` });
    };
    checkStrategy(ops, finalById.get(id)?.version, report);
  }
  const stats: HistoryStats = { operations: operations.length, ids: byId.size, byKind };
  return {
    ok: problems.length === 0,
    problems,
    stats,
    summary: (maxProblems = 20) => summarize(stats, problems, maxProblems),
  };
}

type Report = (kind: ProblemKind, involved: Operation[], what: string) => void;

/** Groups writes by command: attempts that share a cid are one command, applied at most once. */
function commandsOf(writes: readonly Operation[], report: Report): Command[] {
  const byCommand = new Map<string, Operation[]>();
  for (const op of writes) {
    const key = op.cid === undefined ? `#${op.index}` : `cid:${op.cid}`;
    const group = byCommand.get(key);
    if (group === undefined) byCommand.set(key, [op]);
    else group.push(op);
  }
  const commands: Command[] = [];
  for (const ops of byCommand.values()) {
    const acks = ops
      .filter((op) => op.outcome === Outcomes.Ok)
      .sort((a, b) => (a.completedAt ?? 0) - (b.completedAt ?? 0));
    const ack = acks[0];
    if (ack !== undefined) {
      // Check 4: a retry is answered from the command's record, never anew.
      const refused = ops.filter((op) => op.outcome === Outcomes.Fail);
      if (acks.some((op) => op.version !== ack.version) || refused.length > 0) {
        report(
          ProblemKinds.ConflictingAcks,
          [...acks, ...refused],
          `one command (cid ${ack.cid}) was answered differently`,
        );
      }
    }
    const inDoubt = ops.some((op) => op.outcome !== Outcomes.Fail);
    commands.push({
      ops,
      // The command may take effect once its first attempt is sent.
      invokedAt: Math.min(...ops.map((op) => op.invokedAt)),
      outcome: ack !== undefined ? Outcomes.Ok : inDoubt ? Outcomes.Unknown : Outcomes.Fail,
      version: typeof ack?.version === "number" ? ack.version : Number.NaN,
      completedAt: ack?.completedAt ?? Number.POSITIVE_INFINITY,
      ack,
    });
  }
  return commands;
}

/** What the checks of one strategy work from. */
interface Facts {
  readonly writes: readonly Operation[];
  /** Acknowledged commands with a plausible version, ascending by version. */
  readonly acked: readonly AckedCommand[];
  /** Commands that may or may not have taken effect. */
  readonly unknown: readonly Command[];
  /** Successful reads. */
  readonly reads: readonly Operation[];
  /** The version after recovery; 0 when the strategy is absent. */
  readonly recovered: number;
  /** The end of a message about the state after recovery. */
  readonly after: string;
}

type AckedCommand = Command & { readonly ack: Operation };

/** The version a successful read saw; absent is 0, below every version. */
const readVersion = (op: Operation) => (typeof op.version === "number" ? op.version : 0);

function checkStrategy(ops: readonly Operation[], finalVersion: number | undefined, report: Report): void {
  const writes = ops.filter((op) => op.kind !== OperationKinds.Read);
  const commands = commandsOf(writes, report);
  const acked: AckedCommand[] = [];
  for (const command of commands) {
    if (command.ack === undefined) continue;
    const { kind } = command.ack;
    const v = command.version;
    if (!isVersion(v) || (kind === OperationKinds.Register ? v !== 1 : v < 2)) {
      report(ProblemKinds.InvalidAck, [command.ack], `a ${kind} cannot be acknowledged with version ${v}`);
    }
    // A version that is not a positive integer would only confuse the arithmetic below.
    if (isVersion(v)) acked.push(command as AckedCommand);
  }
  acked.sort((a, b) => a.version - b.version);
  const facts: Facts = {
    writes,
    acked,
    unknown: commands.filter((c) => c.outcome === Outcomes.Unknown),
    reads: ops.filter((op) => op.kind === OperationKinds.Read && op.outcome === Outcomes.Ok),
    recovered: finalVersion ?? 0,
    after:
      finalVersion === undefined ? "the strategy is absent after recovery" : `after recovery it is at v${finalVersion}`,
  };
  checkDistinctVersions(facts, report);
  checkChain(facts, report);
  checkRealTime(facts, report);
}

/**
 * Check 2a: distinct commands make distinct versions. With check 1, this also bounds the
 * recovered version from below: n distinct acknowledged versions, each ≤ it, make it ≥ n.
 */
function checkDistinctVersions({ acked }: Facts, report: Report): void {
  for (let i = 0; i < acked.length; ) {
    let j = i + 1;
    while (j < acked.length && acked[j]?.version === acked[i]?.version) j++;
    if (j - i > 1) {
      const same = acked.slice(i, j).map((c) => c.ack);
      report(
        ProblemKinds.DuplicateVersion,
        same,
        `${j - i} different commands were acknowledged with v${acked[i]?.version}`,
      );
    }
    i = j;
  }
}

/**
 * Checks 1 and 2b. Versions never go down, so nothing acknowledged or seen may be missing after
 * recovery. And versions 1..v exist at time t only if at least v writes could have made them by
 * then: every acknowledged write of a version ≤ v, and the writes in doubt invoked by t.
 */
function checkChain({ writes, acked, unknown, reads, recovered, after }: Facts, report: Report): void {
  for (const c of acked) {
    if (c.version > recovered) report(ProblemKinds.LostWrite, [c.ack], `acknowledged v${c.version}, but ${after}`);
  }
  const ackedVersions = acked.map((c) => c.version);
  const unknownInvokes = unknown.map((c) => c.invokedAt).sort((a, b) => a - b);
  const makers = (v: number, t: number) => countAtMost(ackedVersions, v) + countAtMost(unknownInvokes, t);
  const explain = (v: number, t: number) =>
    `only ${makers(v, t)} recorded writes (${countAtMost(ackedVersions, v)} acknowledged at ≤ v${v}, ` +
    `${countAtMost(unknownInvokes, t)} of unknown outcome) could have made versions 1..${v}`;
  let gap = false;
  for (const c of [...acked].sort((a, b) => a.completedAt - b.completedAt)) {
    if (makers(c.version, c.completedAt) < c.version) {
      const what = `acknowledged v${c.version}, but ${explain(c.version, c.completedAt)}`;
      report(ProblemKinds.VersionGap, [c.ack], what);
      gap = true; // one gap explains the acknowledgements after it; report it once
      break;
    }
  }
  for (const r of reads) {
    const v = readVersion(r);
    const t = r.completedAt ?? Number.POSITIVE_INFINITY;
    if (makers(v, t) < v) report(ProblemKinds.PhantomRead, [r], `a read returned v${v}, but by then ${explain(v, t)}`);
    // A version that was visible must survive recovery (a phantom is already reported above).
    else if (v > recovered) report(ProblemKinds.LostWrite, [r], `a read saw v${v}, but ${after}`);
  }
  const end = Number.POSITIVE_INFINITY;
  if (!gap && recovered > 0 && makers(recovered, end) < recovered) {
    report(
      ProblemKinds.VersionGap,
      [...writes],
      `after recovery it is at v${recovered}, but ${explain(recovered, end)}`,
    );
  }
}

/**
 * Checks 3 and 2c: an operation that began after another ended takes effect after it, so a read
 * returns at least, and a write makes more than, the highest version seen before it began.
 */
function checkRealTime({ acked, reads }: Facts, report: Report): void {
  const seen: Observation[] = [
    ...acked.map((c) => ({ at: c.completedAt, version: c.version, op: c.ack })),
    ...reads.map((r) => ({ at: r.completedAt ?? Number.POSITIVE_INFINITY, version: readVersion(r), op: r })),
  ].sort((a, b) => a.at - b.at);
  const times = seen.map((o) => o.at);
  const highest: Observation[] = []; // highest[i]: the highest observation among seen[0..i]
  for (const o of seen) {
    const top = highest[highest.length - 1];
    highest.push(top === undefined || o.version > top.version ? o : top);
  }
  const highestBefore = (t: number) => {
    const n = countAtMost(times, t, true); // strictly before t: a tie is concurrency
    return n === 0 ? undefined : highest[n - 1];
  };
  for (const r of reads) {
    const before = highestBefore(r.invokedAt);
    if (before !== undefined && readVersion(r) < before.version) {
      const what = r.version === ABSENT ? "found nothing" : `returned v${r.version}`;
      const by = `${before.op.kind} #${before.op.index}`;
      report(ProblemKinds.StaleRead, [before.op, r], `a read ${what} after ${by} had ended with v${before.version}`);
    }
  }
  for (const c of acked) {
    const before = highestBefore(c.invokedAt);
    if (before !== undefined && c.version <= before.version) {
      const what = `acknowledged v${c.version}, but v${before.version} was seen before the write began`;
      report(ProblemKinds.RealTimeOrder, [before.op, ...c.ops], what);
    }
  }
}

function summarize(stats: HistoryStats, problems: readonly Problem[], maxProblems: number): string {
  const kinds = Object.entries(stats.byKind)
    .map(
      ([kind, c]) =>
        `${kind} ${c.ok} ok/${c.fail} fail/${c.unknown} unknown${c.pending ? `/${c.pending} pending` : ""}`,
    )
    .join(", ");
  const head = `${stats.operations} operations on ${stats.ids} strategies (${kinds})`;
  if (problems.length === 0) return `history OK: ${head}`;
  const byKind = new Map<ProblemKind, number>();
  for (const p of problems) byKind.set(p.kind, (byKind.get(p.kind) ?? 0) + 1);
  const tally = [...byKind].map(([kind, n]) => `${n} ${kind}`).join(", ");
  const shown = problems.slice(0, maxProblems).map((p) => `- ${p.kind} ${p.message}`);
  const more = problems.length > maxProblems ? [`… and ${problems.length - maxProblems} more`] : [];
  return [
    `history has ${problems.length} problem${problems.length === 1 ? "" : "s"} (${tally}): ${head}`,
    ...shown,
    ...more,
  ].join("\n");
}
