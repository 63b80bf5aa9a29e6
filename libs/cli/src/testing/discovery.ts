/**
 * A stand-in for discovery in the CLI's tests: it answers discovery's real
 * subjects on a real nats-server with the service's reply shapes, appends
 * imported bars, and plays runs step by step, publishing their progress (the
 * first step before the run's reply, as the service does) and ending as the
 * test says. Not part of the build.
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import {
  type CandidateMessage,
  type ClusterSubjects,
  ConflictError,
  clusterSubjects,
  DiscoveryControlOps,
  DiscoveryOps,
  decode,
  ErrorCodes,
  encode,
  NotFoundError,
  PROTOCOL_VERSION,
  type RunOutcome,
  type RunProgress,
  type SeriesInfo,
  StratregError,
  seriesKeyOf,
} from "@stratreg/protocol";

/** How the next run goes. */
export interface FakeRunPlan {
  /** Progress published one after another, every `stepMs`. */
  steps: Array<Partial<RunProgress>>;
  /** How it ends after its steps; undefined: it keeps going until stopped. */
  outcome?: RunOutcome;
  /** Why it failed, for a failed run. */
  error?: string;
  /** Candidates it finds (their `runId` is set to the run's). */
  candidates?: CandidateMessage[];
  stepMs?: number;
  /** The run's last message is lost: it ends (and status says so) without publishing it. */
  loseLast?: boolean;
}

interface Request {
  v: number;
  body: Record<string, unknown>;
}

interface Running {
  progress: RunProgress;
  timer: NodeJS.Timeout | undefined;
  plan: FakeRunPlan;
}

/** Discovery played on `cluster`'s subjects. */
export class FakeDiscovery {
  /** Every request, in order: the operation and its body. */
  readonly requests: Array<{ op: string; body: Record<string, unknown> }> = [];
  /** How the next run goes. */
  plan: FakeRunPlan = { steps: [], outcome: "completed" };
  /** The refusal of the next run requests, when set. */
  refuseRun: StratregError | undefined;
  /** The refusal of the next stop requests, when set (the run goes on). */
  refuseStop: StratregError | undefined;
  readonly candidates: CandidateMessage[] = [];
  readonly runs: RunProgress[] = [];
  private readonly series = new Map<string, { info: SeriesInfo; times: Set<number> }>();
  private readonly subscriptions: Subscription[] = [];
  private running: Running | undefined;
  private runCount = 0;
  readonly subjects: ClusterSubjects;

  private constructor(
    private readonly nc: NatsConnection,
    cluster: string,
  ) {
    this.subjects = clusterSubjects(cluster);
  }

  /** Starts answering; resolves once the server has every subscription. */
  static async start(nc: NatsConnection, cluster: string): Promise<FakeDiscovery> {
    const fake = new FakeDiscovery(nc, cluster);
    const handlers: Record<string, (body: Record<string, unknown>) => unknown> = {
      [fake.subjects.discovery(DiscoveryOps.Import)]: (body) => fake.import(body),
      [fake.subjects.discovery(DiscoveryOps.Data)]: () => ({
        series: [...fake.series.values()].map((s) => s.info),
        skipped: 0,
      }),
      [fake.subjects.discovery(DiscoveryOps.Status)]: () => fake.status(),
      [fake.subjects.discovery(DiscoveryOps.Candidates)]: (body) => ({
        candidates: fake.candidates
          .filter((c) => body.runId === undefined || c.runId === body.runId)
          .slice(0, (body.limit as number | undefined) ?? 20),
      }),
      [fake.subjects.discovery(DiscoveryOps.Scan)]: () => null,
      [fake.subjects.discoveryControl(DiscoveryControlOps.Run)]: (body) => fake.run(body),
      [fake.subjects.discoveryControl(DiscoveryControlOps.Stop)]: (body) => fake.stop(body.runId as string | undefined),
    };
    for (const [subject, handle] of Object.entries(handlers)) {
      const op = subject.split(".").at(-1) as string;
      fake.subscriptions.push(
        nc.subscribe(subject, {
          callback: (err, msg) => {
            if (err !== null) return;
            const request = decode(msg.data) as Request;
            fake.requests.push({ op, body: request.body });
            try {
              msg.respond(encode({ v: PROTOCOL_VERSION, ok: true, body: handle(request.body) }));
            } catch (error) {
              const wire =
                error instanceof StratregError
                  ? error.toWire()
                  : { code: "INTERNAL", message: String(error), retryable: false };
              msg.respond(encode({ v: PROTOCOL_VERSION, ok: false, error: wire }));
            }
          },
        }),
      );
    }
    await nc.flush();
    return fake;
  }

  /** The bodies of the requests for `op`. */
  bodies(op: string): Array<Record<string, unknown>> {
    return this.requests.filter((r) => r.op === op).map((r) => r.body);
  }

  private import(body: Record<string, unknown>) {
    const { symbol, venue } = body as { symbol: string; venue: string };
    const bars = body.bars as Array<{ t: number }>;
    const key = seriesKeyOf(symbol, venue);
    let held = this.series.get(key);
    if (held === undefined) {
      held = { info: { symbol, venue, bars: 0, from: Number.POSITIVE_INFINITY, to: 0 }, times: new Set() };
      this.series.set(key, held);
    }
    let appended = 0;
    for (const bar of bars) {
      if (held.times.has(bar.t)) continue;
      held.times.add(bar.t);
      held.info.from = Math.min(held.info.from, bar.t);
      held.info.to = Math.max(held.info.to, bar.t);
      appended++;
    }
    held.info.bars = held.times.size;
    return { symbol, venue, appended, duplicates: bars.length - appended, bars: held.times.size };
  }

  private status() {
    return {
      member: "fake-discovery",
      state: this.running === undefined ? "idle" : "running",
      trading: "ACTIVE",
      run: this.running === undefined ? null : { ...this.running.progress },
      runs: [...this.runs].reverse(),
      series: this.series.size,
      candidates: this.candidates.length,
    };
  }

  private run(body: Record<string, unknown>): RunProgress {
    if (this.refuseRun !== undefined) throw this.refuseRun;
    if (this.running !== undefined) {
      throw new ConflictError(ErrorCodes.Conflict, `run ${this.running.progress.runId} is in progress`, {
        details: { runId: this.running.progress.runId },
      });
    }
    const runId = (body.resume as string | undefined) ?? `run-${++this.runCount}`;
    const plan = this.plan;
    const progress: RunProgress = {
      runId,
      startedAt: Date.now(),
      budgetMs: (body.budgetMs as number | undefined) ?? 60_000,
      elapsedMs: 0,
      phase: "loading",
      targets: [],
      targetsDone: 0,
      target: null,
      generation: 0,
      evaluated: 0,
      bestTrainSharpe: null,
      candidates: 0,
    };
    const steps = [...plan.steps];
    const step = () => {
      const next = steps.shift();
      if (next !== undefined) {
        Object.assign(progress, next);
        this.publish(progress);
      } else if (plan.outcome !== undefined) {
        this.finish(plan.outcome);
      } else {
        this.publish(progress);
      }
    };
    const running: Running = { progress, plan, timer: undefined };
    this.running = running;
    // As the service does: the run's first progress goes out before its reply.
    step();
    if (this.running === running) running.timer = setInterval(step, plan.stepMs ?? 50);
    return { ...progress };
  }

  private publish(progress: RunProgress): void {
    progress.elapsedMs = Date.now() - progress.startedAt;
    this.nc.publish(this.subjects.discoveryProgress, encode(progress));
  }

  private finish(outcome: RunOutcome): RunProgress {
    const running = this.running as Running;
    clearInterval(running.timer);
    this.running = undefined;
    const { progress, plan } = running;
    for (const candidate of plan.candidates ?? []) {
      const found = { ...candidate, runId: progress.runId };
      this.candidates.unshift(found);
      this.nc.publish(this.subjects.discoveryCandidates, encode(found));
    }
    progress.candidates += plan.candidates?.length ?? 0;
    progress.outcome = outcome;
    if (plan.error !== undefined) progress.error = plan.error;
    if (plan.loseLast) progress.elapsedMs = Date.now() - progress.startedAt;
    else this.publish(progress);
    this.runs.push({ ...progress });
    return { ...progress };
  }

  private stop(runId: string | undefined): RunProgress | null {
    if (this.refuseStop !== undefined) throw this.refuseStop;
    if (this.running === undefined || (runId !== undefined && this.running.progress.runId !== runId)) {
      if (runId === undefined) return null;
      throw new NotFoundError(`run ${runId} is not in progress`, { field: "body.runId" });
    }
    return this.finish("stopped");
  }

  /** Stops answering and ends the run in progress without a word. */
  close(): void {
    if (this.running !== undefined) clearInterval(this.running.timer);
    for (const sub of this.subscriptions) sub.unsubscribe();
  }
}
