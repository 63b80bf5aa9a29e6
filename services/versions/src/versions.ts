/**
 * A versions process: connects, makes sure its stream and buckets are there,
 * copies every version from the partition logs into the versions stream (from
 * where the copy last stood), and answers the version-control ops. Its
 * lifecycle is an xstate actor (machine.ts); this class carries out the effects
 * around it.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { Service } from "@nats-io/services";
import type { NatsConnection } from "@nats-io/transport-node";
import { requestsThroughMux, StratregClient } from "@stratreg/client";
import { connectService, logStates } from "@stratreg/process";
import { clusterSubjects, type VersionOp, VersionOps, versionBuckets, versionsStream } from "@stratreg/protocol";
import type { Logger } from "pino";
import { type Actor, createActor } from "xstate";
import type { VersionsConfig } from "./config.js";
import { answers, createVersionsMachine, VersionsEvents, type VersionsState } from "./machine.js";
import { type CallContext, copyReach, VersionControl } from "./operations.js";
import type { VersionRequest } from "./request.js";
import { registerVersionsService, VersionCounters } from "./service.js";
import { VersionCopy } from "./store/copy.js";
import { ensureVersionsStream, VersionsStore } from "./store/records.js";
import { BranchStore, TagStore } from "./store/refs.js";

export const VERSIONS_VERSION = "0.1.0";

export class VersionsProcess {
  private readonly counters = new VersionCounters();
  private service: Service | undefined;
  private stopping: Promise<void> | undefined;
  private caughtUpInMs: number | null = null;
  private readonly startedAt = performance.now();
  private readonly done: Promise<void>;
  private markDone: () => void = () => undefined;

  private constructor(
    readonly config: VersionsConfig,
    private readonly logger: Logger,
    private readonly nc: NatsConnection,
    private readonly control: VersionControl,
    private readonly store: VersionsStore,
    private readonly copy: VersionCopy,
    private readonly actor: Actor<ReturnType<typeof createVersionsMachine>>,
  ) {
    this.done = new Promise((resolve) => {
      this.markDone = resolve;
    });
  }

  /** Connects, registers its endpoints and starts copying; resolves at once (it answers once caught up). */
  static async start(config: VersionsConfig, logger: Logger): Promise<VersionsProcess> {
    const actor = createActor(createVersionsMachine(config.maxLagEntries));
    logStates(actor, logger, "versions", (snapshot) => ({ lagEntries: snapshot.context.lagEntries }));
    actor.start();
    const nc = await connectService(config, "versions").catch((err: unknown) => {
      actor.stop();
      throw err;
    });
    try {
      const client = await StratregClient.connect(nc, { cluster: config.cluster, timeoutMs: config.startTimeoutMs });
      const js = jetstream(requestsThroughMux(nc));
      const jsm = await jetstreamManager(nc);
      // The shards create the log stream before they answer; its replicas are the cluster's.
      const logStream = clusterSubjects(config.cluster).logStream;
      const log = await jsm.streams.info(logStream);
      const replicas = log.config.num_replicas;
      const buckets = versionBuckets(config.cluster);
      const kvm = new Kvm(js);
      const bucket = (name: string) => kvm.create(name, { history: 1, replicas });
      const [branches, tags, state] = await Promise.all([
        bucket(buckets.branches),
        bucket(buckets.tags),
        bucket(buckets.state),
        ensureVersionsStream(jsm, config.cluster, replicas),
      ]);
      const store = new VersionsStore(js, jsm, config.cluster, config.cacheStrategies);
      let process: VersionsProcess | undefined;
      const copy = new VersionCopy(js, jsm, state, {
        logStream,
        versionsStream: versionsStream(config.cluster),
        cluster: config.cluster,
        checkpointMs: config.checkpointMs,
        warn: (fields, message) => logger.warn(fields, message),
        onProgress: (pending) => process?.progressed(pending),
      });
      const control = new VersionControl(
        store,
        new BranchStore(branches),
        new TagStore(tags),
        client,
        copyReach(() => copy.progress.pending, Date.parse(log.created), config.historyRetentionMs),
      );
      process = new VersionsProcess(config, logger, nc, control, store, copy, actor);
      await process.open();
      return process;
    } catch (err) {
      actor.stop();
      await nc.close().catch(() => undefined);
      throw err;
    }
  }

  private async open(): Promise<void> {
    this.service = await registerVersionsService(this.nc, {
      cluster: this.config.cluster,
      member: this.config.member,
      version: VERSIONS_VERSION,
      maxInFlight: this.config.maxInFlight,
      concurrency: this.config.concurrency,
      counters: this.counters,
      logger: this.logger,
      handlers: {
        ready: () => answers(this.state),
        answer: (op, request, timeoutMs) => this.answer(op, request, timeoutMs),
        status: () => this.status(),
      },
    });
    this.actor.send({ type: VersionsEvents.Connected });
    await this.copy.start();
  }

  /** The copy stored a batch; `pending` history entries are left. */
  private progressed(pending: number): void {
    if (pending === 0 && this.state === "catching-up") {
      this.caughtUpInMs = Math.round(performance.now() - this.startedAt);
      this.actor.send({ type: VersionsEvents.CaughtUp });
      this.logger.info(
        { logSeq: this.copy.progress.seq, written: this.copy.progress.written, ms: this.caughtUpInMs },
        "versions caught up with the history",
      );
    }
    this.actor.send({ type: VersionsEvents.Lag, entries: pending });
  }

  private answer(op: VersionOp, request: VersionRequest<VersionOp>, timeoutMs: number): Promise<unknown> {
    const call: CallContext = { timeoutMs: Math.max(1, timeoutMs), cid: request.cid, issued: request.issued };
    const body = request.body as never;
    const by = (request.body as { by?: string }).by ?? "";
    const id = (request.body as { id: string }).id;
    // The version is written by then: a note that cannot be written costs its author, not the answer.
    const note = (what: string, text: string) => (version: number, changed: string[]) =>
      this.store
        .note({ id, version, op: what, by, note: text, changed })
        .catch((err: unknown) => this.logger.warn({ err, id, version }, `the ${what} note could not be written`));
    const c = this.control;
    switch (op) {
      case VersionOps.Log:
        return c.log(body, call);
      case VersionOps.Show:
        return c.show(body, call);
      case VersionOps.Diff:
        return c.diff(body, call);
      case VersionOps.Rollback:
        return c.rollback(body, call, note("rollback", `to ${(request.body as { version: number }).version}`));
      case VersionOps.BranchCreate:
        return c.branchCreate(body, call);
      case VersionOps.BranchList:
        return c.branchList(body);
      case VersionOps.BranchShow:
        return c.branchShow(body, call);
      case VersionOps.BranchUpdate:
        return c.branchUpdate(body);
      case VersionOps.BranchDelete:
        return c.branchDelete(body);
      case VersionOps.Merge:
        return c.merge(body, call, note("merge", `branch ${(request.body as { branch: string }).branch}`));
      case VersionOps.Tag:
        return c.tag(body, call);
      case VersionOps.Untag:
        return c.untag(body);
      default:
        return Promise.resolve(this.status());
    }
  }

  /** What the status endpoint answers. */
  status() {
    return {
      member: this.config.member,
      state: this.state,
      copy: {
        ...this.copy.progress,
        pending: Number.isFinite(this.copy.progress.pending) ? this.copy.progress.pending : null,
      },
      caughtUpInMs: this.caughtUpInMs,
      requests: { ...this.counters.requests },
      errors: this.counters.errors,
      overloaded: this.counters.overloaded,
      expired: this.counters.expired,
      rss: process.memoryUsage().rss,
    };
  }

  /** The lifecycle state. */
  get state(): VersionsState {
    return this.actor.getSnapshot().value as VersionsState;
  }

  /** Resolves once the process has stopped. */
  stopped(): Promise<void> {
    return this.done;
  }

  /** Stops answering, stops copying (saving where it stood) and closes the connection. */
  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    this.actor.send({ type: VersionsEvents.Stop });
    try {
      await this.service?.stop().catch((err: unknown) => this.logger.warn({ err }, "service stop failed"));
      await this.copy.stop();
      if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
    } finally {
      this.actor.send({ type: VersionsEvents.Stopped });
      this.actor.stop();
      this.logger.info("versions stopped");
      this.markDone();
    }
  }
}
