/**
 * The ranker's endpoints on a real nats-server, with the partitions played by
 * this test over NATS (cluster info, top-k publications, `topk`, `ranking` and
 * `perf` answered from a known state): what a client of the ranker sees.
 */
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { StratregClient } from "@stratreg/client";
import {
  type ClusterSubjects,
  clusterSubjects,
  decode,
  encode,
  listKey,
  METRICS,
  metricRecord,
  PROTOCOL_VERSION,
  type PublishedEntry,
  type RankingQuery,
  RankOrders,
  type Reply,
  rankComparator,
  type TopKPublication,
} from "@stratreg/protocol";
import { uniqueClusterName, waitFor } from "@stratreg/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import type { RankerConfig } from "./config.js";
import { qualify } from "./query.js";
import { Ranker, type RankerStatus } from "./ranker.js";

const PARTITIONS = 2;
const subjects: ClusterSubjects = clusterSubjects(uniqueClusterName("ranker"));
const ok = (body: unknown) => encode({ v: PROTOCOL_VERSION, ok: true, body });

/** One partition played by the test: its strategies, what it last published, and its ops. */
class FakePartition {
  n = 0;
  epoch = 1;
  strategies: PublishedEntry[] = [];
  private subs: Subscription[] = [];
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: NatsConnection,
    readonly partition: number,
    private readonly depth: number,
  ) {}

  serve(): void {
    // Like an owner, publish at least every few hundred ms so the ranker hears the partition is alive.
    this.heartbeat = setInterval(() => this.tick(), 300);
    const on = (op: string, answer: (body: Record<string, unknown>) => unknown) =>
      this.subs.push(
        this.nc.subscribe(subjects.partition(this.partition, op as "topk"), {
          callback: (err, msg) => {
            if (err !== null) return;
            const request = decode(msg.data) as { body: Record<string, unknown> };
            msg.respond(ok(answer(request.body)));
          },
        }),
      );
    on("topk", () => this.publication(true));
    on("ranking", (body) => {
      const query = body as unknown as RankingQuery;
      const all = this.strategies
        .map((entry) => qualify(entry, query, this.partition))
        .filter((e) => e !== undefined)
        .sort(rankComparator(query.metric, query.order ?? RankOrders.Best));
      const better =
        query.countBetter === undefined ? undefined : all.filter((e) => e.score > (query.countBetter as number)).length;
      return {
        stamp: { partition: this.partition, epoch: this.epoch, seq: this.n },
        entries: all.slice(0, query.k),
        size: all.length,
        ...(better === undefined ? {} : { better, compared: all.length }),
      };
    });
    on("perf", (body) => {
      const entry = this.strategies.find((e) => e[0] === body.id);
      return {
        id: body.id,
        family: entry?.[1] ?? null,
        metrics: metricRecord(entry?.[9] ?? []),
        regimes: {},
      };
    });
  }

  stop(): void {
    clearInterval(this.heartbeat);
    for (const sub of this.subs) sub.unsubscribe();
    this.subs = [];
  }

  /**
   * The whole published set (the overall sharpe list only, with the sizes of the family
   * scopes it does not publish), as the `topk` op answers it or as a full publication.
   */
  publication(full: boolean): TopKPublication {
    const sorted = this.strategies
      .map((e) => ({ id: e[0], score: e[9][0] as number }))
      .sort(rankComparator("sharpe", RankOrders.Best));
    const ids = sorted.slice(0, this.depth).map((s) => s.id);
    return {
      v: 1,
      partition: this.partition,
      epoch: this.epoch,
      n: this.n,
      seq: this.n,
      at: Date.now(),
      full,
      entries: this.strategies.filter((e) => ids.includes(e[0])),
      removed: [],
      lists: { [listKey("sharpe")]: ids },
      droppedLists: [],
      sizes: {
        [listKey("sharpe")]: sorted.length,
        ...Object.fromEntries(
          [...new Set(this.strategies.map((e) => e[1]).filter((f) => f !== null))].map((family) => [
            listKey("sharpe", { kind: "family", value: family as string }),
            this.strategies.filter((e) => e[1] === family).length,
          ]),
        ),
      },
    };
  }

  /** Publishes the next delta (as a whole-set delta), or only counts it when `dropped`. */
  tick(dropped = false): void {
    this.n++;
    if (!dropped) this.nc.publish(subjects.topk(this.partition), encode(this.publication(false)));
  }
}

const entry = (id: string, sharpe: number, family = "mom"): PublishedEntry => [
  id,
  family,
  "live",
  [],
  [],
  10,
  3,
  0,
  0,
  METRICS.map((_, i) => (i === 0 ? sharpe : null)),
  {},
];

let nc: NatsConnection;
let client: StratregClient;
const fakes: FakePartition[] = [];
const rankers: Ranker[] = [];
let clusterInfo: Subscription;

function configOf(member: string): RankerConfig {
  return {
    natsUrl: inject("natsUrl"),
    natsUser: undefined,
    natsPassword: undefined,
    cluster: subjects.cluster,
    member,
    staleMs: 1500,
    requestTimeoutMs: 500,
    maxScatters: 8,
    concurrency: 4,
    startTimeoutMs: 5000,
    logLevel: "silent",
  };
}

async function ask(subject: string, payload: Uint8Array): Promise<Reply<unknown>> {
  return decode((await nc.request(subject, payload, { timeout: 2000 })).data) as Reply<unknown>;
}

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
  clusterInfo = nc.subscribe(subjects.clusterInfo, {
    callback: (_err, msg) => {
      msg.respond(
        ok({
          cluster: subjects.cluster,
          partitions: PARTITIONS,
          replicas: 1,
          protocol: PROTOCOL_VERSION,
          createdAt: 0,
        }),
      );
    },
  });
  for (let p = 0; p < PARTITIONS; p++) {
    const fake = new FakePartition(nc, p, 2);
    fake.strategies = [0, 1, 2].map((i) => entry(`p${p}-s${i}`, p * 10 + i, i === 0 ? "rev" : "mom"));
    fake.serve();
    fakes.push(fake);
  }
  await nc.flush();
  for (const member of ["r1", "r2"]) rankers.push(await Ranker.start(configOf(member), pino({ level: "silent" })));
  client = await StratregClient.connect(nc, { cluster: subjects.cluster, partitions: PARTITIONS, timeoutMs: 3000 });
  await waitFor(() => rankers.every((r) => r.views.missing().length === 0), { timeoutMs: 5000 });
});

afterAll(async () => {
  for (const fake of fakes) fake.stop();
  await Promise.all(rankers.map((r) => r.stop()));
  clusterInfo?.unsubscribe();
  await nc?.close();
});

describe("ranker endpoints", () => {
  test("top: deep enough lists answer from the views; shallow ones ask the partitions; both rankers agree", async () => {
    const two = await client.top({ metric: "sharpe", k: 2 });
    expect(two.entries.map((e) => [e.id, e.rank, e.score, e.partition])).toEqual([
      ["p1-s2", 1, 12, 1],
      ["p1-s1", 2, 11, 1],
    ]);
    expect(two.freshness).toMatchObject({ missing: [], gathered: 0 });
    expect(two.freshness.asOf).toBeGreaterThan(0);
    // Compact entries: the same ranking, only rank, id and score (encoded once, however often asked).
    for (let i = 0; i < 2; i++) {
      const compact = await client.top({ metric: "sharpe", k: 2, compact: true });
      expect(compact.entries).toEqual(two.entries.map(({ rank, id, score }) => ({ rank, id, score })));
    }
    const four = await client.top({ metric: "sharpe", k: 4 }, {});
    expect(four.entries.map((e) => e.id)).toEqual(["p1-s2", "p1-s1", "p1-s0", "p0-s2"]);
    expect(four.freshness.gathered).toBe(2);
    for (const member of ["r1", "r2"]) {
      const reply = await client.askRanker<{ entries: unknown[] }>(
        "top",
        { metric: "sharpe", k: 4 },
        { ranker: member },
      );
      expect(reply.entries).toEqual(four.entries);
    }
    const worst = await client.top({ metric: "sharpe", k: 1, order: "worst", scope: { family: "mom" } });
    expect(worst.entries.map((e) => e.id)).toEqual(["p0-s1"]);
  });

  test("a lost delta makes the ranker ask the partition for a full publication", async () => {
    const fake = fakes[0] as FakePartition;
    fake.strategies.push(entry("p0-s9", 99));
    fake.tick(true);
    fake.strategies.push(entry("p0-s8", 98));
    fake.tick();
    await waitFor(
      async () => {
        const top = await client.top({ metric: "sharpe", k: 2 });
        return top.entries.map((e) => e.id).join() === "p0-s9,p0-s8";
      },
      { timeoutMs: 5000 },
    );
    const status = await client.askRanker<RankerStatus>("status", {}, { ranker: "r1" });
    expect(status.resyncs.requested).toBeGreaterThan(0);
    expect(status.publications.resync).toBeGreaterThan(0);
  });

  test("rank: one plus how many rank better across the partitions", async () => {
    const reply = await client.rank({ id: "p1-s1", metric: "sharpe" });
    const all = fakes.flatMap((f) => f.strategies.map((e) => e[9][0] as number));
    const better = all.filter((s) => s > 11).length;
    expect(reply).toMatchObject({ id: "p1-s1", score: 11, rank: better + 1, of: all.length, among: "all" });
    expect(reply.freshness).toMatchObject({ missing: [], gathered: PARTITIONS });
    const family = await client.rank({ id: "p1-s1", metric: "sharpe", among: "family" });
    expect(family.of).toBe(fakes.flatMap((f) => f.strategies).filter((e) => e[1] === "mom").length);
  });

  test("bad input is an error reply with a stable code, and the ranker keeps serving", async () => {
    const cases: Array<[Uint8Array, string]> = [
      [new Uint8Array([0xc1]), "MALFORMED"],
      [encode([1, 2]), "MALFORMED"],
      [encode({ body: { metric: "sharpe", k: 1 } }), "MISSING_FIELD"],
      [encode({ v: 2, body: { metric: "sharpe", k: 1 } }), "UNSUPPORTED_VERSION"],
      [encode({ v: 1, body: { k: 1 } }), "MISSING_FIELD"],
      [encode({ v: 1, body: { metric: "sharpe", k: 0 } }), "INVALID_FIELD"],
      [encode({ v: 1, body: { metric: "alpha", k: 1 } }), "INVALID_FIELD"],
      [encode({ v: 1, body: { metric: "sharpe", k: 1, extra: true } }), "UNKNOWN_FIELD"],
      [encode({ v: 1, body: { metric: "sharpe", k: 1, scope: { sector: "x" } } }), "UNKNOWN_FIELD"],
    ];
    for (const [payload, code] of cases) {
      const reply = await ask(subjects.ranker("top"), payload);
      expect(reply, code).toMatchObject({ ok: false, error: { code, retryable: false } });
    }
    const rank = await ask(subjects.ranker("rank"), encode({ v: 1, body: { id: "", metric: "sharpe" } }));
    expect(rank).toMatchObject({ ok: false, error: { code: "INVALID_FIELD", field: "body.id" } });
    // Unknown envelope fields are ignored.
    const fine = await ask(subjects.ranker("top"), encode({ v: 1, future: 1, body: { metric: "sharpe", k: 1 } }));
    expect(fine).toMatchObject({ ok: true });
  });

  test("status on each member's subject, and $SRV finds every ranker", async () => {
    for (const member of ["r1", "r2"]) {
      const status = await client.askRanker<RankerStatus>("status", {}, { ranker: member });
      expect(status).toMatchObject({ member, cluster: subjects.cluster, partitions: PARTITIONS, missing: [] });
      expect(["serving", "syncing"]).toContain(status.state);
    }
    const infos: Array<{ name: string; metadata: Record<string, string> }> = [];
    const inbox = `_INBOX.${Date.now()}`;
    const sub = nc.subscribe(inbox, {
      callback: (_e, msg) => {
        infos.push(msg.json());
      },
    });
    nc.publish("$SRV.INFO.stratreg-ranker", undefined, { reply: inbox });
    await waitFor(() => infos.filter((i) => i.metadata.cluster === subjects.cluster).length === 2, { timeoutMs: 3000 });
    sub.unsubscribe();
  });

  test("a partition that stops publishing is named missing once stale, and again held when it is back", async () => {
    const fake = fakes[1] as FakePartition;
    fake.stop();
    await waitFor(async () => (await client.top({ metric: "sharpe", k: 1 })).freshness.missing.includes(1), {
      timeoutMs: 5000,
    });
    await waitFor(
      async () => (await client.askRanker<RankerStatus>("status", {}, { ranker: "r1" })).state === "degraded",
      { timeoutMs: 3000 },
    );
    fake.serve();
    fake.epoch = 2;
    fake.n = 0;
    nc.publish(subjects.topk(1), encode(fake.publication(true)));
    await waitFor(async () => (await client.top({ metric: "sharpe", k: 1 })).freshness.missing.length === 0, {
      timeoutMs: 5000,
    });
  });
});
