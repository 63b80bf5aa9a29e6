/**
 * Discovery from the SDK: bars in (one request per batch of a series), the
 * series held, the loop's status, the candidates found and the scanner's
 * findings for anyone; runs started and stopped by operators; and the run's
 * progress and new candidates as they are published. Any discovery process
 * answers (a queue group), so only the cluster name is needed.
 *
 * Reads and imports are retried with the same payload until their deadline
 * (an import appends only bars whose time the series lacks, so a resend adds
 * nothing twice). An operator's run or stop is sent once with the whole
 * deadline: a resent run would be refused as a conflict with itself.
 */
import { performance } from "node:perf_hooks";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import {
  type BarInput,
  type CandidateMessage,
  type ClusterSubjects,
  clusterSubjects,
  DEADLINE_MS_MAX,
  DEFAULT_CLUSTER,
  type DiscoveryControlOp,
  DiscoveryControlOps,
  DiscoveryLimits,
  type DiscoveryOp,
  DiscoveryOps,
  decode,
  ErrorCodes,
  encode,
  type ImportBarsReply,
  type ImportBarsRequest,
  PROTOCOL_VERSION,
  type RunProgress,
  type RunRequest,
  type SeriesInfo,
  seriesKeyOf,
  ValidationError,
} from "@stratreg/protocol";
import { callWithRetry, DEFAULT_RETRY, type RetryPolicy } from "./call.js";

/** Options of a {@link DiscoveryClient}. */
export interface DiscoveryClientOptions {
  /** Cluster name (the subject prefix). Default `stratreg`. */
  cluster?: string;
  /** Default deadline of a call, ms (5000). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

/** Options of one discovery call. */
export interface DiscoveryCallOptions {
  /** Deadline of this call, ms from now. */
  timeoutMs?: number;
}

/** A bar with the series it belongs to; a `Bar` of `@stratreg/market` is one. */
export type SeriesBar = BarInput & { symbol: string; venue: string };

/** Options of {@link DiscoveryClient.importSeries}. */
export interface ImportSeriesOptions extends DiscoveryCallOptions {
  /** Called after each batch with its reply, the bars sent so far and the series' bar count. */
  onBatch?: (reply: ImportBarsReply, sent: number, total: number) => void;
  /** Checked before each batch: once aborted, no further batch is sent and the sum so far is returned. */
  signal?: AbortSignal;
}

/** What `data` answers: the series held, and stream messages this discovery process could not read. */
export interface DataReply {
  series: SeriesInfo[];
  skipped: number;
}

/** What `candidates` answers: the latest candidates, newest first. */
export interface CandidatesReply {
  candidates: CandidateMessage[];
}

/** Which candidates {@link DiscoveryClient.candidates} asks for. */
export interface CandidatesQuery {
  /** At most this many (default 20, at most `DiscoveryLimits.candidatesMax`). */
  limit?: number;
  /** Only those of this run. */
  runId?: string;
}

/**
 * What `status` answers: the loop's state, the trading state it last heard,
 * the run in progress and the latest runs (newest first). Fields beyond these
 * are the discovery process's own (its counters); read them defensively.
 */
export interface DiscoveryStatus {
  /** The discovery process that answered. */
  member?: string;
  /** The loop's state: starting, idle, running, halting, halted, stopping, stopped. */
  state: string;
  /** The trading state last heard from the risk guard, null when none yet. */
  trading: string | null;
  run: RunProgress | null;
  runs: RunProgress[];
  [field: string]: unknown;
}

/** What the scanner found at the start of the latest run (`scan` answers null before any). */
export interface ScanFindings {
  at: number;
  /** Aligned bars scanned. */
  bars: number;
  regimeNames: string[];
  /** The current regime and the share of bars spent in each. */
  regimes: { current: string; shares: Record<string, number> };
  anomalies: Array<{ series: string; field: string; t: number; score: number }>;
  leadLag: Array<{ leader: string; follower: string; lag: number; correlation: number }>;
  calendar: Array<{ series: string; weekday: number; meanReturn: number; t: number }>;
  [field: string]: unknown;
}

/** A subscription to published discovery messages; `ready` resolves once the server has it. */
export interface DiscoveryFollower {
  /** Resolves once the subscription is in place on the server (subscribe, then start a run, to miss nothing). */
  readonly ready: Promise<void>;
  stop(): void;
}

function isProgress(value: unknown): value is RunProgress {
  const p = value as RunProgress | null;
  return (
    p !== null &&
    typeof p === "object" &&
    typeof p.runId === "string" &&
    typeof p.phase === "string" &&
    typeof p.elapsedMs === "number" &&
    Array.isArray(p.targets)
  );
}

function isCandidate(value: unknown): value is CandidateMessage {
  const c = value as CandidateMessage | null;
  return (
    c !== null &&
    typeof c === "object" &&
    typeof c.id === "string" &&
    typeof c.runId === "string" &&
    typeof c.expression === "string" &&
    typeof c.target === "string" &&
    c.report !== null &&
    typeof c.report === "object"
  );
}

/** The wire form of a bar: only the fields the protocol defines. */
function barInput(bar: SeriesBar): BarInput {
  const input: BarInput = {
    t: bar.t,
    open: bar.open,
    high: bar.high,
    low: bar.low,
    close: bar.close,
    volume: bar.volume,
  };
  if (bar.spread !== undefined) input.spread = bar.spread;
  return input;
}

/** Discovery's operations on a cluster. */
export class DiscoveryClient {
  readonly subjects: ClusterSubjects;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;

  constructor(
    readonly nc: NatsConnection,
    options: DiscoveryClientOptions = {},
  ) {
    this.subjects = clusterSubjects(options.cluster ?? DEFAULT_CLUSTER);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
  }

  private call<B>(subject: string, body: unknown, timeoutMs = this.timeoutMs, retry = this.retry): Promise<B> {
    const envelope: Record<string, unknown> = { v: PROTOCOL_VERSION, body };
    return callWithRetry<B>(
      this.nc,
      subject,
      (attemptMs) => {
        envelope.deadlineMs = Math.min(Math.max(1, Math.ceil(attemptMs)), DEADLINE_MS_MAX);
        return encode(envelope);
      },
      performance.now() + timeoutMs,
      retry,
    );
  }

  private ask<B>(op: DiscoveryOp, body: unknown, timeoutMs?: number): Promise<B> {
    return this.call<B>(this.subjects.discovery(op), body, timeoutMs);
  }

  /**
   * An operator's command gets the whole deadline in one attempt: a run is
   * answered at once but a stop only once the run has stopped, and a resent
   * run would be refused with CONFLICT by the run the first one started.
   */
  private control<B>(op: DiscoveryControlOp, body: unknown, timeoutMs = this.timeoutMs): Promise<B> {
    return this.call<B>(this.subjects.discoveryControl(op), body, timeoutMs, {
      ...this.retry,
      attemptTimeoutMs: timeoutMs,
    });
  }

  /** Appends bars of one series (at most `DiscoveryLimits.barsPerImport`); bars whose time it holds are duplicates. */
  importBars(request: ImportBarsRequest, options: DiscoveryCallOptions = {}): Promise<ImportBarsReply> {
    return this.ask(DiscoveryOps.Import, request, options.timeoutMs);
  }

  /**
   * Appends every bar of one series, in batches of `DiscoveryLimits.barsPerImport`
   * sent one after the other, and answers the replies summed (`bars`: what the
   * series holds after the last batch). Every bar must be of the first bar's
   * series (ValidationError otherwise, before anything is sent); each batch has
   * the call's deadline.
   */
  async importSeries(bars: readonly SeriesBar[], options: ImportSeriesOptions = {}): Promise<ImportBarsReply> {
    const first = bars[0];
    if (first === undefined) {
      throw new ValidationError(ErrorCodes.InvalidField, "importSeries needs at least one bar", { field: "bars" });
    }
    const { symbol, venue } = first;
    const other = bars.findIndex((bar) => bar.symbol !== symbol || bar.venue !== venue);
    if (other !== -1) {
      const bar = bars[other] as SeriesBar;
      throw new ValidationError(
        ErrorCodes.InvalidField,
        `bars[${other}] is of ${seriesKeyOf(bar.symbol, bar.venue)}, not ${seriesKeyOf(symbol, venue)}: one series per call`,
        { field: `bars[${other}]` },
      );
    }
    const total: ImportBarsReply = { symbol, venue, appended: 0, duplicates: 0, bars: 0 };
    for (let start = 0; start < bars.length; start += DiscoveryLimits.barsPerImport) {
      if (options.signal?.aborted === true) break;
      const batch = bars.slice(start, start + DiscoveryLimits.barsPerImport).map(barInput);
      const reply = await this.importBars({ symbol, venue, bars: batch }, options);
      total.appended += reply.appended;
      total.duplicates += reply.duplicates;
      total.bars = reply.bars;
      options.onBatch?.(reply, start + batch.length, bars.length);
    }
    return total;
  }

  /** The series held: symbol, venue, bar count, first and last bar time. */
  data(options: DiscoveryCallOptions = {}): Promise<DataReply> {
    return this.ask(DiscoveryOps.Data, {}, options.timeoutMs);
  }

  /** The loop's state, the trading state, the run in progress and the latest runs. */
  status(options: DiscoveryCallOptions = {}): Promise<DiscoveryStatus> {
    return this.ask(DiscoveryOps.Status, {}, options.timeoutMs);
  }

  /** The latest candidates with their validation reports, newest first. */
  candidates(query: CandidatesQuery = {}, options: DiscoveryCallOptions = {}): Promise<CandidatesReply> {
    const body: CandidatesQuery = {};
    if (query.limit !== undefined) body.limit = query.limit;
    if (query.runId !== undefined) body.runId = query.runId;
    return this.ask(DiscoveryOps.Candidates, body, options.timeoutMs);
  }

  /** The scanner's latest findings, null before the first run scanned anything. */
  scan(options: DiscoveryCallOptions = {}): Promise<ScanFindings | null> {
    return this.ask(DiscoveryOps.Scan, {}, options.timeoutMs);
  }

  /**
   * Operators: starts a run (or resumes a stopped one, `request.resume`) and
   * answers its progress at the start. TRADING_HALTED while trading is halted
   * or its state unknown; CONFLICT while another run is in progress; NOT_FOUND
   * for a run to resume that has no checkpoint.
   */
  run(request: RunRequest = {}, options: DiscoveryCallOptions = {}): Promise<RunProgress> {
    return this.control(DiscoveryControlOps.Run, request, options.timeoutMs);
  }

  /**
   * Operators: stops the run in progress (or the one named: NOT_FOUND unless it
   * is in progress), keeping its checkpoint. Answers once the run has stopped,
   * with its last progress, or null when no run was in progress.
   */
  stop(runId?: string, options: DiscoveryCallOptions = {}): Promise<RunProgress | null> {
    return this.control(DiscoveryControlOps.Stop, runId === undefined ? {} : { runId }, options.timeoutMs);
  }

  private follow<T>(subject: string, accept: (value: unknown) => value is T, deliver: (value: T) => void) {
    const sub: Subscription = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err !== null) return;
        let value: unknown;
        try {
          value = decode(msg.data);
        } catch {
          return;
        }
        if (accept(value)) deliver(value);
      },
    });
    const ready = this.nc.flush();
    // A follower that never awaits `ready` must not see an unhandled rejection when the connection closes.
    ready.catch(() => undefined);
    return { ready, stop: () => sub.unsubscribe() } satisfies DiscoveryFollower;
  }

  /**
   * Calls `onProgress` with every run's progress as discovery publishes it
   * (after each phase and generation; the last message of a run has its
   * `outcome`). Messages this client cannot read are ignored.
   */
  followProgress(onProgress: (progress: RunProgress) => void): DiscoveryFollower {
    return this.follow(this.subjects.discoveryProgress, isProgress, onProgress);
  }

  /** Calls `onCandidate` with every candidate discovery registers, with its report. Unreadable messages are ignored. */
  followCandidates(onCandidate: (candidate: CandidateMessage) => void): DiscoveryFollower {
    return this.follow(this.subjects.discoveryCandidates, isCandidate, onCandidate);
  }
}
