/**
 * A discovery process: connects, follows the market-data and candidate
 * streams and the risk guard's trading state, serves its endpoints, and runs
 * the discovery loop (machine.ts) around the pipeline (pipeline.ts).
 *
 * A run is one pass of the pipeline over the bars held: scan, mine each traded
 * series, validate, register the survivors. Its checkpoint is saved after each
 * generation in the KV bucket `<cluster>-discovery`, so a run stopped by an
 * operator or by a halt can be resumed. A halt aborts the run in progress and
 * is acknowledged only once the run has stopped: when the guard says everyone
 * acknowledged, discovery registers nothing more.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { Service } from "@nats-io/services";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  followTradingState,
  requestsThroughMux,
  StratregClient,
  TemplatesClient,
  type TradingStateFollower,
} from "@stratreg/client";
import { ChunkedSnapshots } from "@stratreg/fencing";
import { connectService, logStates } from "@stratreg/process";
import {
  type CandidateMessage,
  type ClusterSubjects,
  ConflictError,
  clusterSubjects,
  decode,
  ErrorCodes,
  encode,
  NotFoundError,
  type RunOutcome,
  RunOutcomes,
  RunPhases,
  type RunProgress,
  type RunRequest,
  StratregError,
  TradingStates,
  UnavailableError,
} from "@stratreg/protocol";
import type { Logger } from "pino";
import { type Actor, createActor } from "xstate";
import type { DiscoveryConfig } from "./config.js";
import { createDiscoveryMachine, DiscoveryEvents, type DiscoveryState, DiscoveryStates, mayRun } from "./machine.js";
import { type PipelineCheckpoint, runPipeline } from "./pipeline.js";
import { compileDiscoveryValidators } from "./request.js";
import { runData } from "./run-data.js";
import { type ScanReport, scanMarket } from "./scanner.js";
import { DiscoveryCounters, registerDiscoveryService } from "./service.js";
import { BarStore, ensureBarStream } from "./store/bars.js";
import { CandidateRegistry } from "./store/candidates.js";

export const DISCOVERY_VERSION = "0.1.0";

/** Least time between two checkpoints of a run, ms. */
const CHECKPOINT_EVERY_MS = 5000;

/** The name of a run's checkpoint in the discovery bucket. */
const checkpointName = (runId: string) => `checkpoint-${runId}`;

/** Runs kept in status. */
const RUNS_KEPT = 10;

type LoopActor = Actor<ReturnType<typeof createDiscoveryMachine>>;

interface ActiveRun {
  progress: RunProgress;
  /** The progress as it was when the run was asked for (what `run` answers). */
  started: RunProgress;
  abort: AbortController;
  /** Why it is being stopped, once it is. */
  stopping?: RunOutcome;
  done: Promise<void>;
}

/** A running discovery process. */
export class Discovery {
  private service: Service | undefined;
  private trading: TradingStateFollower | undefined;
  private run: ActiveRun | undefined;
  private readonly runs: RunProgress[] = [];
  private scan: Omit<ScanReport, "labels"> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly counters = new DiscoveryCounters();

  private constructor(
    private readonly config: DiscoveryConfig,
    private readonly logger: Logger,
    private readonly nc: NatsConnection,
    private readonly subjects: ClusterSubjects,
    private readonly bars: BarStore,
    private readonly candidates: CandidateRegistry,
    private readonly checkpoints: ChunkedSnapshots,
    private readonly kv: KV,
    private readonly actor: LoopActor,
  ) {}

  /** Connects, opens the streams and starts serving. */
  static async start(config: DiscoveryConfig, logger: Logger): Promise<Discovery> {
    compileDiscoveryValidators();
    const actor = createActor(createDiscoveryMachine({ autoRunBars: config.autoRunBars }));
    logStates(actor, logger, "discovery");
    actor.start();
    const nc = await connectService(config, "discovery").catch((err: unknown) => {
      actor.stop();
      throw err;
    });
    try {
      const client = await StratregClient.connect(nc, { cluster: config.cluster, timeoutMs: config.requestTimeoutMs });
      const subjects = clusterSubjects(config.cluster);
      const js = jetstream(requestsThroughMux(nc));
      const jsm = await jetstreamManager(nc);
      const replicas = Math.max(1, client.config.replicas);
      await ensureBarStream(jsm, subjects, replicas);
      const checkpoints = await ChunkedSnapshots.open(js, subjects.discoveryBucket, replicas);
      const kv = await new Kvm(js).open(subjects.discoveryBucket);
      const bars = new BarStore(js, subjects, logger);
      await bars.open(jsm);
      const templates = new TemplatesClient(nc, { cluster: config.cluster, timeoutMs: config.requestTimeoutMs });
      const candidates = new CandidateRegistry(client, templates, js, subjects, logger);
      await candidates.open(jsm, replicas);
      const discovery = new Discovery(config, logger, nc, subjects, bars, candidates, checkpoints, kv, actor);
      await discovery.open();
      return discovery;
    } catch (err) {
      actor.stop();
      await nc.close().catch(() => undefined);
      throw err;
    }
  }

  private async open(): Promise<void> {
    this.bars.onBars = (count) => this.actor.send({ type: DiscoveryEvents.Data, bars: count });
    this.actor.subscribe((snapshot) => {
      // An auto-run: the machine entered running on new bars, with no operator's run id.
      if (
        snapshot.value === DiscoveryStates.Running &&
        snapshot.context.runId === undefined &&
        this.run === undefined
      ) {
        this.begin({}, `auto-${Date.now().toString(36)}`);
      }
    });
    this.service = await registerDiscoveryService(this.nc, {
      subjects: this.subjects,
      member: this.config.member,
      version: DISCOVERY_VERSION,
      counters: this.counters,
      logger: this.logger,
      handlers: {
        import: (request) => this.bars.import(request.body),
        data: () => ({ series: this.bars.list(), skipped: this.bars.skipped }),
        status: () => this.status(),
        candidates: (request) => ({
          candidates: this.candidates.latest(request.body.limit ?? 20, request.body.runId),
        }),
        scan: () => this.scan ?? null,
        run: (request) => this.startRun(request.body),
        stop: (request) => this.stopRun(request.body.runId, RunOutcomes.Stopped),
      },
    });
    this.trading = followTradingState(this.nc, {
      cluster: this.config.cluster,
      member: this.config.member,
      kind: "discovery",
      onChange: (status) => {
        this.logger.info({ trading: status.state, version: status.version }, `trading ${status.state}`);
        this.actor.send({ type: DiscoveryEvents.Trading, state: status.state });
      },
      beforeAck: async (status) => {
        // A broadcast older than the state in force (a late retransmission) changes nothing.
        const current = this.trading?.current;
        if (status.state !== TradingStates.Halted || (current !== undefined && current.version > status.version))
          return;
        await this.stopRun(undefined, RunOutcomes.Halted).catch(() => undefined);
      },
    });
    this.actor.send({ type: DiscoveryEvents.Connected, trading: this.trading.current?.state });
    this.logger.info({ cluster: this.config.cluster, member: this.config.member }, "discovery started");
  }

  /** The loop's state, the run in progress and the latest runs. */
  status() {
    const snapshot = this.actor.getSnapshot();
    return {
      member: this.config.member,
      state: snapshot.value as DiscoveryState,
      trading: this.trading?.current?.state ?? null,
      run: this.run === undefined ? null : { ...this.run.progress },
      runs: this.runs.slice(-RUNS_KEPT).reverse(),
      series: this.bars.list().length,
      candidates: this.candidates.all().length,
      requests: this.counters.requests,
      errors: this.counters.errors,
    };
  }

  /** Why no run may start now (halted, trading state unknown, a run going, stopping), or undefined. */
  private refusal(): StratregError | undefined {
    const trading = this.trading?.current?.state;
    if (!mayRun(trading)) {
      return new StratregError(
        ErrorCodes.TradingHalted,
        trading === undefined
          ? "no risk guard has announced the trading state yet: discovery does not run until one has"
          : "trading is HALTED: discovery does not run",
        { details: { trading: trading ?? null } },
      );
    }
    if (this.run !== undefined) {
      return new ConflictError(ErrorCodes.Conflict, `run ${this.run.progress.runId} is in progress`, {
        details: { runId: this.run.progress.runId },
      });
    }
    if (this.stopping !== undefined) return new UnavailableError(ErrorCodes.Unavailable, "discovery is stopping");
    return undefined;
  }

  /**
   * An operator's run: refused while halted, while the trading state is unknown, while one is
   * going, for symbols without bars and for too few aligned bars to split; a resume takes its
   * stopped run's request as it was.
   */
  private async startRun(request: RunRequest): Promise<RunProgress> {
    const early = this.refusal();
    if (early !== undefined) throw early;
    let checkpoint: PipelineCheckpoint | undefined;
    if (request.resume !== undefined) {
      const stored = await this.checkpoints.latest(checkpointName(request.resume));
      if (stored === undefined) {
        throw new NotFoundError(`run ${request.resume} has no checkpoint to resume`, { field: "body.resume" });
      }
      checkpoint = decode(stored.bytes) as PipelineCheckpoint;
    }
    runData(this.bars, (checkpoint?.request ?? request).symbols);
    // A halt, or another run, may have come while the checkpoint was read.
    const late = this.refusal();
    if (late !== undefined) throw late;
    const runId = request.resume ?? `run-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
    this.actor.send({ type: DiscoveryEvents.Run, runId });
    return this.begin(request, runId, checkpoint).started;
  }

  private begin(request: RunRequest, runId: string, checkpoint?: PipelineCheckpoint): ActiveRun {
    const budgetMs = request.budgetMs ?? checkpoint?.request.budgetMs ?? this.config.defaultBudgetMs;
    const progress: RunProgress = {
      runId,
      startedAt: Date.now(),
      budgetMs,
      elapsedMs: 0,
      phase: RunPhases.Loading,
      targets: [],
      targetsDone: 0,
      target: null,
      generation: 0,
      evaluated: 0,
      bestTrainSharpe: null,
      candidates: 0,
    };
    const abort = new AbortController();
    const run: ActiveRun = { progress, started: { ...progress }, abort, done: Promise.resolve() };
    this.run = run;
    // The run starts once the request that asked for it has been answered.
    run.done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.execute(run, checkpoint?.request ?? request, checkpoint))
      .then(
        (outcome) => this.finish(run, outcome),
        (err: unknown) => {
          this.logger.error({ err, runId }, "run failed");
          run.progress.error = (err as Error).message;
          return this.finish(run, RunOutcomes.Failed);
        },
      );
    return run;
  }

  private async execute(run: ActiveRun, request: RunRequest, checkpoint?: PipelineCheckpoint): Promise<RunOutcome> {
    const { progress } = run;
    const deadline = progress.startedAt + progress.budgetMs;
    const data = runData(this.bars, request.symbols);
    let saved = 0;
    let sequence = 0;
    this.publishProgress(run, { phase: RunPhases.Scanning });
    const scan = scanMarket(data);
    const { labels, ...published } = scan;
    this.scan = published;
    this.nc.publish(this.subjects.discoveryRegimes, encode(published));
    const result = await runPipeline(data, {
      runId: progress.runId,
      seed: request.seed,
      population: request.population,
      generations: request.generations,
      synthesis: request.synthesis ?? true,
      deadline,
      threads: this.config.threads,
      signal: run.abort.signal,
      regimes: { labels, names: scan.regimeNames },
      registered: this.candidates.all(),
      resume: checkpoint,
      request,
      hooks: {
        progress: (update) => this.publishProgress(run, update),
        checkpoint: async (state, milestone) => {
          // At most one every few seconds (a checkpoint holds the search's caches), and always the
          // one after the run was told to stop, which is where a resume starts.
          const now = Date.now();
          if (!milestone && !run.abort.signal.aborted && now - saved < CHECKPOINT_EVERY_MS) return;
          saved = now;
          // Snapshot sequences only move forwards: milliseconds since the epoch, or one more.
          sequence = Math.max(sequence + 1, now);
          await this.checkpoints
            .save(checkpointName(progress.runId), { seq: sequence, epoch: 0, at: now }, encode(state))
            .catch((err: unknown) => this.logger.warn({ err, runId: progress.runId }, "could not save a checkpoint"));
        },
        candidate: async (draft) => {
          // Nothing is registered once a halt has come, even before the run has heard of it.
          if (run.abort.signal.aborted || !mayRun(this.trading?.current?.state)) return undefined;
          let message: CandidateMessage | undefined;
          try {
            message = await this.candidates.register(draft);
          } catch (err) {
            this.logger.warn(
              { err, expression: draft.expression, target: draft.target },
              "could not register a candidate",
            );
            return undefined;
          }
          if (message !== undefined) {
            progress.candidates++;
            this.logger.info({ id: message.id, expression: message.expression, target: message.target }, "candidate");
          }
          return message;
        },
      },
    });
    if (run.stopping !== undefined) return run.stopping;
    if (result.aborted) return run.stopping ?? RunOutcomes.Stopped;
    await this.kv.delete(checkpointName(progress.runId)).catch(() => undefined);
    return RunOutcomes.Completed;
  }

  private publishProgress(run: ActiveRun, update: Partial<RunProgress>): void {
    Object.assign(run.progress, update);
    run.progress.elapsedMs = Date.now() - run.progress.startedAt;
    this.nc.publish(this.subjects.discoveryProgress, encode(run.progress));
  }

  private async finish(run: ActiveRun, outcome: RunOutcome): Promise<void> {
    run.progress.outcome = outcome;
    try {
      this.publishProgress(run, {});
    } catch (err) {
      this.logger.warn({ err, runId: run.progress.runId }, "could not publish the run's end");
    } finally {
      this.runs.push({ ...run.progress });
      if (this.runs.length > RUNS_KEPT) this.runs.shift();
      if (this.run === run) this.run = undefined;
      this.actor.send({ type: DiscoveryEvents.RunEnded, runId: run.progress.runId, outcome });
    }
    this.logger.info(
      { runId: run.progress.runId, outcome, candidates: run.progress.candidates, evaluated: run.progress.evaluated },
      `run ${outcome}`,
    );
  }

  /** Stops the run in progress (or the one named): resolves once it has stopped, with its progress. */
  private async stopRun(runId: string | undefined, why: RunOutcome): Promise<RunProgress | null> {
    const run = this.run;
    if (run === undefined || (runId !== undefined && run.progress.runId !== runId)) {
      if (runId === undefined) return null;
      throw new NotFoundError(`run ${runId} is not in progress`, { field: "body.runId" });
    }
    run.stopping ??= why;
    run.abort.abort();
    await run.done;
    return { ...run.progress };
  }

  /** Stops runs, endpoints and followers, and disconnects. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.actor.send({ type: DiscoveryEvents.Stop });
      await this.stopRun(undefined, RunOutcomes.Stopped).catch(() => undefined);
      this.trading?.stop();
      await this.service?.stop().catch(() => undefined);
      await this.bars.close().catch(() => undefined);
      await this.candidates.close().catch(() => undefined);
      await this.nc.drain().catch(() => undefined);
      this.actor.send({ type: DiscoveryEvents.Stopped });
      this.actor.stop();
    })();
    return this.stopping;
  }
}
