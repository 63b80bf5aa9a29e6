/**
 * Figures of the risk guard, on a cluster of its own (2 registry shards, a
 * ranker and 2 risk guards on the bench's nats-server), each beside its
 * baseline in the same run: pre-trade checks at 64 in flight and one at a time
 * beside a raw echo of the same request and reply sizes, the mean records per
 * log entry (group commit), halt → last follower acknowledgement, and the time
 * from a SIGKILL of the active guard to the first check the standby answers.
 *
 * The guards are spawned here, not by a supervisor, so that nothing restarts a
 * killed leader behind the measurement's back: the bench starts it again itself
 * once the other guard leads, and waits for it to stand by.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { DiscardPolicy, jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect, nuid } from "@nats-io/transport-node";
import { clusterStatus, RiskClient, StratregClient } from "@stratreg/client";
import { sampleStrategies, serviceEntry } from "@stratreg/launcher";
import { killOnExit } from "@stratreg/natsd";
import {
  type CheckRequest,
  decode,
  encode,
  PROTOCOL_VERSION,
  RankerOps,
  type Reply,
  RiskOps,
  type TradingCommandReply,
} from "@stratreg/protocol";
import { type Server, supervisor } from "./cluster.js";
import { closedLoop, type LoopResult } from "./loop.js";
import { fmt, tableRow } from "./table.js";

const CLUSTER = "bench-risk";
const SHARDS = 2;
const PARTITIONS = 64;
const GUARDS = ["risk-guard-1", "risk-guard-2"] as const;
/** The guards' lease: their default, stated here so that the figure says what it was measured with. */
const LEASE_MS = 3000;
const STRATEGIES = 16;
const CONCURRENCY = 64;
/** The checker's pace while no guard answers (and its attempts' longest wait). */
const CHECKER_EVERY_MS = 5;

export interface GuardPipeline {
  entries: number;
  records: number;
  largest: number;
  depth: number;
}

/** What a guard's status says, as far as the bench reads it. */
interface GuardStatus {
  member: string;
  role: string;
  epoch: number;
  lastTakeover: { catchUpMs: number; takeoverMs: number } | null;
  pipeline: GuardPipeline | null;
  followers: Array<{ member: string; kind: string }>;
}

export interface CheckLoadFigures {
  check: LoopResult;
  rawEcho: LoopResult;
  /** Of the checks answered while measuring and warming up. */
  allowed: number;
  denied: number;
  /** Log entries the active guard appended during the run, and the records they carried. */
  entries: number;
  records: number;
  /** Most records in one entry since the guard took over. */
  largest: number;
  /** Another guard (or another epoch) led by the end: entries, records and the guard's CPU are then NaN/null. */
  leaderChanged: boolean;
  /** CPU time of the active guard per check (from /proc; null elsewhere), and of the bench per check and per echo. */
  guardCpuUsPerCheck: number | null;
  benchCpuUsPerCheck: number;
  benchCpuUsPerEcho: number;
}

export interface HaltFigures {
  halts: number;
  /** Followers on the guard's roster when the halts began (shards and ranker). */
  followers: number;
  lastAckP50Ms: number;
  lastAckP99Ms: number;
  lastAckMaxMs: number;
  /** Fewest and most followers acknowledging one halt. */
  acksMin: number;
  acksMax: number;
  /** Followers named missing, summed over the halts. */
  missing: number;
  /** The operator's wait for `halt`, p50 (the log append, the broadcast and the acks). */
  haltCallP50Ms: number;
  resumeCallP50Ms: number;
  /** Resumes that did not bring trading back to ACTIVE. */
  resumesNotActive: number;
}

export interface TakeoverTrial {
  killed: string;
  leader: string;
  /** From the SIGKILL to the first check answered, client-side. */
  killToCheckMs: number;
  /** The new leader's own figures: from taking the lease to answering. */
  catchUpMs: number;
  takeoverMs: number;
  /** Checks the checker gave up on (attempts run out) before one was answered. */
  failedChecks: number;
}

export interface RiskFigures {
  shards: number;
  partitions: number;
  guards: number;
  ranker: boolean;
  leaseMs: number;
  requestBytes: number;
  replyBytes: number;
  c64: CheckLoadFigures;
  c1: CheckLoadFigures;
  /** A raw JetStream append (file storage) of the guard's own one-check log entry, one at a time. */
  rawAppendC1: LoopResult;
  entryBytes: number;
  /** CPU the active guard used over 1 s with nothing to check (timers, lease, broadcast), ms; null without /proc. */
  guardIdleCpuMsPerSecond: number | null;
  halt: HaltFigures;
  takeover: TakeoverTrial[];
  /**
   * Both guards started at once: how long until one led and the other stood by, whether both said
   * "active" at once, and every role each went through (ms from their start).
   */
  startup: {
    settledMs: number;
    twoActive: boolean;
    timeline: RoleChange[];
  };
}

/** A guard's role as the bench saw it change. */
export interface RoleChange {
  ms: number;
  member: string;
  role: string;
  epoch: number | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** CPU time (user and system) a process has used so far, ms, from /proc (Linux; 100 ticks a second). */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** Polls `check` every 100 ms until it is true; throws after `timeoutMs`. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Risk guards run as plain children: started, killed and started again by the bench alone. */
class Guards {
  private readonly children = new Map<string, ChildProcess>();
  private readonly exits = new Map<string, Promise<void>>();

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly logDir: string,
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  start(member: string): void {
    const log = createWriteStream(join(this.logDir, `${member}.log`), { flags: "a" });
    const child = spawn(process.execPath, [serviceEntry("risk-guard")], {
      env: { ...this.env, STRATREG_RISK_GUARD_ID: member },
      stdio: ["ignore", "pipe", "pipe"],
    });
    killOnExit(child);
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.children.set(member, child);
    this.exits.set(
      member,
      new Promise((resolve) =>
        child.once("exit", () => {
          log.end();
          resolve();
        }),
      ),
    );
  }

  pid(member: string): number | undefined {
    return this.children.get(member)?.pid;
  }

  /** SIGKILL to `member`; resolves with the time it was sent and a promise of the exit. */
  kill(member: string): { at: number; exited: Promise<void> } {
    const child = this.children.get(member);
    if (child === undefined) throw new Error(`no guard ${member} is running`);
    const at = performance.now();
    child.kill("SIGKILL");
    return { at, exited: this.exits.get(member) ?? Promise.resolve() };
  }

  /** SIGTERM to every guard (a graceful hand-over), SIGKILL after 10 s. */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.children.entries()].map(async ([member, child]) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        child.kill("SIGTERM");
        await this.exits.get(member);
        clearTimeout(timer);
      }),
    );
  }
}

/**
 * Starts the cluster, registers a few strategies, sets generous limits, and
 * measures every risk figure.
 */
export async function riskFigures(server: Server, say: (line: string) => void, quick: boolean): Promise<RiskFigures> {
  const c64Seconds = quick ? 2 : 5;
  const c1Seconds = quick ? 2 : 4;
  const halts = quick ? 10 : 30;
  const takeovers = quick ? 1 : 3;
  const logDir = join(process.env.BENCH_LOG_DIR ?? server.storeDir, `logs-${CLUSTER}`);
  const services = supervisor(server, CLUSTER, say, { STRATREG_PARTITIONS: String(PARTITIONS) });
  const guards = new Guards(
    {
      ...process.env,
      NATS_URL: server.url,
      STRATREG_CLUSTER: CLUSTER,
      STRATREG_RISK_LEASE_MS: String(LEASE_MS),
      // BENCH_GUARD_LOG_LEVEL=debug (with BENCH_LOG_DIR) to read more of what the guards did.
      LOG_LEVEL: process.env.BENCH_GUARD_LOG_LEVEL ?? "info",
    },
    logDir,
  );
  let echo: ChildProcess | undefined;
  const nc = await connect({ servers: server.url, name: "bench-risk" });
  try {
    for (let i = 1; i <= SHARDS; i++) services.start(`risk-shard-${i}`);
    await until("the risk cluster's shards to serve every partition", 60_000, async () => {
      const status = await clusterStatus(nc, CLUSTER, PARTITIONS, 200);
      const serving = status.shards.filter((s) => s.serving.length > 0).length;
      return serving === SHARDS && status.unserved.length === 0 && status.contested.length === 0;
    });
    const client = await StratregClient.connect(nc, { cluster: CLUSTER, timeoutMs: 30_000 });
    services.start("risk-ranker", "ranker");
    await until("the ranker to hold every partition", 60_000, async () => {
      const status = await client.askRanker<{ held: number }>(RankerOps.Status, {}).catch(() => ({ held: 0 }));
      return status.held === PARTITIONS;
    });
    const strategies = sampleStrategies(STRATEGIES, "risk");
    const registered = await client.registerMany(strategies);
    if (registered.registered !== STRATEGIES) throw new Error(`registered ${registered.registered} of ${STRATEGIES}`);
    say(`risk: ${SHARDS} shards on ${PARTITIONS} partitions, a ranker, ${STRATEGIES} strategies; starting 2 guards…`);

    const rc = new RiskClient(nc, { cluster: CLUSTER, timeoutMs: 10_000 });
    const status = (member?: string) =>
      rc.status(member, { timeoutMs: 2000 }) as Promise<unknown> as Promise<GuardStatus>;
    const roleOf = (member: string) =>
      status(member).then(
        (s) => s.role,
        () => "unreachable",
      );
    // Both at once, as an operator would; what each went through is reported (`startup` in the figures).
    const began = performance.now();
    for (const member of GUARDS) guards.start(member);
    const timeline: RoleChange[] = [];
    let twoActive = false;
    const observe = async () => {
      const seen = await Promise.all(
        GUARDS.map((member) =>
          status(member).then(
            (s) => ({ member, role: s.role, epoch: s.epoch as number | null }),
            () => ({ member, role: "unreachable", epoch: null }),
          ),
        ),
      );
      for (const s of seen) {
        const last = timeline.findLast((c) => c.member === s.member);
        if (last?.role !== s.role || last.epoch !== s.epoch)
          timeline.push({ ms: Math.round(performance.now() - began), ...s });
      }
      const active = seen.filter((s) => s.role === "active").length;
      if (active > 1) twoActive = true;
      return { seen, settled: active === 1 && seen.filter((s) => s.role === "standby").length === GUARDS.length - 1 };
    };
    for (;;) {
      const { seen, settled } = await observe();
      if (settled) break;
      if (performance.now() - began > 60_000) {
        throw new Error(`the risk guards did not settle in 60 s: ${JSON.stringify(seen)}`);
      }
      await sleep(100);
    }
    const settledMs = performance.now() - began;
    await rc.setLimits({
      limits: { total: { gross: 1e15 }, reservationTtlMs: 7 * 24 * 3_600_000 },
      by: "bench",
      note: "generous limits for the bench",
    });

    const run = nuid.next();
    const orderOf = (orderId: string, i: number): CheckRequest => {
      const s = strategies[i % STRATEGIES] as (typeof strategies)[number];
      const venue = s.venues?.[0];
      return {
        orderId,
        strategy: s.id,
        venue: venue?.venue ?? "XNAS",
        symbol: venue?.symbols[i % venue.symbols.length] ?? "AAPL",
        side: i % 2 === 0 ? "buy" : "sell",
        quantity: 1 + (i % 7),
        price: 100.25,
      };
    };

    // The echo baseline sends what a check sends and answers as many bytes as a check's reply.
    const sampleOrder = orderOf(`${run}-sample`, 0);
    const request = encode({ v: PROTOCOL_VERSION, deadlineMs: 10_000, body: sampleOrder });
    const sample = await nc.request(rc.subjects.risk(RiskOps.Check), request, { timeout: 10_000 });
    const sampleReply = decode(sample.data) as Reply<{ allowed: boolean }>;
    if (!sampleReply.ok || !sampleReply.body.allowed) throw new Error(`the sample check was not allowed`);
    const echoSubject = `${CLUSTER}.echo`;
    echo = spawn(
      process.execPath,
      [fileURLToPath(new URL("./echo.js", import.meta.url)), server.url, echoSubject, String(sample.data.length)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve) => echo?.stdout?.once("data", () => resolve()));

    const leader = () => status();
    const load = async (concurrency: number, seconds: number, tag: string): Promise<CheckLoadFigures> => {
      let echoes = 0;
      let cpu = process.cpuUsage();
      const rawEcho = await closedLoop(concurrency, seconds, async () => {
        await nc.request(echoSubject, request, { timeout: 10_000 });
        echoes++;
      });
      const echoCpu = process.cpuUsage(cpu);
      const before = await leader();
      const guardCpuBefore = cpuMs(guards.pid(before.member));
      let allowed = 0;
      let denied = 0;
      cpu = process.cpuUsage();
      const check = await closedLoop(concurrency, seconds, async (w, i) => {
        const reply = await rc.check(orderOf(`${run}-${tag}-${w}-${i}`, w * 31 + i));
        if (reply.allowed) allowed++;
        else denied++;
      });
      const checkCpu = process.cpuUsage(cpu);
      const guardCpuAfter = cpuMs(guards.pid(before.member));
      const after = await leader();
      // A leader starved past its lease is replaced: then its pipeline's counts are not comparable.
      const leaderChanged = after.member !== before.member || after.epoch !== before.epoch;
      if (leaderChanged) say(`risk: the leader changed during the checks (${tag}): ${before.member} → ${after.member}`);
      const none = { entries: Number.NaN, records: Number.NaN, largest: Number.NaN, depth: 0 };
      const b = leaderChanged ? none : (before.pipeline as GuardPipeline);
      const a = leaderChanged ? none : (after.pipeline as GuardPipeline);
      const checks = allowed + denied;
      return {
        check,
        rawEcho,
        allowed,
        denied,
        entries: a.entries - b.entries,
        records: a.records - b.records,
        largest: a.largest,
        leaderChanged,
        guardCpuUsPerCheck:
          leaderChanged || guardCpuBefore === undefined || guardCpuAfter === undefined
            ? null
            : ((guardCpuAfter - guardCpuBefore) * 1000) / checks,
        benchCpuUsPerCheck: (checkCpu.user + checkCpu.system) / checks,
        benchCpuUsPerEcho: (echoCpu.user + echoCpu.system) / echoes,
      };
    };
    const idleLeader = await leader();
    const idleBefore = cpuMs(guards.pid(idleLeader.member));
    await sleep(1000);
    const idleAfter = cpuMs(guards.pid(idleLeader.member));
    const guardIdleCpuMsPerSecond = idleBefore === undefined || idleAfter === undefined ? null : idleAfter - idleBefore;
    say(`risk: checks, ${CONCURRENCY} in flight, beside the raw echo (${request.length} B → ${sample.data.length} B)…`);
    const c64 = await load(CONCURRENCY, c64Seconds, "c64");
    say("risk: checks one at a time, beside the raw echo…");
    const c1 = await load(1, c1Seconds, "c1");
    // The floor under a check's latency: a durable append of the guard's own last entry (one check, as c1 leaves it).
    const jsm = await jetstreamManager(nc);
    const lastSeq = (await jsm.streams.info(rc.subjects.riskLogStream)).state.last_seq;
    const entry = (await jsm.streams.getMessage(rc.subjects.riskLogStream, { seq: lastSeq }))?.data;
    if (entry === undefined) throw new Error("could not read the risk log's last entry");
    const raw = `${CLUSTER}-raw`;
    await jsm.streams.add({ name: raw, subjects: [`${raw}.>`], storage: StorageType.File, discard: DiscardPolicy.Old });
    const js = jetstream(nc);
    say(`risk: raw JetStream append of a ${entry.length} B entry, one at a time…`);
    const rawAppendC1 = await closedLoop(1, c1Seconds, () => js.publish(`${raw}.entries`, entry, { timeout: 10_000 }));
    await jsm.streams.delete(raw);

    // --- halt → last acknowledgement, with the shards and the ranker following
    const expected = SHARDS + 1;
    let followers = 0;
    await until(`${expected} followers on the guard's roster`, 10_000, async () => {
      followers = (await leader()).followers.length;
      return followers >= expected;
    });
    say(`risk: ${halts} halts and resumes, ${followers} followers…`);
    const halt = await haltFigures(rc, halts, followers);

    // --- takeover after a SIGKILL of the leader
    const trials: TakeoverTrial[] = [];
    const checker = new RiskClient(nc, {
      cluster: CLUSTER,
      retry: {
        attemptTimeoutMs: 100,
        initialBackoffMs: CHECKER_EVERY_MS,
        maxBackoffMs: CHECKER_EVERY_MS,
        maxNoResponderBackoffMs: CHECKER_EVERY_MS,
      },
    });
    for (let t = 0; t < takeovers; t++) {
      const active = (await leader()).member;
      const standby = GUARDS.find((g) => g !== active) as string;
      await until(`${standby} to stand by`, 60_000, async () => (await roleOf(standby)) === "standby");
      // The leader answers right before it dies.
      await rc.check(orderOf(`${run}-before-kill-${t}`, t));
      say(`risk: takeover ${t + 1} of ${takeovers}: SIGKILL to ${active}…`);
      const killed = guards.kill(active);
      await killed.exited;
      // Only checks sent after the leader's exit count: whatever answers them is the other guard.
      let failedChecks = 0;
      let answeredAt = 0;
      for (let i = 0; answeredAt === 0; i++) {
        try {
          await checker.check(orderOf(`${run}-takeover-${t}-${i}`, i), { timeoutMs: 250 });
          answeredAt = performance.now();
        } catch {
          failedChecks++;
          if (performance.now() - killed.at > 60_000) throw new Error("no guard answered a check within 60 s");
          await sleep(CHECKER_EVERY_MS);
        }
      }
      const now = await leader();
      if (now.member !== standby) throw new Error(`after the kill of ${active}, ${now.member} leads, not ${standby}`);
      trials.push({
        killed: active,
        leader: now.member,
        killToCheckMs: answeredAt - killed.at,
        catchUpMs: now.lastTakeover?.catchUpMs ?? Number.NaN,
        takeoverMs: now.lastTakeover?.takeoverMs ?? Number.NaN,
        failedChecks,
      });
      say(
        `risk: ${standby} answered ${Math.round(answeredAt - killed.at)} ms after the kill (its own takeover: ${now.lastTakeover?.takeoverMs} ms)`,
      );
      guards.start(active);
    }
    const last = trials.at(-1)?.killed;
    if (last !== undefined)
      await until(`${last} to stand by again`, 60_000, async () => (await roleOf(last)) === "standby");

    return {
      shards: SHARDS,
      partitions: PARTITIONS,
      guards: GUARDS.length,
      ranker: true,
      leaseMs: LEASE_MS,
      requestBytes: request.length,
      replyBytes: sample.data.length,
      c64,
      c1,
      rawAppendC1,
      entryBytes: entry.length,
      guardIdleCpuMsPerSecond,
      halt,
      takeover: trials,
      startup: { settledMs, twoActive, timeline },
    };
  } finally {
    echo?.kill("SIGTERM");
    await nc.close().catch(() => undefined);
    await guards.stopAll();
    await services.stopAll();
  }
}

/** `n` halts, each followed by a resume; the acknowledgements of the halts. */
async function haltFigures(rc: RiskClient, n: number, followers: number): Promise<HaltFigures> {
  const lastAcks: number[] = [];
  const haltCalls: number[] = [];
  const resumeCalls: number[] = [];
  let acksMin = Number.POSITIVE_INFINITY;
  let acksMax = 0;
  let missing = 0;
  let resumesNotActive = 0;
  for (let i = 0; i < n; i++) {
    let began = performance.now();
    const halted: TradingCommandReply = await rc.halt({ by: "bench", reason: `bench halt ${i + 1}` });
    haltCalls.push(performance.now() - began);
    if (halted.status.state !== "HALTED") throw new Error(`halt ${i + 1} left trading ${halted.status.state}`);
    lastAcks.push(halted.lastAckMs ?? Number.NaN);
    acksMin = Math.min(acksMin, halted.acks.length);
    acksMax = Math.max(acksMax, halted.acks.length);
    missing += halted.missing.length;
    began = performance.now();
    const resumed = await rc.resume({ by: "bench", reason: `bench resume ${i + 1}` });
    resumeCalls.push(performance.now() - began);
    if (resumed.status.state !== "ACTIVE") resumesNotActive++;
  }
  return {
    halts: n,
    followers,
    lastAckP50Ms: percentile(lastAcks, 0.5),
    lastAckP99Ms: percentile(lastAcks, 0.99),
    lastAckMaxMs: Math.max(...lastAcks),
    acksMin,
    acksMax,
    missing,
    haltCallP50Ms: percentile(haltCalls, 0.5),
    resumeCallP50Ms: percentile(resumeCalls, 0.5),
    resumesNotActive,
  };
}

const row = (cells: [string, string, string, string, string]) => tableRow(cells, [70, -18, 44, -7, 10]);

/** The longest time each guard was seen in taking-over, ms (from the start timeline). */
function takingOver(timeline: RoleChange[]): Map<string, number> {
  const longest = new Map<string, number>();
  timeline.forEach((change, i) => {
    if (change.role !== "taking-over") return;
    const next = timeline.slice(i + 1).find((c) => c.member === change.member);
    if (next === undefined) return;
    longest.set(change.member, Math.max(longest.get(change.member) ?? 0, next.ms - change.ms));
  });
  return longest;
}

/** The risk figures as a table: figure | guard | baseline | ratio | target. */
export function riskTable(r: RiskFigures): string {
  const { c64, c1, halt: h, takeover } = r;
  const kills = takeover.map((t) => t.killToCheckMs);
  const own = takeover.map((t) => t.takeoverMs);
  const lines = [
    row(["risk figure", "guard", "baseline", "ratio", "target"]),
    row(["---", "---", "---", "---", "---"]),
    row([
      `checks, ${CONCURRENCY} in flight, unique order ids (checks/s)`,
      fmt(c64.check.perSecond),
      `${fmt(c64.rawEcho.perSecond)} (echo, ${r.requestBytes} B → ${r.replyBytes} B)`,
      fmt(c64.check.perSecond / c64.rawEcho.perSecond, 2),
      "≥ 0.8",
    ]),
    row([
      `  records per log entry at c${CONCURRENCY} (group commit), mean`,
      fmt(c64.records / c64.entries, 1),
      `${fmt(c64.records)} records in ${fmt(c64.entries)} entries, largest ${fmt(c64.largest)}`,
      "",
      "—",
    ]),
    row([
      `  CPU per check at c${CONCURRENCY}: guard / bench client (µs)`,
      `${c64.guardCpuUsPerCheck === null ? "—" : fmt(c64.guardCpuUsPerCheck)} / ${fmt(c64.benchCpuUsPerCheck)}`,
      `bench client ${fmt(c64.benchCpuUsPerEcho)} per echo; guard idle ${r.guardIdleCpuMsPerSecond === null ? "—" : fmt(r.guardIdleCpuMsPerSecond)} ms/s`,
      "",
      "—",
    ]),
    row([
      `  check c${CONCURRENCY} p99 (µs)`,
      fmt(c64.check.p99Us),
      `${fmt(c64.rawEcho.p99Us)} (echo)`,
      fmt(c64.check.p99Us / c64.rawEcho.p99Us, 2),
      "—",
    ]),
    row([
      "check c1 p50 (µs)",
      fmt(c1.check.p50Us),
      `${fmt(c1.rawEcho.p50Us)} (echo)`,
      fmt(c1.check.p50Us / c1.rawEcho.p50Us, 2),
      "≤ 1.3",
    ]),
    row([
      "  raw JetStream append c1 p50, the durable step under a check (µs)",
      fmt(c1.check.p50Us),
      `${fmt(r.rawAppendC1.p50Us)} (append, ${r.entryBytes} B entry)`,
      fmt(c1.check.p50Us / r.rawAppendC1.p50Us, 2),
      "—",
    ]),
    row([
      "  CPU per check at c1: guard / bench client (µs)",
      `${c1.guardCpuUsPerCheck === null ? "—" : fmt(c1.guardCpuUsPerCheck)} / ${fmt(c1.benchCpuUsPerCheck)}`,
      `bench client ${fmt(c1.benchCpuUsPerEcho)} per echo`,
      "",
      "—",
    ]),
    row([
      "check c1 p99 (µs)",
      fmt(c1.check.p99Us),
      `${fmt(c1.rawEcho.p99Us)} (echo)`,
      fmt(c1.check.p99Us / c1.rawEcho.p99Us, 2),
      "—",
    ]),
    row([
      `halt → last follower's ack, ${h.halts} halts, p50 / p99 (ms)`,
      `${fmt(h.lastAckP50Ms, 1)} / ${fmt(h.lastAckP99Ms, 1)}`,
      `${h.acksMin === h.acksMax ? h.acksMin : `${h.acksMin}–${h.acksMax}`} of ${h.followers} followers acked each; ${h.missing} missing`,
      "",
      "p99 ≤ 100",
    ]),
    row([
      "  operator's wait for halt / resume, p50 (ms)",
      `${fmt(h.haltCallP50Ms, 1)} / ${fmt(h.resumeCallP50Ms, 1)}`,
      "",
      "",
      "—",
    ]),
    row([
      `takeover, SIGKILL of the leader → first check answered, ${takeover.length}×${takeover.length > 1 ? ", median / max" : ""} (ms)`,
      takeover.length === 0
        ? "—"
        : `${fmt(percentile(kills, 0.5))}${takeover.length > 1 ? ` / ${fmt(Math.max(...kills))}` : ""}`,
      `lease ${fmt(r.leaseMs)} ms; new leader's own ${own.length === 0 ? "—" : own.map((ms) => fmt(ms)).join(", ")} ms`,
      "",
      "≤ 5,000",
    ]),
  ];
  for (const [tag, load] of [
    [`c${CONCURRENCY}`, c64],
    ["c1", c1],
  ] as const)
    if (load.leaderChanged) lines.push(`(the leader changed during the checks at ${tag})`);
  const denied = c64.denied + c1.denied;
  if (denied > 0) lines.push(`(${denied} of ${c64.allowed + c1.allowed + denied} checks were denied)`);
  for (const [member, ms] of takingOver(r.startup.timeline))
    if (ms >= 1000) lines.push(`(at start, ${member} was seen taking-over for ${fmt(ms)} ms)`);
  if (r.startup.twoActive) lines.push("(at start, both guards said they were active at the same time)");
  if (h.resumesNotActive > 0) lines.push(`(${h.resumesNotActive} resumes did not bring trading back to ACTIVE)`);
  return `${lines.join("\n")}\n`;
}
