/**
 * The graph leader on its own, against a real nats-server and a real shard
 * process: what a caller sees when a request is refused (a live source, a root
 * that cannot move, a log another leader wrote, a log that takes no appends, a
 * shard that does not answer), how a cascade retried by its command id is
 * answered, and how a leader finishes what the log left open — a record naming
 * a strategy the shards do not have, a cascade half done by a leader that
 * stopped, past the shards' command window — moving each strategy exactly once.
 * The last tests SIGKILL the shard and the nats-server under a leader.
 */
import { fileURLToPath } from "node:url";
import { DiscardPolicy, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { connect, type NatsConnection, nuid } from "@nats-io/transport-node";
import { clusterStatus, RiskClient, type Strategy, StratregClient } from "@stratreg/client";
import { type Lease, LeaseTable } from "@stratreg/fencing";
import {
  type CascadeRequest,
  type ClusterSubjects,
  clusterSubjects,
  ErrorCodes,
  type LifecycleContext,
} from "@stratreg/protocol";
import {
  goodEvidence,
  type NatsServerProcess,
  refusal,
  type ServiceProcess,
  spawnService,
  startNatsServer,
  uniqueClusterName,
  waitFor,
} from "@stratreg/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { loadConfig } from "./config.js";
import { GraphLeader } from "./leader.js";
import { ensureGraphLog, type GraphEntry, GraphLog } from "./log.js";
import { GraphState } from "./state.js";

const SHARD_ENTRY = fileURLToPath(new URL("../../registry-shard/dist/main.js", import.meta.url));
const GUARD_ENTRY = fileURLToPath(new URL("../../risk-guard/dist/main.js", import.meta.url));
const by = "quant-1";
const logger = pino({ level: "silent" });
/**
 * The shards recognise a command id for a few seconds (plus the skew allowed): long enough for the
 * SDK's retries on a loaded machine, short enough for a test to outlive.
 */
const COMMAND_WINDOW_MS = 4000;
const CLOCK_SKEW_MS = 500;

/** One partition, so that every strategy is on the one shard the tests start, kill and restart. */
function startShard(natsUrl: string, cluster: string, member: string): ServiceProcess {
  return spawnService({
    entry: SHARD_ENTRY,
    name: member,
    env: {
      NATS_URL: natsUrl,
      STRATREG_CLUSTER: cluster,
      STRATREG_MEMBER_ID: member,
      STRATREG_PARTITIONS: "1",
      STRATREG_HEARTBEAT_MS: "150",
      STRATREG_MEMBER_TTL_MS: "600",
      STRATREG_JOIN_GRACE_MS: "300",
      STRATREG_LEASE_MS: "1000",
      STRATREG_COMMAND_WINDOW_MS: String(COMMAND_WINDOW_MS),
      STRATREG_MAX_CLOCK_SKEW_MS: String(CLOCK_SKEW_MS),
      LOG_LEVEL: "info",
    },
  });
}

async function serving(nc: NatsConnection, cluster: string): Promise<void> {
  await waitFor(
    async () => {
      const status = await clusterStatus(nc, cluster, 1, 150);
      return status.unserved.length === 0 && status.shards.some((shard) => shard.serving.length > 0);
    },
    { timeoutMs: 30_000, intervalMs: 100, message: `the shard of ${cluster} to serve` },
  );
}

/** A graph leader running in this process, as a graph process's takeover sets one up. */
interface Leading {
  leader: GraphLeader;
  lease: Lease;
  leases: LeaseTable;
  /** Resolves with the reason, once leadership is lost. */
  lost: Promise<string>;
}

/** One cluster's graph: its log, its lease bucket, a client of its shards, and the leaders it had. */
class GraphWorld {
  readonly leaders: Leading[] = [];
  readonly subjects: ClusterSubjects;
  readonly log: GraphLog;
  private constructor(
    readonly natsUrl: string,
    readonly cluster: string,
    readonly nc: NatsConnection,
    readonly jsm: JetStreamManager,
    readonly kv: KV,
    readonly client: StratregClient,
  ) {
    this.subjects = clusterSubjects(cluster);
    this.log = new GraphLog(jetstream(nc), jsm, this.subjects);
  }

  static async open(natsUrl: string, cluster: string): Promise<GraphWorld> {
    const nc = await connect({ servers: natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    const client = await StratregClient.connect(nc, { cluster, timeoutMs: 15_000 });
    await serving(nc, cluster);
    const jsm = await jetstreamManager(nc);
    const subjects = clusterSubjects(cluster);
    await ensureGraphLog(jsm, subjects, 1);
    const kv = await new Kvm(jetstream(nc)).create(subjects.graphLogStream, { history: 1 });
    return new GraphWorld(natsUrl, cluster, nc, jsm, kv, client);
  }

  /** Reads the log, takes the lease, marks the log with the new epoch and starts leading. */
  async lead(member: string, env: Record<string, string> = {}): Promise<Leading> {
    const config = loadConfig([], {
      NATS_URL: this.natsUrl,
      STRATREG_CLUSTER: this.cluster,
      STRATREG_GRAPH_ID: member,
      STRATREG_GRAPH_LEASE_MS: "1000",
      STRATREG_GRAPH_PROJECT_WAIT_MS: "10000",
      ...env,
    });
    const leases = new LeaseTable(
      this.kv,
      () => "leader",
      (key) => (key === "leader" ? 0 : undefined),
      member,
      `${member}-${nuid.next()}`,
      { leaseMs: config.leaseMs, marginMs: config.leaseMarginMs },
      logger,
    );
    await leases.start();
    const state = new GraphState();
    await this.log.readAll(0, (entry, seq) => state.apply(entry, seq));
    const lease = await waitFor(() => leases.tryTake(0, state.epoch), {
      timeoutMs: 15_000,
      message: `${member} to take the graph lease`,
    });
    const marker = { t: "epoch", epoch: lease.epoch, member, at: Date.now() } as const;
    state.apply(marker, await this.log.append(marker, state.seq));
    let onLost: (reason: string) => void = () => undefined;
    const lost = new Promise<string>((resolve) => {
      onLost = resolve;
    });
    const leader = new GraphLeader(
      state,
      this.log,
      this.client,
      lease,
      leases,
      await this.log.incarnation(),
      config,
      logger,
      onLost,
    );
    leader.start();
    const leading = { leader, lease, leases, lost };
    this.leaders.push(leading);
    return leading;
  }

  /** Stops `leading` and gives its lease up, as a graph process that is stopped does. */
  async stepDown({ leader, lease, leases }: Leading): Promise<void> {
    leader.stop();
    await leases.release(lease);
  }

  async entries(): Promise<Array<{ seq: number; entry: GraphEntry }>> {
    const out: Array<{ seq: number; entry: GraphEntry }> = [];
    await this.log.readAll(0, (entry, seq) => out.push({ seq, entry }));
    return out;
  }

  /**
   * Resolves once the log will take no append by itself: every link and unlink is on the
   * shards and a `projected` record says so.
   */
  async quiet(leader: GraphLeader): Promise<number> {
    return waitFor(
      async () => {
        if (leader.status().pending > 0) return undefined;
        const log = await this.entries();
        const lastEdges = log.findLast(({ entry }) => entry.t === "edges")?.seq ?? 0;
        const mark = log.findLast(({ entry }) => entry.t === "projected")?.entry;
        const marked = lastEdges === 0 || (mark?.t === "projected" && mark.upTo >= lastEdges);
        return marked ? log.at(-1)?.seq : undefined;
      },
      { timeoutMs: 15_000, message: "the graph log to settle" },
    );
  }

  register(ids: string[]): Promise<unknown> {
    return this.client.registerMany(ids.map((id) => ({ id, name: id, owner: "desk-1" })));
  }

  async activate(id: string): Promise<Strategy> {
    await this.client.attachEvidence(id, goodEvidence(), { by });
    await this.client.transition(id, "validate", { by, reason: "backtests done" });
    return this.client.transition(id, "activate", { by, reason: "approved" });
  }

  async close(): Promise<void> {
    for (const { leader, leases } of this.leaders) {
      leader.stop();
      leases.stop();
    }
    await this.nc.close().catch(() => undefined);
  }
}

/** The SUSPEND moves in a strategy's history that name `cause`. */
const suspensions = (strategy: Strategy, cause: string) =>
  (((strategy.lifecycle?.context ?? {}) as LifecycleContext).history ?? []).filter(
    (move) => move.event === "SUSPEND" && (move.reason ?? "").includes(cause),
  );

const cascadeBody = (id: string, action: CascadeRequest["action"], reason: string): CascadeRequest => ({
  id,
  action,
  by: "ops-1",
  reason,
});

describe("a graph leader with a running shard and risk guard", () => {
  let world: GraphWorld;
  let shard: ServiceProcess;
  let guard: ServiceProcess;

  beforeAll(async () => {
    const natsUrl = inject("natsUrl");
    const cluster = uniqueClusterName("leader");
    shard = startShard(natsUrl, cluster, "leader-shard");
    guard = spawnService({
      entry: GUARD_ENTRY,
      name: "leader-guard",
      env: {
        NATS_URL: natsUrl,
        STRATREG_CLUSTER: cluster,
        STRATREG_RISK_GUARD_ID: "leader-guard",
        STRATREG_RISK_LEASE_MS: "1000",
        LOG_LEVEL: "info",
      },
    });
    world = await GraphWorld.open(natsUrl, cluster);
    const risk = new RiskClient(world.nc, { cluster, timeoutMs: 15_000 });
    await waitFor(async () => (await risk.state({ timeoutMs: 500 })).state === "ACTIVE", {
      timeoutMs: 20_000,
      intervalMs: 100,
      message: "trading to be active",
    });
  });

  afterAll(async () => {
    await world?.close();
    await shard?.kill("SIGKILL").catch(() => undefined);
    await guard?.kill("SIGKILL").catch(() => undefined);
  });

  it("refuses to change a live strategy's dependencies and to cascade from a root that cannot move, naming the state", async () => {
    const { leader, lease } = await world.lead("graph-a");
    expect(leader.epoch).toBe(lease.epoch);
    expect(leader.status()).toMatchObject({ member: "graph-a", leader: true, epoch: lease.epoch });
    await world.register(["l-live", "l-other", "l-candidate"]);
    await world.activate("l-live");

    const linked = await refusal(leader.link({ from: "l-live", to: ["l-other"], by }));
    expect(linked).toMatchObject({ code: ErrorCodes.InvalidTransition, details: { id: "l-live", state: "active" } });
    const unlinked = await refusal(leader.unlink({ from: "l-live", to: ["l-other"], by }));
    expect(unlinked).toMatchObject({ code: ErrorCodes.InvalidTransition, details: { id: "l-live", state: "active" } });
    await world.client.transition("l-live", "suspend", { by, reason: "drawdown" });
    expect(await refusal(leader.link({ from: "l-live", to: ["l-other"], by }))).toMatchObject({
      code: ErrorCodes.InvalidTransition,
      details: { state: "suspended" },
    });

    const notActive = await refusal(leader.cascade(cascadeBody("l-candidate", "suspend", "breach")));
    expect(notActive).toMatchObject({
      code: ErrorCodes.InvalidTransition,
      details: { id: "l-candidate", state: "candidate" },
    });
    const missing = await refusal(leader.cascade(cascadeBody("l-nobody", "suspend", "breach")));
    expect(missing).toMatchObject({ code: ErrorCodes.NotFound, field: "body.id" });

    // Nothing was written: the log holds only this leader's epoch marker, and the shards no edge.
    expect((await world.entries()).map(({ entry }) => entry.t)).toEqual(["epoch"]);
    expect((await world.client.get("l-other")).dependents).toBeUndefined();
    expect(leader.status()).toMatchObject({ edges: 0, seq: 1 });
  });

  it("answers a cascade asked twice at once, and again after it closed, with one outcome, made once", async () => {
    const { leader } = world.leaders.at(-1) as Leading;
    await world.register(["k-root", "k-live", "k-idle"]);
    await leader.link({ from: "k-live", to: ["k-root"], by });
    await leader.link({ from: "k-idle", to: ["k-root"], by });
    for (const id of ["k-root", "k-live"]) await world.activate(id);

    const body = cascadeBody("k-root", "suspend", "drawdown breach");
    const [first, concurrent] = await Promise.all([leader.cascade(body, "k-once"), leader.cascade(body, "k-once")]);
    const later = await leader.cascade(body, "k-once");
    expect(first).toEqual({
      id: "k-root",
      action: "suspend",
      seq: first.seq,
      suspended: [{ id: "k-live", depth: 1 }],
      skipped: [{ id: "k-idle", depth: 1, state: "candidate" }],
    });
    expect(concurrent).toEqual(first);
    expect(later).toEqual(first);

    const log = await world.entries();
    expect(log.filter(({ entry }) => entry.t === "cascade" && entry.cid === "k-once").map(({ seq }) => seq)).toEqual([
      first.seq,
    ]);
    expect(log.filter(({ entry }) => entry.t === "done" && entry.seq === first.seq)).toHaveLength(1);
    const [root, live, idle] = (await world.client.getMany(["k-root", "k-live", "k-idle"])).strategies;
    expect(root?.state).toBe("suspended");
    expect(live?.state).toBe("suspended");
    expect(suspensions(live as Strategy, "dependency k-root")).toHaveLength(1);
    expect(idle?.state).toBe("candidate");
  });

  it("carries a record onto more strategies than the shard writes it keeps in flight, and the record after it", async () => {
    const { leader } = world.leaders.at(-1) as Leading;
    const targets = Array.from({ length: 64 }, (_, i) => `w-${i}`);
    await world.register(["w-wide", ...targets, "w-next", "w-after"]);
    const before = leader.status().seq;
    const wide = leader.link({ from: "w-wide", to: targets, by });
    // The next record is decided while the wide one is still on its way to the shard.
    await waitFor(() => leader.status().seq > before, { intervalMs: 1 });
    const next = leader.link({ from: "w-next", to: ["w-after"], by });
    const [wideReply, nextReply] = await Promise.all([wide, next]);
    expect(wideReply).toMatchObject({ from: "w-wide", changed: targets, unchanged: [] });
    expect(nextReply).toMatchObject({ from: "w-next", changed: ["w-after"] });
    expect(nextReply.seq).toBeGreaterThan(wideReply.seq);

    await waitFor(() => leader.status().pending === 0, { message: "both records on the shard" });
    const strategies = new Map(
      (await world.client.getMany(["w-wide", "w-next", ...targets])).strategies.map((s) => [s.id, s]),
    );
    expect([...(strategies.get("w-wide")?.dependencies ?? [])].sort()).toEqual([...targets].sort());
    for (const id of targets) expect(strategies.get(id)?.dependents, id).toEqual(["w-wide"]);
    expect(strategies.get("w-next")?.dependencies).toEqual(["w-after"]);
  });

  it("steps down when another leader wrote the log: every change in hand is refused NOT_OWNER and none is kept", async () => {
    const fenced = world.leaders.at(-1) as Leading;
    const { leader } = fenced;
    await world.register(["f-a", "f-b", "f-c", "f-d"]);
    await leader.link({ from: "f-a", to: ["f-b"], by });
    const edges = leader.status().edges;
    await world.quiet(leader);
    // Another process took over and marked the log (as a leader whose lease this one missed would).
    await waitFor(async () => {
      const last = await world.log.lastSeq();
      const rival = { t: "epoch", epoch: leader.epoch + 1, member: "graph-rival", at: Date.now() } as const;
      return world.log.append(rival, last).then(
        () => true,
        () => false,
      );
    });

    const refusals = await Promise.all([
      refusal(leader.link({ from: "f-b", to: ["f-c"], by })),
      refusal(leader.link({ from: "f-c", to: ["f-d"], by })),
    ]);
    for (const refused of refusals) expect(refused).toMatchObject({ code: ErrorCodes.NotOwner, retryable: true });
    expect(await fenced.lost).toContain("written by another leader");
    expect(leader.status()).toMatchObject({ leader: false, edges });
    expect(() => leader.traverse({ id: "f-b" }, "dependents")).toThrow(
      expect.objectContaining({ code: ErrorCodes.NotOwner }),
    );
    expect(await refusal(leader.link({ from: "f-b", to: ["f-c"], by }))).toMatchObject({ code: ErrorCodes.NotOwner });

    // The log never held the refused edges; the next leader's graph is the log's.
    const log = await world.entries();
    const logged = log.flatMap(({ entry }) => (entry.t === "edges" ? entry.changes : []));
    expect(logged.filter((change) => change.from === "f-b" || change.from === "f-c")).toEqual([]);
    await fenced.leases.release(fenced.lease);
    const next = await world.lead("graph-b");
    expect(next.leader.traverse({ id: "f-b" }, "dependents").nodes).toEqual([{ id: "f-a", depth: 1 }]);
    expect(next.leader.traverse({ id: "f-b" }, "dependencies").nodes).toEqual([]);
    expect((await next.leader.link({ from: "f-b", to: ["f-c"], by })).changed).toEqual(["f-c"]);
  });

  it("while the log takes no appends, refuses a link UNAVAILABLE and keeps leading; a cascade is answered once its close is written", async () => {
    const { leader } = world.leaders.at(-1) as Leading;
    await world.register(["u-a", "u-b", "u-root", "u-dep"]);
    await leader.link({ from: "u-dep", to: ["u-root"], by });
    for (const id of ["u-root", "u-dep"]) await world.activate(id);
    const stream = world.subjects.graphLogStream;
    const limit = (maxMsgs: number) =>
      world.jsm.streams.update(stream, { max_msgs: maxMsgs, discard: DiscardPolicy.New });

    // The log is full: nothing more is appended.
    await limit(await world.quiet(leader));
    const edges = leader.status().edges;
    const refused = await refusal(leader.link({ from: "u-a", to: ["u-b"], by }));
    expect(refused).toMatchObject({ code: ErrorCodes.Unavailable, retryable: true });
    expect(leader.status()).toMatchObject({ leader: true, edges });
    expect(leader.traverse({ id: "u-a" }, "dependencies").nodes).toEqual([]);
    await limit(-1);
    expect((await leader.link({ from: "u-a", to: ["u-b"], by })).changed).toEqual(["u-b"]);

    // Room for the cascade's record but not for its close.
    await limit((await world.quiet(leader)) + 1);
    const cascade = leader.cascade(cascadeBody("u-root", "suspend", "drawdown breach"), "u-once");
    let answered = false;
    void cascade.then(
      () => {
        answered = true;
      },
      () => {
        answered = true;
      },
    );
    await waitFor(async () => (await world.client.get("u-dep")).state === "suspended", {
      message: "the cascade to suspend u-dep",
    });
    const opened = (await world.entries()).findLast(({ entry }) => entry.t === "cascade")?.seq;
    expect(answered).toBe(false);
    await limit(-1);
    const reply = await cascade;
    expect(reply).toMatchObject({ id: "u-root", seq: opened, suspended: [{ id: "u-dep", depth: 1 }], skipped: [] });
    const log = await world.entries();
    expect(log.filter(({ entry }) => entry.t === "done" && entry.seq === opened)).toHaveLength(1);
    expect(suspensions(await world.client.get("u-dep"), "dependency u-root")).toHaveLength(1);
  });

  it("keeps a record naming a strategy the shards do not have pending until it exists, and a cascade skips it as missing", async () => {
    const before = world.leaders.at(-1) as Leading;
    await world.register(["m-root", "m-dep"]);
    await before.leader.link({ from: "m-dep", to: ["m-root"], by });
    for (const id of ["m-root", "m-dep"]) await world.activate(id);
    await world.stepDown(before);
    // A record an earlier leader logged a minute ago (its command ids long forgotten by the shards),
    // naming m-ghost, which the shards have no strategy for.
    const ghost: GraphEntry = {
      t: "edges",
      changes: [{ t: "link", from: "m-ghost", to: ["m-root"], by }],
      at: Date.now() - 60_000,
    };
    await world.log.append(ghost, await world.log.lastSeq());

    const { leader } = await world.lead("graph-c", { STRATREG_GRAPH_PROJECT_WAIT_MS: "300" });
    expect(
      leader
        .traverse({ id: "m-root" }, "dependents")
        .nodes.map(({ id }) => id)
        .sort(),
    ).toEqual(["m-dep", "m-ghost"]);
    // m-root takes its side of the record; m-ghost refuses it, so the record stays pending.
    await waitFor(async () => (await world.client.get("m-root")).dependents?.includes("m-ghost"));
    expect(leader.status().pending).toBe(1);

    const reply = await leader.cascade(cascadeBody("m-root", "suspend", "drawdown breach"));
    expect(reply.suspended).toEqual([{ id: "m-dep", depth: 1 }]);
    expect(reply.skipped).toEqual([{ id: "m-ghost", depth: 1, state: "missing" }]);
    expect(leader.status().pending).toBe(1);

    // Links onto m-root wait behind that record (per strategy, changes land in log order):
    // they are decided, and answered as not yet on the shards.
    await world.register(["m-late-1", "m-late-2"]);
    const late = await Promise.all(["m-late-1", "m-late-2"].map((from) => leader.link({ from, to: ["m-root"], by })));
    for (const answer of late) expect(answer).toMatchObject({ changed: ["m-root"], projected: false });
    expect((await world.client.get("m-late-1")).dependencies).toEqual([]);

    await world.register(["m-ghost"]);
    await waitFor(() => leader.status().pending === 0, { message: "the records to reach the shard" });
    expect((await world.client.get("m-ghost")).dependencies).toEqual(["m-root"]);
    expect((await world.client.get("m-late-2")).dependencies).toEqual(["m-root"]);
    expect([...((await world.client.get("m-root")).dependents ?? [])].sort()).toEqual([
      "m-dep",
      "m-ghost",
      "m-late-1",
      "m-late-2",
    ]);
  });

  it("finishes a cascade a stopped leader left half done, past the shards' command window, moving each strategy once", async () => {
    const before = world.leaders.at(-1) as Leading;
    await world.stepDown(before);
    const slow = await world.lead("graph-d", { STRATREG_GRAPH_CASCADE_PARALLELISM: "1" });
    // Enough one-at-a-time steps that the leader is stopped well before the last.
    const dependents = Array.from({ length: 100 }, (_, i) => `h-${String(i).padStart(3, "0")}`);
    await world.register(["h-root", ...dependents]);
    for (const id of dependents) await slow.leader.link({ from: id, to: ["h-root"], by });
    for (const id of ["h-root", ...dependents]) await world.activate(id);

    const first = slow.leader.cascade(cascadeBody("h-root", "suspend", "drawdown breach"), "h-once");
    await waitFor(async () => (await world.client.get("h-000")).state === "suspended", {
      intervalMs: 5,
      message: "the cascade to start",
    });
    slow.leader.stop();
    expect(await refusal(first)).toMatchObject({ code: ErrorCodes.NotOwner, retryable: true });
    const log = await world.entries();
    const opened = log.findLast(({ entry }) => entry.t === "cascade") as { seq: number; entry: { at: number } };
    expect(log.some(({ entry }) => entry.t === "done" && entry.seq === opened.seq)).toBe(false);

    // The shards forget the cascade's command ids: the next leader must tell what was done from the histories.
    await waitFor(() => Date.now() - opened.entry.at > COMMAND_WINDOW_MS + CLOCK_SKEW_MS + 1000, {
      timeoutMs: 20_000,
      message: "the command window to pass",
    });
    // Any write lets the partition forget the ids it no longer has to recognise.
    await world.register(["h-tick"]);
    const moved = (await world.client.getMany(dependents)).strategies.filter((s) => s.state === "suspended");
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.length).toBeLessThan(dependents.length);
    // An operator resumes the root meanwhile: the cascade's move of it is done, not to be made again.
    expect((await world.client.transition("h-root", "resume", { by: "ops-2", reason: "reviewed" })).state).toBe(
      "active",
    );

    await slow.leases.release(slow.lease);
    const next = await world.lead("graph-e");
    const reply = await next.leader.cascade(cascadeBody("h-root", "suspend", "asked again"), "h-once");
    expect(reply.suspended.map(({ id }) => id)).toEqual(dependents);
    expect(reply.skipped).toEqual([]);
    const [root, ...after] = (await world.client.getMany(["h-root", ...dependents])).strategies;
    expect(root?.state).toBe("active");
    expect(suspensions(root as Strategy, `(cascade ${opened.seq})`)).toHaveLength(1);
    for (const strategy of after) {
      expect(strategy.state, strategy.id).toBe("suspended");
      expect(suspensions(strategy, "dependency h-root"), strategy.id).toHaveLength(1);
    }
  }, 90_000);

  it("closes a cascade logged past the shards' command window whose dependent no shard has, skipping it as missing", async () => {
    const before = world.leaders.at(-1) as Leading;
    await world.register(["g-root", "g-dep"]);
    await before.leader.link({ from: "g-dep", to: ["g-root"], by });
    await world.activate("g-dep");
    await world.stepDown(before);
    // What an earlier leader logged a minute ago: an edge from g-ghost, which no shard has, and a
    // cascade it opened and never closed. The shards have long forgotten its command ids.
    const at = Date.now() - 60_000;
    await world.log.append(
      { t: "edges", changes: [{ t: "link", from: "g-ghost", to: ["g-root"], by }], at },
      await world.log.lastSeq(),
    );
    await world.log.append(
      { t: "cascade", id: "g-root", action: "retire", by: "ops-1", reason: "desk closed", cid: "g-old", at },
      await world.log.lastSeq(),
    );

    const { leader } = await world.lead("graph-f", { STRATREG_GRAPH_PROJECT_WAIT_MS: "300" });
    const reply = await leader.cascade(cascadeBody("g-root", "retire", "asked again"), "g-old");
    expect(reply.suspended).toEqual([{ id: "g-dep", depth: 1 }]);
    expect(reply.skipped).toEqual([{ id: "g-ghost", depth: 1, state: "missing" }]);
    const log = await world.entries();
    const opened = log.findLast(({ entry }) => entry.t === "cascade")?.seq;
    expect(log.filter(({ entry }) => entry.t === "done" && entry.seq === opened)).toHaveLength(1);
    expect((await world.client.get("g-root")).state).toBe("retired");
    expect((await world.client.get("g-dep")).state).toBe("suspended");
  });
});

describe("a graph leader whose shard or nats-server is killed", () => {
  let nats: NatsServerProcess;
  let shard: ServiceProcess;
  let world: GraphWorld;
  let cluster: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    cluster = uniqueClusterName("leader-faults");
    shard = startShard(nats.url, cluster, "faults-shard");
    world = await GraphWorld.open(nats.url, cluster);
  });

  afterAll(async () => {
    await world?.close();
    await shard?.kill("SIGKILL").catch(() => undefined);
    await nats?.stop();
  });

  it("while the shard is dead, refuses a link retryably and decides nothing; what the log holds reaches the shard once it is back", async () => {
    const first = await world.lead("graph-f");
    await world.register(["s-a", "s-b", "s-c"]);
    expect((await first.leader.link({ from: "s-a", to: ["s-b"], by })).changed).toEqual(["s-b"]);
    // Handed over at once: the next leader carries the record onto the shard again, the same way.
    await world.stepDown(first);
    await shard.kill("SIGKILL");
    const { leader } = await world.lead("graph-f2");
    const seq = leader.status().seq;
    const refused = await refusal(leader.link({ from: "s-b", to: ["s-c"], by }));
    expect(refused.retryable).toBe(true);
    expect(refused.code).not.toBe(ErrorCodes.NotFound);
    expect(leader.status()).toMatchObject({ leader: true, seq, edges: 1 });

    shard = startShard(nats.url, cluster, "faults-shard");
    await serving(world.nc, cluster);
    await waitFor(() => leader.status().pending === 0, { timeoutMs: 20_000, message: "the log to reach the shard" });
    expect((await world.client.get("s-b")).dependents).toEqual(["s-a"]);
    expect((await leader.link({ from: "s-b", to: ["s-c"], by })).changed).toEqual(["s-c"]);
    expect((await world.client.get("s-c")).dependents).toEqual(["s-b"]);
  });

  it("stops leading when the nats-server dies under it, and the next leader has every edge it acknowledged", async () => {
    const leading = world.leaders.at(-1) as Leading;
    await world.register(["n-a", "n-b"]);
    const acknowledged = await leading.leader.link({ from: "n-a", to: ["n-b"], by });
    expect(acknowledged.changed).toEqual(["n-b"]);

    await nats.kill("SIGKILL");
    expect(await leading.lost).toMatch(/the lease could not be renewed/);
    expect(leading.leader.status().leader).toBe(false);
    expect(() => leading.leader.traverse({ id: "n-b" }, "dependents")).toThrow(
      expect.objectContaining({ code: ErrorCodes.NotOwner, retryable: true }),
    );

    await nats.restart();
    await serving(world.nc, cluster);
    const next = await world.lead("graph-g");
    expect(next.leader.traverse({ id: "n-b" }, "dependents").nodes).toEqual([{ id: "n-a", depth: 1 }]);
    expect(next.leader.traverse({ id: "s-b" }, "dependents").nodes).toEqual([{ id: "s-a", depth: 1 }]);
    expect(next.leader.epoch).toBeGreaterThan(leading.leader.epoch);
  }, 90_000);
});
