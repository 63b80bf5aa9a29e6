/**
 * The graph process: one leader and any number of standbys. A standby watches
 * the leader lease; whoever takes it reads the whole graph log, appends an
 * epoch marker (which fences every older leader's appends), starts answering
 * on the graph subjects and finishes whatever the log left open. A leader that
 * loses its lease or has an append refused stops answering at once and goes
 * back to standby. Its lifecycle is an xstate actor (machine.ts); this class
 * carries out the effects around it.
 */
import { performance } from "node:perf_hooks";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { Service } from "@nats-io/services";
import type { NatsConnection } from "@nats-io/transport-node";
import { requestsThroughMux, StratregClient } from "@stratreg/client";
import { type Lease, LeaseTable } from "@stratreg/fencing";
import { connectService, logStates } from "@stratreg/process";
import { clusterSubjects } from "@stratreg/protocol";
import type { Logger } from "pino";
import { type Actor, createActor } from "xstate";
import type { GraphConfig } from "./config.js";
import { GraphLeader } from "./leader.js";
import { ensureGraphLog, GraphLog } from "./log.js";
import { GraphEvents, GraphStates, graphMachine, type GraphState as LifecycleState } from "./machine.js";
import { GraphCounters, registerGraphService } from "./service.js";
import { GraphState } from "./state.js";

export const GRAPH_VERSION = "0.1.0";
/** The lease key in the graph's bucket. */
const LEASE_KEY = "leader";
/** How often a standby looks at the lease. */
const LEASE_POLL_MS = 100;

export class GraphProcess {
  private leader: GraphLeader | undefined;
  private service: Service | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private transition: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private readonly counters = new GraphCounters();
  private lastTakeoverMs: number | null = null;

  private constructor(
    readonly config: GraphConfig,
    private readonly logger: Logger,
    private readonly nc: NatsConnection,
    private readonly client: StratregClient,
    private readonly log: GraphLog,
    private readonly leases: LeaseTable,
    private readonly actor: Actor<typeof graphMachine>,
  ) {}

  static async start(config: GraphConfig, logger: Logger): Promise<GraphProcess> {
    const actor = createActor(graphMachine);
    logStates(actor, logger, "graph", (snapshot) => ({ epoch: snapshot.context.epoch }));
    actor.start();
    const nc = await connectService(config, "graph");
    try {
      const client = await StratregClient.connect(nc, { cluster: config.cluster, timeoutMs: config.startTimeoutMs });
      const subjects = clusterSubjects(config.cluster);
      const js = jetstream(requestsThroughMux(nc));
      const jsm = await jetstreamManager(nc);
      const replicas = Math.max(1, client.config.replicas);
      await ensureGraphLog(jsm, subjects, replicas);
      const kv = await new Kvm(js).create(subjects.graphLogStream, { history: 1, replicas });
      const instance = `${config.member}-${process.pid}-${Date.now().toString(36)}`;
      const leases = new LeaseTable(
        kv,
        () => LEASE_KEY,
        (key) => (key === LEASE_KEY ? 0 : undefined),
        config.member,
        instance,
        { leaseMs: config.leaseMs, marginMs: config.leaseMarginMs },
        logger,
      );
      await leases.start();
      const graph = new GraphProcess(config, logger, nc, client, new GraphLog(js, jsm, subjects), leases, actor);
      graph.pollTimer = setInterval(() => graph.poll(), LEASE_POLL_MS);
      graph.poll();
      return graph;
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw err;
    }
  }

  get state(): LifecycleState {
    return this.actor.getSnapshot().value as LifecycleState;
  }

  private poll(): void {
    if (this.state !== GraphStates.Standby || this.stopping !== undefined) return;
    if (this.leases.waitBeforeTaking(0) > 0) return;
    this.serially(async () => {
      if (this.state !== GraphStates.Standby || this.stopping !== undefined) return;
      const started = performance.now();
      const lease = await this.leases.tryTake(0);
      if (lease === undefined) return;
      this.actor.send({ type: GraphEvents.LeaseTaken, epoch: lease.epoch });
      await this.takeOver(lease, started);
    });
  }

  private serially(run: () => Promise<void>): void {
    this.transition = this.transition
      .then(run)
      .catch((err: unknown) => this.logger.error({ err }, "graph transition failed"));
  }

  private async takeOver(lease: Lease, started: number): Promise<void> {
    try {
      const state = new GraphState();
      await this.log.readAll(0, (entry, seq) => state.apply(entry, seq));
      if (state.epoch >= lease.epoch)
        throw new Error(`the log holds epoch ${state.epoch}, not below ours (${lease.epoch})`);
      if (!(await this.leases.renew(lease)) || !lease.fresh()) throw new Error("the lease lapsed while catching up");
      const marker = { t: "epoch", epoch: lease.epoch, member: this.config.member, at: Date.now() } as const;
      // The marker fences every older leader: its next append expects a sequence that is no longer last.
      state.apply(marker, await this.log.append(marker, state.seq));
      const leader = new GraphLeader(
        state,
        this.log,
        this.client,
        lease,
        this.leases,
        await this.log.incarnation(),
        this.config,
        this.logger,
        (reason) => this.stepDown(reason),
      );
      this.leader = leader;
      this.service = await registerGraphService(this.nc, {
        cluster: this.config.cluster,
        member: this.config.member,
        version: GRAPH_VERSION,
        leader,
        counters: this.counters,
        logger: this.logger,
      });
      leader.start();
      this.lastTakeoverMs = Math.round(performance.now() - started);
      this.actor.send({ type: GraphEvents.TookOver, epoch: lease.epoch });
      this.logger.info(
        { epoch: lease.epoch, seq: state.seq, edges: state.graph.edges, takeoverMs: this.lastTakeoverMs },
        "graph leader",
      );
    } catch (err) {
      this.logger.warn({ err }, "taking over the graph failed");
      await this.leases.release(lease).catch(() => undefined);
      this.stepDown(`taking over failed: ${(err as Error).message}`);
    }
  }

  /** Stops answering and goes back to standby. */
  private stepDown(reason: string): void {
    const leader = this.leader;
    this.leader = undefined;
    leader?.stop();
    const service = this.service;
    this.service = undefined;
    void service?.stop().catch(() => undefined);
    if (this.state === GraphStates.Leading || this.state === GraphStates.CatchingUp) {
      this.logger.warn({ reason }, "graph leadership ended");
      this.actor.send({ type: GraphEvents.SteppedDown, reason });
    }
  }

  /** Who leads, for tests and the launcher. */
  status(): { state: LifecycleState; epoch: number; takeoverMs: number | null } {
    return { state: this.state, epoch: this.actor.getSnapshot().context.epoch, takeoverMs: this.lastTakeoverMs };
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.actor.send({ type: GraphEvents.Stop });
      clearInterval(this.pollTimer);
      await this.transition;
      const leader = this.leader;
      this.leader = undefined;
      leader?.stop();
      await this.service?.stop().catch(() => undefined);
      // Let a standby take over at once.
      if (leader !== undefined) await this.leases.release(leader.lease).catch(() => undefined);
      this.leases.stop();
      await this.nc.drain().catch(() => undefined);
      this.actor.send({ type: GraphEvents.Stopped });
    })();
    return this.stopping;
  }
}
