/**
 * DiscoveryClient against a real nats-server, with discovery played by small
 * responders on its real subjects (the service itself is tested in
 * services/discovery): the envelope it sends, import batching, one attempt for
 * operators' commands, error replies as the SDK's classes, and the published
 * progress and candidates decoded (unreadable ones ignored).
 */
import { connect, type Msg, type NatsConnection } from "@nats-io/transport-node";
import {
  type CandidateMessage,
  ConflictError,
  clusterSubjects,
  DiscoveryLimits,
  decode,
  ErrorCodes,
  encode,
  NotFoundError,
  PROTOCOL_VERSION,
  type RunProgress,
  StratregError,
  TimeoutError,
  ValidationError,
} from "@stratreg/protocol";
import { uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { DiscoveryClient, type SeriesBar } from "./discovery.js";

let nc: NatsConnection;
let cluster: string;
let discovery: DiscoveryClient;
const closers: Array<() => void> = [];

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
});

beforeEach(() => {
  // A cluster of its own per test: no responder of one test answers another's requests.
  cluster = uniqueClusterName("client-disc");
  discovery = new DiscoveryClient(nc, { cluster, timeoutMs: 2000 });
});

afterEach(() => {
  for (const close of closers.splice(0)) close();
});

afterAll(async () => {
  await nc?.close();
});

/** Answers `subject` with what `answer` returns for each decoded request (a thrown StratregError becomes an error reply). */
async function respondOn(
  subject: string,
  answer: (request: { v: number; body: Record<string, unknown>; deadlineMs?: number }, msg: Msg) => unknown,
): Promise<void> {
  const sub = nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err !== null) return;
      const request = decode(msg.data) as { v: number; body: Record<string, unknown>; deadlineMs?: number };
      try {
        msg.respond(encode({ v: PROTOCOL_VERSION, ok: true, body: answer(request, msg) }));
      } catch (error) {
        if (!(error instanceof StratregError)) throw error;
        msg.respond(encode({ v: PROTOCOL_VERSION, ok: false, error: error.toWire() }));
      }
    },
  });
  closers.push(() => sub.unsubscribe());
  await nc.flush();
}

function bar(symbol: string, venue: string, i: number): SeriesBar {
  return { symbol, venue, t: Date.UTC(2026, 0, 1) + i * 60_000, open: 10, high: 11, low: 9, close: 10.5, volume: 100 };
}

function progress(runId: string, more: Partial<RunProgress> = {}): RunProgress {
  return {
    runId,
    startedAt: Date.now(),
    budgetMs: 60_000,
    elapsedMs: 0,
    phase: "loading",
    targets: [],
    targetsDone: 0,
    target: null,
    generation: 0,
    evaluated: 0,
    bestTrainSharpe: null,
    candidates: 0,
    ...more,
  };
}

describe("DiscoveryClient", () => {
  it("imports a series in batches of barsPerImport and sums the replies", async () => {
    const subjects = clusterSubjects(cluster);
    const held = new Set<number>([bar("BTC", "binance", 0).t]);
    const batches: number[] = [];
    await respondOn(subjects.discovery("import"), ({ v, body, deadlineMs }) => {
      expect(v).toBe(PROTOCOL_VERSION);
      expect(deadlineMs).toBeGreaterThan(0);
      const bars = body.bars as Array<Record<string, unknown>>;
      // Only the protocol's fields go on the wire: the series is named once per request.
      expect(Object.keys(bars[0] as object).sort()).toEqual(["close", "high", "low", "open", "t", "volume"]);
      batches.push(bars.length);
      let appended = 0;
      for (const b of bars) {
        if (held.has(b.t as number)) continue;
        held.add(b.t as number);
        appended++;
      }
      return {
        symbol: body.symbol,
        venue: body.venue,
        appended,
        duplicates: bars.length - appended,
        bars: held.size,
      };
    });
    const bars = Array.from({ length: 2 * DiscoveryLimits.barsPerImport + 500 }, (_, i) => bar("BTC", "binance", i));
    const seen: Array<[number, number]> = [];
    const reply = await discovery.importSeries(bars, { onBatch: (_reply, sent, total) => seen.push([sent, total]) });
    expect(batches).toEqual([DiscoveryLimits.barsPerImport, DiscoveryLimits.barsPerImport, 500]);
    expect(seen).toEqual([
      [1000, 2500],
      [2000, 2500],
      [2500, 2500],
    ]);
    expect(reply).toEqual({ symbol: "BTC", venue: "binance", appended: 2499, duplicates: 1, bars: 2500 });
  });

  it("refuses bars of two series, or none, before sending anything", async () => {
    const mixed = await discovery
      .importSeries([bar("BTC", "binance", 0), bar("ETH", "binance", 1)])
      .catch((e: unknown) => e);
    expect(mixed).toBeInstanceOf(ValidationError);
    expect(mixed).toMatchObject({
      code: ErrorCodes.InvalidField,
      message: "bars[1] is of ETH@binance, not BTC@binance: one series per call",
      field: "bars[1]",
    });
    await expect(discovery.importSeries([])).rejects.toBeInstanceOf(ValidationError);
  });

  it("stops importing between batches once the signal is aborted", async () => {
    const controller = new AbortController();
    let requests = 0;
    await respondOn(clusterSubjects(cluster).discovery("import"), ({ body }) => {
      requests++;
      const n = (body.bars as unknown[]).length;
      return { symbol: body.symbol, venue: body.venue, appended: n, duplicates: 0, bars: n * requests };
    });
    const bars = Array.from({ length: 3000 }, (_, i) => bar("ETH", "kraken", i));
    const reply = await discovery.importSeries(bars, { signal: controller.signal, onBatch: () => controller.abort() });
    expect(requests).toBe(1);
    expect(reply.appended).toBe(1000);
  });

  it("reads data, status, candidates and scan with their bodies", async () => {
    const subjects = clusterSubjects(cluster);
    const bodies: Record<string, unknown> = {};
    const answers: Record<string, unknown> = {
      data: { series: [{ symbol: "BTC", venue: "binance", bars: 10, from: 1, to: 2 }], skipped: 0 },
      status: { state: "idle", trading: "ACTIVE", run: null, runs: [] },
      candidates: { candidates: [] },
      scan: null,
    };
    for (const op of ["data", "status", "candidates", "scan"] as const) {
      await respondOn(subjects.discovery(op), ({ body }) => {
        bodies[op] = body;
        return answers[op];
      });
    }
    expect(await discovery.data()).toEqual(answers.data);
    expect(await discovery.status()).toEqual(answers.status);
    expect(await discovery.candidates({ limit: 5, runId: "run-1" })).toEqual({ candidates: [] });
    expect(await discovery.scan()).toBeNull();
    expect(bodies).toEqual({ data: {}, status: {}, candidates: { limit: 5, runId: "run-1" }, scan: {} });
  });

  it("sends an operator's run once, with the whole deadline, and stop with the run named", async () => {
    const subjects = clusterSubjects(cluster);
    const runs: Array<{ body: unknown; deadlineMs: number | undefined }> = [];
    await respondOn(subjects.discoveryControl("run"), ({ body, deadlineMs }) => {
      runs.push({ body, deadlineMs });
      return progress("run-1", { budgetMs: 600_000 });
    });
    const stops: unknown[] = [];
    await respondOn(subjects.discoveryControl("stop"), ({ body }) => {
      stops.push(body);
      return body.runId === undefined ? null : progress(body.runId as string, { outcome: "stopped" });
    });
    const started = await discovery.run({ budgetMs: 600_000, symbols: ["BTC"] }, { timeoutMs: 4000 });
    expect(started.runId).toBe("run-1");
    expect(runs).toEqual([{ body: { budgetMs: 600_000, symbols: ["BTC"] }, deadlineMs: 4000 }]);
    expect(await discovery.stop("run-1")).toMatchObject({ runId: "run-1", outcome: "stopped" });
    expect(await discovery.stop()).toBeNull();
    expect(stops).toEqual([{ runId: "run-1" }, {}]);
  });

  it("does not resend a run whose reply is lost: the deadline passes after one attempt", async () => {
    let runs = 0;
    const sub = nc.subscribe(clusterSubjects(cluster).discoveryControl("run"), {
      callback: () => {
        runs++;
      },
    });
    closers.push(() => sub.unsubscribe());
    await nc.flush();
    const err = await discovery.run({}, { timeoutMs: 600 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(runs).toBe(1);
  });

  it("turns error replies into the SDK's error classes", async () => {
    const subjects = clusterSubjects(cluster);
    await respondOn(subjects.discoveryControl("run"), ({ body }) => {
      if (body.resume !== undefined) throw new NotFoundError(`run ${body.resume} has no checkpoint to resume`);
      throw new StratregError(ErrorCodes.TradingHalted, "trading is HALTED: discovery does not run");
    });
    await respondOn(subjects.discoveryControl("stop"), () => {
      throw new ConflictError(ErrorCodes.Conflict, "run run-2 is in progress", { details: { runId: "run-2" } });
    });
    const halted = await discovery.run().catch((e: unknown) => e);
    expect(halted).toBeInstanceOf(ConflictError);
    expect(halted).toMatchObject({
      code: ErrorCodes.TradingHalted,
      message: "trading is HALTED: discovery does not run",
    });
    await expect(discovery.run({ resume: "run-9" })).rejects.toBeInstanceOf(NotFoundError);
    await expect(discovery.stop("run-1")).rejects.toMatchObject({
      code: ErrorCodes.Conflict,
      details: { runId: "run-2" },
    });
  });

  it("says TIMEOUT, after retrying, when no discovery process answers", async () => {
    const err = await discovery.status({ timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).message).toMatch(/^deadline passed on client-disc-\w+\.discovery\.status/);
  });

  it("follows progress and candidates, ignoring messages it cannot read", async () => {
    const subjects = clusterSubjects(cluster);
    const progressSeen: RunProgress[] = [];
    const candidatesSeen: CandidateMessage[] = [];
    const progressFollower = discovery.followProgress((p) => progressSeen.push(p));
    const candidateFollower = discovery.followCandidates((c) => candidatesSeen.push(c));
    closers.push(progressFollower.stop, candidateFollower.stop);
    await Promise.all([progressFollower.ready, candidateFollower.ready]);
    const candidate: CandidateMessage = {
      id: "disc-1",
      runId: "run-1",
      origin: "mined",
      expression: "gt(close, sma(close, 20))",
      target: "BTC@binance",
      family: "trend",
      parents: [],
      report: { passed: true } as unknown as CandidateMessage["report"],
      at: 1,
    };
    nc.publish(subjects.discoveryProgress, new Uint8Array([0xc1]));
    nc.publish(subjects.discoveryProgress, encode({ runId: 3 }));
    nc.publish(subjects.discoveryProgress, encode(progress("run-1", { phase: "mining", generation: 2 })));
    nc.publish(subjects.discoveryCandidates, encode({ id: "no-report" }));
    nc.publish(subjects.discoveryCandidates, encode(candidate));
    nc.publish(subjects.discoveryProgress, encode(progress("run-1", { outcome: "completed" })));
    await waitFor(() => progressSeen.length === 2 && candidatesSeen.length === 1, { timeoutMs: 5000 });
    expect(progressSeen.map((p) => [p.phase, p.generation, p.outcome])).toEqual([
      ["mining", 2, undefined],
      ["loading", 0, "completed"],
    ]);
    expect(candidatesSeen).toEqual([candidate]);
    progressFollower.stop();
    nc.publish(subjects.discoveryProgress, encode(progress("run-2")));
    await nc.flush();
    expect(progressSeen).toHaveLength(2);
  });
});
