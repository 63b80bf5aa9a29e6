/**
 * A search process: connects, learns the partition count from the cluster,
 * follows every partition log into its index (snapshots first), and answers
 * `query`, `similar`, `status` and the genealogy ops. Its lifecycle is an xstate actor
 * (machine.ts); this class carries out the effects around it.
 */

import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { Service } from "@nats-io/services";
import type { NatsConnection } from "@nats-io/transport-node";
import { StratregClient } from "@stratreg/client";
import { connectService, logStates } from "@stratreg/process";
import type { SearchLag, SearchQuery, SearchStatus, SimilarQuery } from "@stratreg/protocol";
import { LogFollower } from "@stratreg/replica";
import type { Logger } from "pino";
import { type Actor, createActor } from "xstate";
import type { SearchConfig } from "./config.js";
import { breeding, dynasties, family, lineage } from "./genealogy.js";
import { answers, createSearchMachine, SearchEvents, type SearchState } from "./machine.js";
import { runQuery, runSimilar } from "./query.js";
import { registerSearchService, SearchCounters } from "./service.js";
import { StrategyIndex } from "./strategies.js";

export const SEARCH_VERSION = "0.1.0";

/** Bytes of a query reply kept for everything but the strategies (envelope, ids, versions, lag). */
const REPLY_ALLOWANCE = 64 * 1024;
/** How often the process looks at its lag (and tells its machine). */
const TICK_MS = 500;

export class SearchProcess {
  private readonly counters = new SearchCounters();
  private service: Service | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  /** How long loading every partition took, ms (null until it has). */
  private loadedInMs: number | null = null;
  private readonly done: Promise<void>;
  private markDone: () => void = () => undefined;

  private constructor(
    readonly config: SearchConfig,
    private readonly logger: Logger,
    private readonly nc: NatsConnection,
    readonly index: StrategyIndex,
    private readonly follower: LogFollower,
    private readonly actor: Actor<ReturnType<typeof createSearchMachine>>,
  ) {
    this.done = new Promise((resolve) => {
      this.markDone = resolve;
    });
  }

  /** Connects, registers its endpoints, loads every partition and resolves once it answers queries. */
  static async start(config: SearchConfig, logger: Logger): Promise<SearchProcess> {
    const actor = createActor(createSearchMachine(config.maxLagMs));
    logStates(actor, logger, "search", (snapshot) => ({ lagMs: snapshot.context.lagMs }));
    actor.start();
    const nc = await connectService(config, "search").catch((err: unknown) => {
      actor.stop();
      throw err;
    });
    try {
      const client = await StratregClient.connect(nc, { cluster: config.cluster, timeoutMs: config.startTimeoutMs });
      const index = new StrategyIndex(client.partitions);
      const follower = new LogFollower(nc, jetstream(nc), await jetstreamManager(nc), client.subjects, index, {
        partitionCount: client.partitions,
        probeMs: config.probeMs,
        warn: (fields, message) => logger.warn(fields, message),
        onLoaded: () => logger.info({ strategies: index.size }, "snapshots loaded; following the logs"),
      });
      const search = new SearchProcess(config, logger, nc, index, follower, actor);
      await search.open();
      return search;
    } catch (err) {
      actor.stop();
      await nc.close().catch(() => undefined);
      throw err;
    }
  }

  private async open(): Promise<void> {
    this.service = await registerSearchService(this.nc, {
      cluster: this.config.cluster,
      member: this.config.member,
      version: SEARCH_VERSION,
      maxInFlight: this.config.maxInFlight,
      counters: this.counters,
      logger: this.logger,
      handlers: {
        ready: () => answers(this.state),
        query: (body: SearchQuery) => ({
          ...runQuery(this.index, body, (this.nc.info?.max_payload ?? 1024 * 1024) - REPLY_ALLOWANCE),
          lag: this.lag(),
          member: this.config.member,
        }),
        similar: (body: SimilarQuery) => ({
          ...runSimilar(this.index, body),
          lag: this.lag(),
          member: this.config.member,
        }),
        status: () => this.status(),
        lineage: (body) => ({ ...lineage(this.index, body, this.maxReplyBytes()), ...this.answeredBy() }),
        family: (body) => ({ ...family(this.index, body, this.maxReplyBytes()), ...this.answeredBy() }),
        breeding: (body) => ({ ...breeding(this.index, body), ...this.answeredBy() }),
        dynasties: (body) => ({ ...dynasties(this.index, body), ...this.answeredBy() }),
      },
    });
    this.actor.send({ type: SearchEvents.Connected });
    const started = performance.now();
    await this.follower.start();
    this.loadedInMs = Math.round(performance.now() - started);
    this.actor.send({ type: SearchEvents.Loaded, strategies: this.index.size });
    this.logger.info(
      { strategies: this.index.size, ms: Math.round(performance.now() - started) },
      "search loaded every partition",
    );
    this.timer = setInterval(() => this.actor.send({ type: SearchEvents.Lag, ms: this.follower.lag().ms }), TICK_MS);
    this.timer.unref();
  }

  /** Bytes a reply may spend on its results. */
  private maxReplyBytes(): number {
    return (this.nc.info?.max_payload ?? 1024 * 1024) - REPLY_ALLOWANCE;
  }

  /** What every reply ends with: how far behind the logs, and who answered. */
  private answeredBy(): { lag: SearchLag; member: string } {
    return { lag: this.lag(), member: this.config.member };
  }

  private lag(): SearchLag {
    const lag = this.follower.lag();
    return { entries: lag.entries, ms: Number.isFinite(lag.ms) ? Math.round(lag.ms) : null };
  }

  /** What the status endpoint answers. */
  status(): SearchStatus & {
    state: SearchState;
    requests: Record<string, number>;
    errors: number;
    expired: number;
    rss: number;
    loadedInMs: number | null;
  } {
    return {
      member: this.config.member,
      state: this.state,
      strategies: this.index.size,
      withReturns: this.index.behaviour.size,
      lag: this.lag(),
      partitions: this.follower.partitions.length,
      requests: { ...this.counters.requests },
      errors: this.counters.errors,
      expired: this.counters.expired,
      rss: process.memoryUsage().rss,
      loadedInMs: this.loadedInMs,
    };
  }

  /** The lifecycle state. */
  get state(): SearchState {
    return this.actor.getSnapshot().value as SearchState;
  }

  /** Resolves once the process has stopped. */
  stopped(): Promise<void> {
    return this.done;
  }

  /** Stops answering, stops following and closes the connection. */
  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    this.actor.send({ type: SearchEvents.Stop });
    clearInterval(this.timer);
    try {
      await this.service?.stop().catch((err: unknown) => this.logger.warn({ err }, "service stop failed"));
      await this.follower.stop();
      if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
    } finally {
      this.actor.send({ type: SearchEvents.Stopped });
      this.actor.stop();
      this.logger.info("search stopped");
      this.markDone();
    }
  }
}
