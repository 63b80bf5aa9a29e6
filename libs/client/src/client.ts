/**
 * StratregClient: what a trading service embeds to talk to the registry. It
 * routes each request to its partition's subject (no membership view needed),
 * gives every call a deadline, retries retryable failures with the same command
 * id (so a write is applied once however often it is sent), and turns error
 * replies back into typed errors.
 */
import { type NatsConnection, headers as natsHeaders, nuid } from "@nats-io/transport-node";
import {
  type BacktestEvidenceInput,
  type Branch,
  type BreedingQuery,
  type BreedingReply,
  type CascadeAction,
  type CascadeReply,
  type ClusterConfig,
  type ClusterSubjects,
  clusterSubjects,
  DEADLINE_MS_MAX,
  DEFAULT_CLUSTER,
  type DynastiesQuery,
  type DynastiesReply,
  ENCODING_HEADER,
  type Encoding,
  Encodings,
  ErrorCodes,
  encode,
  encodeRecords,
  errorFromWire,
  type FamilyQuery,
  type FamilyReply,
  type ForecastQuery,
  type ForecastReply,
  type GateScope,
  type GatesReply,
  type GateThresholdsInput,
  GraphOps,
  type GraphStatus,
  type HistoryQuery,
  type HistoryReply,
  Limits,
  type LineageQuery,
  type LineageReply,
  type LinkReply,
  type PartitionOp,
  PartitionOps,
  type PerformanceReply,
  type PerformanceReport,
  PROTOCOL_VERSION,
  partitionOf,
  type RankerOp,
  RankerOps,
  type RankQuery,
  type RankReply,
  type Ref,
  type ReplyBodies,
  SearchOps,
  type SearchQuery,
  type SearchReply,
  type SearchStatus,
  type SelectQuery,
  type SelectReply,
  type SimilarQuery,
  type SimilarReply,
  type Strategy,
  type StrategyInput,
  type StrategyPatch,
  type StratregError,
  type TopQuery,
  type TopReply,
  type TransitionAction,
  type TraversalReply,
  toStratregError,
  ValidationError,
  VERSION_WRITE_OPS,
  type VersionOp,
  VersionOps,
  type VersionTag,
  versionsSubject,
} from "@stratreg/protocol";
import { callWithRetry, DEFAULT_RETRY, type RetryPolicy } from "./call.js";
import { NearCache, type NearCacheOptions } from "./near-cache.js";
import { type ReportResult, reportPerformance } from "./performance.js";
import type { BranchView, MergeOutcome, RollbackResult, ShownVersion, VersionDiff, VersionLog } from "./versions.js";

/** Told of every write acknowledged through a client (a near-cache, for read-your-writes). */
interface WriteObserver {
  written(id: string, version: number): void;
}

/** A string as a quoted literal of the search filter language. */
function filterLiteral(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** Options of {@link StratregClient.connect}. */
export interface ClientOptions {
  /** Cluster name (the subject prefix). Default `stratreg`. */
  cluster?: string;
  /** The cluster's partition count; when omitted it is asked of the cluster. */
  partitions?: number;
  /** Default deadline of each call, ms. Default 5000. */
  timeoutMs?: number;
  /** Retry pacing. */
  retry?: Partial<RetryPolicy>;
}

/** Per-call options. */
export interface CallOptions {
  /** Deadline of this call, ms from now. */
  timeoutMs?: number;
  /** Command id for a write; a fresh one is made when omitted. Reuse it to retry a write safely. */
  cid?: string;
  /**
   * When the command was first issued (ms since the Unix epoch); now when omitted.
   * Retrying a command by hand, send its first `issued` with its `cid`.
   */
  issued?: number;
}

/** Result of a register-batch for one partition. */
export type RegisterBatchResult = ReplyBodies[typeof PartitionOps.RegisterBatch];

/** A strategy a bulk registration turned away (e.g. ALREADY_EXISTS). */
export interface Rejection {
  /** Position in the array given to registerMany. */
  index: number;
  id: string;
  error: StratregError;
}

/**
 * A batch of a bulk registration that did not succeed. With `outcome: "rejected"`
 * (the error is not retryable: invalid input, …) none of its strategies was
 * registered. With `outcome: "unknown"` (the deadline passed, the partition was
 * unavailable) the batch may or may not have been written: send the same
 * strategies again with the same `cid` (registerBatch) and it is applied at most once.
 */
export interface FailedBatch {
  /** Positions, in the array given to registerMany, of the strategies of the batch. */
  indexes: number[];
  error: StratregError;
  outcome: "rejected" | "unknown";
  /** The command id the batch was sent with. */
  cid: string;
  /** When the batch was first issued: send it again with `cid` and `issued`. */
  issued: number;
  /** Position of the strategy the error names (e.g. the invalid one), when it names one. */
  culprit?: number;
}

/** Options of {@link StratregClient.registerMany}. */
export interface RegisterManyOptions {
  /** Most strategies per request (and per log entry). Default and maximum 1000. */
  batchSize?: number;
  /** Batches in flight at once. Default 16. */
  concurrency?: number;
  /** Wire encoding of the batches. Default standard msgpack. */
  encoding?: Encoding;
  /** Deadline of each batch, ms. */
  timeoutMs?: number;
  /** Called after each batch with the number of strategies handled so far. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Result of a bulk registration: every strategy given is registered, rejected,
 * or in a failed batch (`registered + rejected.length + Σ failed[].indexes.length`
 * is the number given).
 */
export interface RegisterManyResult {
  registered: number;
  rejected: Rejection[];
  failed: FailedBatch[];
}

/** A page of one partition, in id order. */
export type ListPage = ReplyBodies[typeof PartitionOps.List];

/** What `gates.get` and `gates.set` answer. */
export interface GateThresholdsReply {
  scope: GateScope;
  /** What the scope itself set (null: nothing), with who, when and its revision. */
  setting: { thresholds: GateThresholdsInput; by: string; at: number; note?: string; revision: number } | null;
  /** The thresholds a strategy of that scope is held to: seed defaults, then default, template, family. */
  inForce: Record<string, number>;
  sources: string[];
}

export class StratregClient {
  readonly subjects: ClusterSubjects;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly writeObservers = new Set<WriteObserver>();

  private constructor(
    readonly nc: NatsConnection,
    readonly config: ClusterConfig,
    options: ClientOptions,
  ) {
    this.subjects = clusterSubjects(config.cluster);
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /**
   * A client over an open NATS connection. Unless `partitions` is given, asks the
   * cluster for its config (waiting up to the timeout for a shard to answer).
   */
  static async connect(nc: NatsConnection, options: ClientOptions = {}): Promise<StratregClient> {
    const cluster = options.cluster ?? DEFAULT_CLUSTER;
    const subjects = clusterSubjects(cluster);
    let config: ClusterConfig;
    if (options.partitions !== undefined) {
      config = { cluster, partitions: options.partitions, replicas: 0, protocol: PROTOCOL_VERSION, createdAt: 0 };
    } else {
      const timeoutMs = options.timeoutMs ?? 5000;
      config = await callWithRetry<ClusterConfig>(
        nc,
        subjects.clusterInfo,
        encode({ v: PROTOCOL_VERSION, body: {} }),
        performance.now() + timeoutMs,
        { ...DEFAULT_RETRY, ...options.retry },
      );
    }
    return new StratregClient(nc, config, options);
  }

  /** Number of partitions of the cluster. */
  get partitions(): number {
    return this.config.partitions;
  }

  /** The partition `id` belongs to. */
  partitionOf(id: string): number {
    return partitionOf(id, this.config.partitions);
  }

  /** Registers one strategy; it starts as a `candidate` at version 1. */
  async register(strategy: StrategyInput, options: CallOptions = {}): Promise<Strategy> {
    const reply = await this.send(this.partitionOf(strategy.id), PartitionOps.Register, { strategy }, options, true);
    return reply.strategy;
  }

  /**
   * Registers up to 1000 strategies of ONE partition as one log entry. Strategies
   * whose id is taken are reported in `rejected`; the others are registered.
   */
  async registerBatch(
    strategies: StrategyInput[],
    options: CallOptions & { encoding?: Encoding } = {},
  ): Promise<RegisterBatchResult> {
    const first = strategies[0];
    if (first === undefined) return { registered: 0, rejected: [] };
    const partition = this.partitionOf(first.id);
    strategies.forEach((s, i) => {
      if (this.partitionOf(s.id) !== partition) {
        throw new ValidationError(
          ErrorCodes.WrongPartition,
          `strategies of one batch must share a partition (index ${i})`,
          {
            field: `strategies[${i}].id`,
          },
        );
      }
    });
    return this.send(partition, PartitionOps.RegisterBatch, { strategies }, options, true, options.encoding);
  }

  /**
   * Registers `indexes` of `all` (one partition) and accounts for each strategy in
   * `result`. A batch too large for one message is split in halves; a batch that
   * fails as a whole is recorded in `failed` and does not stop the others.
   */
  private async registerAccounted(
    all: StrategyInput[],
    indexes: number[],
    options: CallOptions & { encoding?: Encoding },
    result: RegisterManyResult,
  ): Promise<void> {
    const batch = indexes.map((i) => all[i] as StrategyInput);
    const cid = nuid.next();
    const issued = Date.now();
    try {
      const reply = await this.registerBatch(batch, { ...options, cid, issued });
      result.registered += reply.registered;
      for (const r of reply.rejected) {
        result.rejected.push({ index: indexes[r.index] ?? -1, id: r.id, error: errorFromWire(r.error) });
      }
    } catch (err) {
      const error = toStratregError(err);
      if (error.code === ErrorCodes.PayloadTooLarge && indexes.length > 1) {
        const half = Math.ceil(indexes.length / 2);
        await this.registerAccounted(all, indexes.slice(0, half), options, result);
        await this.registerAccounted(all, indexes.slice(half), options, result);
        return;
      }
      const failed: FailedBatch = { indexes, error, cid, issued, outcome: error.retryable ? "unknown" : "rejected" };
      const named = /^body\.strategies\[(\d+)\]/.exec(error.field ?? "");
      const culprit = named === null ? undefined : indexes[Number(named[1])];
      if (culprit !== undefined) failed.culprit = culprit;
      result.failed.push(failed);
    }
  }

  /**
   * Registers any number of strategies: groups them by partition, sends batches
   * of up to `batchSize` (each one log entry), `concurrency` at a time. A failed
   * batch does not stop the others; see {@link RegisterManyResult}.
   */
  async registerMany(strategies: StrategyInput[], options: RegisterManyOptions = {}): Promise<RegisterManyResult> {
    const batchSize = Math.min(options.batchSize ?? Limits.batchMax, Limits.batchMax);
    const byPartition = this.groupByPartition(
      strategies.map((_, i) => i),
      (i) => (strategies[i] as StrategyInput).id,
    );
    const batches: number[][] = [];
    for (const group of byPartition.values()) {
      for (let i = 0; i < group.length; i += batchSize) batches.push(group.slice(i, i + batchSize));
    }
    const result: RegisterManyResult = { registered: 0, rejected: [], failed: [] };
    let done = 0;
    await this.pool(batches, options.concurrency ?? 16, async (batch) => {
      await this.registerAccounted(
        strategies,
        batch,
        { timeoutMs: options.timeoutMs, encoding: options.encoding },
        result,
      );
      done += batch.length;
      options.onProgress?.(done, strategies.length);
    });
    result.rejected.sort((a, b) => a.index - b.index);
    return result;
  }

  /** The strategy with `id`; throws NotFoundError if there is none. */
  async get(id: string, options: CallOptions = {}): Promise<Strategy> {
    const reply = await this.send(this.partitionOf(id), PartitionOps.Get, { id }, options, false);
    return reply.strategy;
  }

  /** The strategies with these ids (any partitions), and the ids that have none. */
  async getMany(
    ids: string[],
    options: CallOptions & { concurrency?: number } = {},
  ): Promise<{ strategies: Strategy[]; missing: string[] }> {
    const byPartition = this.groupByPartition(ids, (id) => id);
    const requests: Array<[number, string[]]> = [];
    for (const [p, group] of byPartition) {
      for (let i = 0; i < group.length; i += Limits.batchMax) requests.push([p, group.slice(i, i + Limits.batchMax)]);
    }
    const out = { strategies: [] as Strategy[], missing: [] as string[] };
    const fetch = async (p: number, group: string[]): Promise<void> => {
      try {
        const reply = await this.send(p, PartitionOps.GetBatch, { ids: group }, options, false);
        out.strategies.push(...reply.strategies);
        out.missing.push(...reply.missing);
      } catch (err) {
        // Large strategies: the reply would not fit one message, so ask for halves.
        if (!(err instanceof ValidationError && err.code === ErrorCodes.PayloadTooLarge) || group.length < 2) throw err;
        const half = Math.ceil(group.length / 2);
        await fetch(p, group.slice(0, half));
        await fetch(p, group.slice(half));
      }
    };
    await this.pool(requests, options.concurrency ?? 16, ([p, group]) => fetch(p, group));
    return out;
  }

  /**
   * The strategy with the log sequence its partition had applied when the shard
   * answered (what a near-cache needs to know whether the answer is current).
   */
  getAt(id: string, options: CallOptions = {}): Promise<{ strategy: Strategy; seq?: number }> {
    return this.send(this.partitionOf(id), PartitionOps.Get, { id }, options, false);
  }

  /**
   * A near-cache of strategies in this process, kept current from the partition
   * logs: lookups are local map reads within a bounded lag; see {@link NearCache}.
   */
  nearCache(options: NearCacheOptions): Promise<NearCache> {
    return NearCache.open(this, options);
  }

  /** Searches every strategy by filter and full text, from a search process. */
  search(query: SearchQuery, options: CallOptions = {}): Promise<SearchReply> {
    return this.askSubject(this.subjects.search(SearchOps.Query), { ...query }, options);
  }

  /** Strategies like one strategy (by content or by returns) or like a text, from a search process. */
  similar(query: SimilarQuery, options: CallOptions = {}): Promise<SimilarReply> {
    return this.askSubject(this.subjects.search(SearchOps.Similar), { ...query }, options);
  }

  /** A search process's size and lag. */
  searchStatus(options: CallOptions = {}): Promise<SearchStatus> {
    return this.askSubject(this.subjects.search(SearchOps.Status), {}, options);
  }

  /**
   * Makes `from` depend on each of `to`, through the graph service, which refuses (CYCLE, with the
   * cycle's path in `details.path`) any edge that would close a cycle. Edges already there are
   * listed as `unchanged`; the reply says whether the shards show the change yet.
   */
  link(from: string, to: string[], options: CallOptions & { by: string }): Promise<LinkReply> {
    // A command id, so that a retry (after a timeout) is answered as the first attempt was.
    return this.askSubject(
      this.subjects.graph(GraphOps.Link),
      { from, to, by: options.by },
      { ...options, cid: options.cid ?? nuid.next() },
    );
  }

  /** Removes dependency edges `from → to[i]`, through the graph service. */
  unlink(from: string, to: string[], options: CallOptions & { by: string }): Promise<LinkReply> {
    return this.askSubject(
      this.subjects.graph(GraphOps.Unlink),
      { from, to, by: options.by },
      { ...options, cid: options.cid ?? nuid.next() },
    );
  }

  /** Everything that transitively depends on `id`, each at its shortest depth, nearest first. */
  impact(id: string, options: CallOptions & { depth?: number; limit?: number } = {}): Promise<TraversalReply> {
    return this.askSubject(this.subjects.graph(GraphOps.Impact), traversal(id, options), options);
  }

  /** Everything `id` transitively depends on, each at its shortest depth, nearest first. */
  dependenciesOf(id: string, options: CallOptions & { depth?: number; limit?: number } = {}): Promise<TraversalReply> {
    return this.askSubject(this.subjects.graph(GraphOps.Dependencies), traversal(id, options), options);
  }

  /**
   * Suspends or retires `id` and suspends everything that depends on it, transitively, each
   * exactly once (the graph service's log records the cascade; docs/protocol.md).
   */
  cascade(
    id: string,
    action: CascadeAction,
    options: CallOptions & { by: string; reason: string },
  ): Promise<CascadeReply> {
    // A command id, so that a retry (after a timeout, or the leader's failover) gets this cascade's outcome.
    return this.askSubject(
      this.subjects.graph(GraphOps.Cascade),
      { id, action, by: options.by, reason: options.reason },
      { timeoutMs: 60_000, ...options, cid: options.cid ?? nuid.next() },
    );
  }

  /** The graph leader's epoch, log position and size. */
  graphStatus(options: CallOptions = {}): Promise<GraphStatus> {
    return this.askSubject(this.subjects.graph(GraphOps.Status), {}, options);
  }

  // ---- Genealogy (docs/protocol.md, Genealogy), from a search process ------------------------------

  /**
   * A strategy's ancestors and/or descendants through `parents`, to `depth`
   * generations (default 8): each strategy once at its shortest depth, the
   * parent edges among them, parents registered nowhere as `missing`.
   */
  lineage(query: LineageQuery, options: CallOptions = {}): Promise<LineageReply> {
    return this.askSubject(this.subjects.search(SearchOps.Lineage), { ...query }, options);
  }

  /** A family's tree (members, parent edges among them, roots), its performance by a metric and its survival through the gates. */
  family(query: FamilyQuery, options: CallOptions = {}): Promise<FamilyReply> {
    return this.askSubject(this.subjects.search(SearchOps.Family), { ...query }, options);
  }

  /** Children whose parents are in different families, in id order, a page at a time. */
  breeding(query: BreedingQuery = {}, options: CallOptions = {}): Promise<BreedingReply> {
    return this.askSubject(this.subjects.search(SearchOps.Breeding), { ...query }, options);
  }

  /** Roots whose descendants passed the gates at least `k` generations in a row (default 3). */
  dynasties(query: DynastiesQuery = {}, options: CallOptions = {}): Promise<DynastiesReply> {
    return this.askSubject(this.subjects.search(SearchOps.Dynasties), { ...query }, options);
  }

  /** Ids of a family's members (up to 1000), from a search process. */
  async familyMembers(family: string, options: CallOptions = {}): Promise<string[]> {
    const reply = await this.search({ filter: `family = ${filterLiteral(family)}`, limit: 1000 }, options);
    return reply.hits.map((hit) => hit.id);
  }

  /** @internal A near-cache asks to be told of this client's acknowledged writes. */
  observeWrites(observer: WriteObserver): void {
    this.writeObservers.add(observer);
  }

  /** @internal */
  unobserveWrites(observer: WriteObserver): void {
    this.writeObservers.delete(observer);
  }

  /** Changes descriptive fields; fails with CONFLICT unless the strategy is at `expectedVersion`. */
  async update(
    id: string,
    expectedVersion: number,
    patch: StrategyPatch,
    options: CallOptions = {},
  ): Promise<Strategy> {
    const reply = await this.send(
      this.partitionOf(id),
      PartitionOps.Update,
      { id, expectedVersion, patch },
      options,
      true,
    );
    return reply.strategy;
  }

  /** Retires a strategy for good (optionally only if it is at `expectedVersion`). */
  async retire(
    id: string,
    options: CallOptions & { expectedVersion?: number; reason?: string } = {},
  ): Promise<Strategy> {
    const body: Record<string, unknown> = { id };
    if (options.expectedVersion !== undefined) body.expectedVersion = options.expectedVersion;
    if (options.reason !== undefined) body.reason = options.reason;
    const reply = await this.send(this.partitionOf(id), PartitionOps.Retire, body, options, true);
    return reply.strategy;
  }

  /** One page of `partition`, in id order, after `cursor`. */
  list(partition: number, options: CallOptions & { cursor?: string | null; limit?: number } = {}): Promise<ListPage> {
    const body: Record<string, unknown> = {};
    if (options.cursor != null) body.cursor = options.cursor;
    if (options.limit !== undefined) body.limit = options.limit;
    return this.send(partition, PartitionOps.List, body, options, false);
  }

  /** Every strategy of the cluster, partition by partition, in id order within each. */
  async *listAll(options: CallOptions & { pageSize?: number } = {}): AsyncGenerator<Strategy> {
    for (let p = 0; p < this.config.partitions; p++) {
      let cursor: string | null = null;
      do {
        const page: ListPage = await this.list(p, { ...options, cursor, limit: options.pageSize ?? 500 });
        yield* page.strategies;
        cursor = page.nextCursor;
      } while (cursor !== null);
    }
  }

  /** Sends performance reports, any number, any partitions; see {@link reportPerformance}. */
  report(reports: PerformanceReport[], options: CallOptions & { concurrency?: number } = {}): Promise<ReportResult> {
    return reportPerformance(this, reports, options);
  }

  /** One strategy's performance as its partition holds it. */
  perf(id: string, options: CallOptions = {}): Promise<PerformanceReply> {
    return this.send(this.partitionOf(id), PartitionOps.Perf, { id }, options, false);
  }

  /** The best (or worst) `k` strategies by a metric in a scope, from the ranker. */
  top(query: TopQuery, options: CallOptions = {}): Promise<TopReply> {
    return this.askRanker(RankerOps.Top, { ...query }, options);
  }

  /** Where one strategy ranks among its peers, from the ranker. */
  rank(query: RankQuery, options: CallOptions = {}): Promise<RankReply> {
    return this.askRanker(RankerOps.Rank, { ...query }, options);
  }

  /** One strategy's next-period Sharpe and return forecast, with an interval, from the ranker. */
  forecast(query: ForecastQuery, options: CallOptions = {}): Promise<ForecastReply> {
    return this.askRanker(RankerOps.Forecast, { ...query }, options);
  }

  /** The best k strategies that are not near-duplicates of each other, from the ranker. */
  select(query: SelectQuery, options: CallOptions = {}): Promise<SelectReply> {
    return this.askRanker(RankerOps.Select, { ...query }, options);
  }

  /** One strategy's history of returns and metrics over a time range, from its partition. */
  history(query: HistoryQuery, options: CallOptions = {}): Promise<HistoryReply> {
    return this.send(this.partitionOf(query.id), PartitionOps.History, { ...query }, options, false);
  }

  /**
   * Moves a strategy through its lifecycle. `validate` and `activate` fail with
   * GATES_FAILED (its `details` list every gate); `activate` and `resume` with
   * TRADING_HALTED unless the risk guard reports trading ACTIVE; a move the
   * state does not allow with INVALID_TRANSITION naming the allowed ones.
   */
  async transition(
    id: string,
    action: TransitionAction,
    options: CallOptions & { by: string; reason: string; expectedVersion?: number },
  ): Promise<Strategy> {
    const body: Record<string, unknown> = { id, action, by: options.by, reason: options.reason };
    if (options.expectedVersion !== undefined) body.expectedVersion = options.expectedVersion;
    const reply = await this.send(this.partitionOf(id), PartitionOps.Transition, body, options, true);
    return reply.strategy;
  }

  /** Attaches backtest evidence (summarised by the shard; a candidate goes into backtesting, a validated one back to it). */
  async attachEvidence(
    id: string,
    evidence: BacktestEvidenceInput,
    options: CallOptions & { by: string; expectedVersion?: number },
  ): Promise<Strategy> {
    const body: Record<string, unknown> = { id, by: options.by, evidence };
    if (options.expectedVersion !== undefined) body.expectedVersion = options.expectedVersion;
    const reply = await this.send(this.partitionOf(id), PartitionOps.AttachEvidence, body, options, true);
    return reply.strategy;
  }

  /** The evidence last attached to a strategy, as it was sent. */
  evidence(id: string, options: CallOptions = {}): Promise<ReplyBodies[typeof PartitionOps.Evidence]> {
    return this.send(this.partitionOf(id), PartitionOps.Evidence, { id }, options, false);
  }

  /** A dry run of the quality gates: every gate with its value, threshold and verdict. */
  gates(id: string, options: CallOptions = {}): Promise<GatesReply> {
    return this.send(this.partitionOf(id), PartitionOps.Gates, { id }, options, false);
  }

  /** The gate thresholds in force for a scope (`{}`, `{ family }` or `{ template }`), and what the scope itself set. */
  gateThresholds(scope: GateScope, options: CallOptions = {}): Promise<GateThresholdsReply> {
    return this.askSubject(this.subjects.gatesGet, { scope }, options);
  }

  /** Sets a scope's gate thresholds (operators only); with `expectedRevision`, only if nobody changed them since. */
  setGateThresholds(
    scope: GateScope,
    thresholds: GateThresholdsInput,
    options: CallOptions & { by: string; note?: string; expectedRevision?: number },
  ): Promise<GateThresholdsReply> {
    const body: Record<string, unknown> = { scope, thresholds, by: options.by };
    if (options.note !== undefined) body.note = options.note;
    if (options.expectedRevision !== undefined) body.expectedRevision = options.expectedRevision;
    return this.askSubject(this.subjects.gatesSet, body, options);
  }

  // ── Version control (versions service; docs/protocol.md, "Version control") ──────────────────

  /** Strategy `id`'s versions, newest first (`before`: the previous page's `next`). */
  versionLog(id: string, options: CallOptions & { limit?: number; before?: number } = {}): Promise<VersionLog> {
    const body: Record<string, unknown> = { id };
    if (options.limit !== undefined) body.limit = options.limit;
    if (options.before !== undefined) body.before = options.before;
    return this.askVersions(VersionOps.Log, body, options);
  }

  /** The strategy at `ref`: a version number, `main`, `tag:<name>` or `branch:<name>`. */
  showVersion(id: string, ref: Ref, options: CallOptions = {}): Promise<ShownVersion> {
    return this.askVersions(VersionOps.Show, { id, version: ref }, options);
  }

  /** Field-level changes from `from` to `to` (versions, `main`, `tag:<name>`, `branch:<name>`). */
  diffVersions(id: string, from: Ref, to: Ref, options: CallOptions = {}): Promise<VersionDiff> {
    return this.askVersions(VersionOps.Diff, { id, from, to }, options);
  }

  /** A new version whose descriptive fields equal `version`'s (lifecycle state is not rolled back). */
  rollback(
    id: string,
    version: number,
    options: CallOptions & { by: string; expectedVersion?: number },
  ): Promise<RollbackResult> {
    const body: Record<string, unknown> = { id, version, by: options.by };
    if (options.expectedVersion !== undefined) body.expectedVersion = options.expectedVersion;
    return this.askVersions<RollbackResult>(VersionOps.Rollback, body, options).then((reply) =>
      this.toldWritten(reply),
    );
  }

  /** Starts branch `name` of `id` from version `from` (default: the current one). */
  async createBranch(id: string, name: string, options: CallOptions & { by: string; from?: number }): Promise<Branch> {
    const body: Record<string, unknown> = { id, name, by: options.by };
    if (options.from !== undefined) body.from = options.from;
    return (await this.askVersions<{ branch: Branch }>(VersionOps.BranchCreate, body, options)).branch;
  }

  /** Every branch of `id`. */
  async branches(id: string, options: CallOptions = {}): Promise<Branch[]> {
    return (await this.askVersions<{ branches: Branch[] }>(VersionOps.BranchList, { id }, options)).branches;
  }

  /** One branch and its edits since its base. */
  branch(id: string, name: string, options: CallOptions = {}): Promise<BranchView> {
    return this.askVersions(VersionOps.BranchShow, { id, name }, options);
  }

  /** Edits a branch; CONFLICT unless it is at `expectedVersion` (its own counter). */
  async editBranch(
    id: string,
    name: string,
    expectedVersion: number,
    patch: StrategyPatch,
    options: CallOptions & { by: string },
  ): Promise<Branch> {
    const body = { id, name, expectedVersion, patch, by: options.by };
    return (await this.askVersions<{ branch: Branch }>(VersionOps.BranchUpdate, body, options)).branch;
  }

  /** Deletes a branch (only if it is at `expectedVersion`, when given); resolves with the id and the branch deleted. */
  async deleteBranch(
    id: string,
    name: string,
    options: CallOptions & { expectedVersion?: number } = {},
  ): Promise<{ id: string; deleted: string }> {
    const body: Record<string, unknown> = { id, name };
    if (options.expectedVersion !== undefined) body.expectedVersion = options.expectedVersion;
    return this.askVersions<{ id: string; deleted: string }>(VersionOps.BranchDelete, body, options);
  }

  /** Three-way merge of branch `branch` into `id`: one update, or CONFLICT with `details.conflicts`. */
  merge(
    id: string,
    branch: string,
    options: CallOptions & { by: string; expectedVersion?: number },
  ): Promise<MergeOutcome> {
    const body: Record<string, unknown> = { id, branch, by: options.by };
    if (options.expectedVersion !== undefined) body.expectedVersion = options.expectedVersion;
    return this.askVersions<MergeOutcome>(VersionOps.Merge, body, options).then((reply) => this.toldWritten(reply));
  }

  /** A rollback or merge is an update by another hand: the near-caches still owe it to their reader. */
  private toldWritten<R extends { strategy: Strategy }>(reply: R): R {
    for (const observer of this.writeObservers) observer.written(reply.strategy.id, reply.strategy.version);
    return reply;
  }

  /** Names `version` of `id` `tag`; a tag naming another version moves only with `force`. */
  async tagVersion(
    id: string,
    version: number,
    tag: string,
    options: CallOptions & { by?: string; force?: boolean } = {},
  ): Promise<VersionTag> {
    const body: Record<string, unknown> = { id, version, tag };
    if (options.by !== undefined) body.by = options.by;
    if (options.force !== undefined) body.force = options.force;
    return (await this.askVersions<{ tag: VersionTag }>(VersionOps.Tag, body, options)).tag;
  }

  /** Removes a tag. */
  async untagVersion(id: string, tag: string, options: CallOptions = {}): Promise<VersionTag> {
    return (await this.askVersions<{ removed: VersionTag }>(VersionOps.Untag, { id, tag }, options)).removed;
  }

  /** A versions process's progress through the history and its requests. */
  versionsStatus(options: CallOptions = {}): Promise<Record<string, unknown>> {
    return this.askVersions(VersionOps.Status, {}, options);
  }

  /** Asks any versions process; rollback and merge carry one command id and issue time over every retry. */
  private askVersions<B>(op: VersionOp, body: Record<string, unknown>, options: CallOptions): Promise<B> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const envelope: Record<string, unknown> = { v: PROTOCOL_VERSION, body };
    if (VERSION_WRITE_OPS.has(op)) {
      envelope.cid = options.cid ?? nuid.next();
      envelope.issued = options.issued ?? Date.now();
    }
    return callWithRetry<B>(
      this.nc,
      versionsSubject(this.subjects.cluster, op),
      (attemptMs) => encode({ ...envelope, deadlineMs: Math.min(Math.max(1, Math.ceil(attemptMs)), DEADLINE_MS_MAX) }),
      performance.now() + timeoutMs,
      this.retry,
    );
  }

  // ── end of version control ───────────────────────────────────────────────────────────────────

  /** Asks whoever answers `subject` (any shard, for cluster-wide endpoints). */
  private askSubject<B>(subject: string, body: Record<string, unknown>, options: CallOptions): Promise<B> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return callWithRetry<B>(
      this.nc,
      subject,
      (attemptMs) =>
        encode({
          v: PROTOCOL_VERSION,
          ...(options.cid === undefined ? {} : { cid: options.cid }),
          deadlineMs: Math.min(Math.max(1, Math.ceil(attemptMs)), DEADLINE_MS_MAX),
          body,
        }),
      performance.now() + timeoutMs,
      this.retry,
    );
  }

  /** Asks any ranker (or `options.ranker`, one ranker by its member id). */
  askRanker<B>(
    op: RankerOp,
    body: Record<string, unknown>,
    options: CallOptions & { ranker?: string } = {},
  ): Promise<B> {
    const subject =
      options.ranker === undefined ? this.subjects.ranker(op) : this.subjects.rankerMember(options.ranker, op);
    return this.askSubject(subject, body, options);
  }

  private readonly partitionSubjects = new Map<PartitionOp, string[]>();

  /** `<cluster>.part.<p>.<op>`, built once per partition and operation. */
  private partitionSubject(partition: number, op: PartitionOp): string {
    let subjects = this.partitionSubjects.get(op);
    if (subjects === undefined) {
      subjects = [];
      this.partitionSubjects.set(op, subjects);
    }
    let subject = subjects[partition];
    if (subject === undefined) {
      subject = this.subjects.partition(partition, op);
      subjects[partition] = subject;
    }
    return subject;
  }

  /** The one request path of every partition operation (the SDK's own modules use it too). */
  send<Op extends PartitionOp>(
    partition: number,
    op: Op,
    body: Record<string, unknown>,
    options: CallOptions,
    write: boolean,
    encoding?: Encoding,
  ): Promise<ReplyBodies[Op]> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    // Every retry of this command resends the same cid and issued; only deadlineMs follows each attempt.
    const envelope: Record<string, unknown> = { v: PROTOCOL_VERSION };
    if (write) {
      envelope.cid = options.cid ?? nuid.next();
      envelope.issued = options.issued ?? Date.now();
    }
    const records = encoding === Encodings.Records;
    const encodeFor = (attemptMs: number) => {
      envelope.deadlineMs = Math.min(Math.max(1, Math.ceil(attemptMs)), DEADLINE_MS_MAX);
      envelope.body = body;
      return records ? encodeRecords(envelope) : encode(envelope);
    };
    let headers: ReturnType<typeof natsHeaders> | undefined;
    if (records) {
      headers = natsHeaders();
      headers.set(ENCODING_HEADER, Encodings.Records);
    }
    const first = encodeFor(Math.min(timeoutMs, this.retry.attemptTimeoutMs));
    const limit = this.nc.info?.max_payload ?? Limits.payloadMaxBytes;
    if (first.length > limit) {
      return Promise.reject(
        new ValidationError(
          ErrorCodes.PayloadTooLarge,
          `request of ${first.length} bytes exceeds the server's ${limit}`,
          {
            details: { size: first.length, limit },
          },
        ),
      );
    }
    const deadline = performance.now() + timeoutMs;
    let attempts = 0;
    const call = callWithRetry<ReplyBodies[Op]>(
      this.nc,
      this.partitionSubject(partition, op),
      // The first attempt's bytes are already built; later ones carry their own deadline.
      (attemptMs) => (attempts++ === 0 ? first : encodeFor(attemptMs)),
      deadline,
      this.retry,
      headers,
    );
    if (!write || this.writeObservers.size === 0) return call;
    return call.then((reply) => {
      this.tellWritten(op, body, reply);
      return reply;
    });
  }

  /** Tells the write observers which strategies a write left at which version. */
  private tellWritten(op: PartitionOp, body: Record<string, unknown>, reply: unknown): void {
    const written: Array<[string, number]> = [];
    const strategy = (reply as { strategy?: Strategy }).strategy;
    if (strategy !== undefined && typeof strategy.id === "string") written.push([strategy.id, strategy.version]);
    else if (op === PartitionOps.RegisterBatch) {
      const rejected = new Set(((reply as RegisterBatchResult).rejected ?? []).map((r) => r.id));
      for (const s of body.strategies as StrategyInput[]) if (!rejected.has(s.id)) written.push([s.id, 1]);
    }
    for (const observer of this.writeObservers) for (const [id, version] of written) observer.written(id, version);
  }

  private groupByPartition<T>(items: T[], idOf: (item: T) => string): Map<number, T[]> {
    const groups = new Map<number, T[]>();
    for (const item of items) {
      const p = this.partitionOf(idOf(item));
      const group = groups.get(p);
      if (group === undefined) groups.set(p, [item]);
      else group.push(item);
    }
    return groups;
  }

  private async pool<T>(items: T[], concurrency: number, run: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await run(item);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  }
}

/** The body of a traversal request. */
function traversal(id: string, options: { depth?: number; limit?: number }): Record<string, unknown> {
  const body: Record<string, unknown> = { id };
  if (options.depth !== undefined) body.depth = options.depth;
  if (options.limit !== undefined) body.limit = options.limit;
  return body;
}
