/**
 * Performance reports against real JetStream: what a reporter is told (repeats,
 * gaps, late reports, unknown and retired strategies), metrics equal to the
 * batch formulas over what was sent, the same state after replay and after a
 * snapshot, and the partition's rankings and publications.
 */
import { performance } from "node:perf_hooks";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Lease } from "@stratreg/fencing";
import {
  clusterSubjects,
  decode,
  ErrorCodes,
  encode,
  METRICS,
  type Metric,
  PROTOCOL_VERSION,
  partitionOf,
  type Reply,
  type ReportReply,
  type TopKPublication,
} from "@stratreg/protocol";
import { metricsOf, winRate } from "@stratreg/quant";
import { uniqueClusterName } from "@stratreg/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { history, perf, ranking, report, topk } from "../handlers/performance.js";
import { register, retire } from "../handlers/writes.js";
import { Partition, type PartitionContext } from "../partition.js";
import { readHistory, warnOfFormerHistory } from "../store/history.js";
import { ensureLogStream, PartitionLog } from "../store/log.js";
import { SnapshotStore } from "../store/snapshots.js";

const PARTITIONS = 4;
const DAY = 86_400_000;
let nc: NatsConnection;
let context: PartitionContext;

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
  const subjects = clusterSubjects(uniqueClusterName("perf"));
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureLogStream(jsm, subjects, 1);
  context = {
    log: new PartitionLog(js, jsm, subjects),
    snapshots: await SnapshotStore.open(js, subjects, 1),
    member: "m-1",
    partitions: PARTITIONS,
    maxEntryBytes: 1_000_000,
    maxReplyBytes: 1_000_000,
    settings: {
      queueMax: 16,
      commandWindowMs: 3_600_000,
      maxClockSkewMs: 60_000,
      snapshotMinBytes: 1 << 30,
      topkDepth: 3,
      retentionMs: 86_400_000,
    },
    logger: pino({ level: "silent" }),
    history: (q) => readHistory(js, jsm, subjects, { ...q, retentionMs: 86_400_000 }, 5000),
  };
});
afterAll(async () => {
  await nc?.close();
});

let cids = 0;
const command = (body: Record<string, unknown>, cid = `cmd-${++cids}`) =>
  encode({ v: PROTOCOL_VERSION, cid, issued: Date.now(), body });
const query = (body: Record<string, unknown>) => encode({ v: PROTOCOL_VERSION, body });

function ok<B>(bytes: Uint8Array): B {
  const reply = decode(bytes) as Reply<B>;
  if (!reply.ok) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
  return reply.body;
}

function idsOf(partition: number, count: number, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count; i++)
    if (partitionOf(`${prefix}-${i}`, PARTITIONS) === partition) out.push(`${prefix}-${i}`);
  return out;
}

async function loaded(partition: number, epoch: number): Promise<Partition> {
  const p = new Partition(partition, context, new Lease(partition, epoch, 0, performance.now(), 1e9));
  await p.load();
  return p;
}

async function withStrategies(p: Partition, ids: string[], family = (i: number) => (i % 2 === 0 ? "even" : "odd")) {
  for (const [i, id] of ids.entries()) {
    ok(await register(p, command({ strategy: { id, name: id, owner: "o", family: family(i), tags: [`t${i % 3}`] } })));
  }
}

/** `n` deterministic daily returns for strategy `k`, starting after day `from`. */
function series(k: number, n: number, from = 0): { times: number[]; returns: number[] } {
  const times: number[] = [];
  const returns: number[] = [];
  for (let d = 0; d < n; d++) {
    times.push((from + d + 1) * DAY);
    returns.push(0.001 * (k + 1) + 0.01 * Math.sin(d * 1.7 + k));
  }
  return { times, returns };
}

const sendReports = async (p: Partition, reports: unknown[], cid?: string) =>
  ok<ReportReply>(await report(p, command({ reports }, cid)));

test("reports update metrics as the batch formulas over the returns say; repeats, gaps and late reports are told apart", async () => {
  const p = await loaded(0, 1);
  const [a, b, ghost] = idsOf(0, 3, "rep");
  await withStrategies(p, [a as string, b as string]);
  const first = series(0, 20);
  const second = series(0, 10, 20);
  const reply = await sendReports(p, [
    { id: a, seq: 1, regime: "calm", venue: "XNAS", ...first, trades: [5, -2, 3] },
    { id: a, seq: 2, regime: "high-vol", ...second, trades: [-1] },
    { id: ghost, seq: 1, ...series(1, 2) },
  ]);
  expect(reply).toMatchObject({ accepted: 2, periods: 30, trades: 4, duplicates: [], gaps: [], late: [] });
  expect(reply.rejected).toEqual([
    { index: 2, id: ghost, error: { code: ErrorCodes.NotFound, message: `no strategy ${ghost}`, retryable: false } },
  ]);
  const all = [...first.returns, ...second.returns];
  const expected = metricsOf(all);
  const got = ok<{ metrics: Record<Metric, number | null>; regimes: Record<string, { periods: number }> }>(
    perf(p, query({ id: a })),
  );
  expect(got.metrics.sharpe).toBeCloseTo(expected.sharpe, 10);
  expect(got.metrics.sortino).toBeCloseTo(expected.sortino, 10);
  expect(got.metrics.maxDrawdown).toBeCloseTo(expected.maxDrawdown, 12);
  expect(got.metrics.winRate).toBeCloseTo(winRate([5, -2, 3, -1]), 12);
  expect(got.regimes.calm?.periods).toBe(20);
  expect(got.regimes["high-vol"]?.periods).toBe(10);

  // A resend, a gap, then the skipped report arriving late.
  const resend = await sendReports(p, [{ id: a, seq: 2, ...second }]);
  expect(resend).toMatchObject({ accepted: 0, duplicates: [{ id: a, seq: 2 }] });
  const gap = await sendReports(p, [{ id: a, seq: 5, ...series(0, 1, 40) }]);
  expect(gap).toMatchObject({ accepted: 1, gaps: [{ id: a, expected: 3, got: 5 }] });
  const late = await sendReports(p, [{ id: a, seq: 3, ...series(0, 1, 30) }]);
  expect(late).toMatchObject({ accepted: 0, late: [{ id: a, seq: 3, last: 5 }] });
  const behind = await sendReports(p, [{ id: a, seq: 6, ...series(0, 1, 10) }]);
  expect(behind.rejected[0]?.error.code).toBe(ErrorCodes.InvalidField);
  expect(ok<{ missing: number[]; periods: number }>(perf(p, query({ id: a })))).toMatchObject({
    missing: [3, 4],
    periods: 31,
  });

  // A retired strategy takes no more reports.
  ok(await retire(p, command({ id: b })));
  const retired = await sendReports(p, [{ id: b, seq: 1, ...series(2, 3) }]);
  expect(retired.rejected[0]?.error.code).toBe(ErrorCodes.Retired);
});

test("a report numbered far past the last is a gap that costs nothing: only the latest 32 missing numbers are kept", async () => {
  const p = await loaded(0, 2);
  const [a] = idsOf(0, 1, "jump");
  await withStrategies(p, [a as string]);
  const far = Number.MAX_SAFE_INTEGER - 1;
  const reply = await sendReports(p, [
    { id: a, seq: 1, ...series(5, 2) },
    { id: a, seq: far, ...series(5, 2, 10) },
  ]);
  expect(reply).toMatchObject({ accepted: 2, gaps: [{ id: a, expected: 2, got: far }] });
  const { missing } = ok<{ missing: number[] }>(perf(p, query({ id: a })));
  expect(missing).toEqual(Array.from({ length: 32 }, (_, i) => far - 32 + i));
  // After a restart the same numbers are missing: the log replays to the same state.
  expect(ok<{ missing: number[] }>(perf(await loaded(0, 3), query({ id: a }))).missing).toEqual(missing);
});

test("a retried report command is answered as the first time and applied once", async () => {
  const p = await loaded(1, 1);
  const [a] = idsOf(1, 1, "retry");
  await withStrategies(p, [a as string]);
  const body = [{ id: a, seq: 1, ...series(3, 5) }];
  const first = await sendReports(p, body, "same-cid");
  const again = await sendReports(p, body, "same-cid");
  expect(again).toEqual(first);
  expect(ok<{ periods: number }>(perf(p, query({ id: a }))).periods).toBe(5);
});

test("replay and snapshots rebuild the same performance, and bad reports are refused at the edge", async () => {
  const p = await loaded(1, 2);
  const ids = idsOf(1, 6, "replay");
  await withStrategies(p, ids);
  for (let day = 0; day < 3; day++) {
    await sendReports(
      p,
      ids.map((id, k) => ({ id, seq: day + 1, regime: day === 1 ? "high-vol" : "calm", ...series(k, 4, day * 4) })),
    );
  }
  const before = ids.map((id) => ok(perf(p, query({ id }))));
  const replayed = await loaded(1, 3);
  expect(ids.map((id) => ok(perf(replayed, query({ id }))))).toEqual(
    before.map((b) => ({ ...(b as object), stamp: expect.anything() })),
  );
  await replayed.snapshot();
  const restored = await loaded(1, 4);
  const after = ids.map((id) => ok<{ metrics: unknown; regimes: unknown; seq: number }>(perf(restored, query({ id }))));
  expect(after.map((a) => [a.metrics, a.regimes, a.seq])).toEqual(
    before.map((b) => {
      const x = b as { metrics: unknown; regimes: unknown; seq: number };
      return [x.metrics, x.regimes, x.seq];
    }),
  );
  // Times and returns must pair up, in order; nothing is written when they do not.
  const seqBefore = restored.lastSeq;
  const attempt = (reports: unknown[]) => Promise.resolve().then(() => report(restored, command({ reports })));
  await expect(attempt([{ id: ids[0], seq: 4, times: [1], returns: [] }])).rejects.toMatchObject({
    code: ErrorCodes.InvalidField,
  });
  await expect(attempt([{ id: ids[0], seq: 4, times: [2, 1], returns: [0, 0] }])).rejects.toMatchObject({
    code: ErrorCodes.InvalidField,
  });
  await expect(attempt([{ id: ids[0], seq: 4, returns: [-2], times: [1] }])).rejects.toMatchObject({
    code: ErrorCodes.InvalidField,
  });
  expect(restored.lastSeq).toBe(seqBefore);
  // A later owner finds only its own epoch marker after them.
  expect((await loaded(1, 5)).lastSeq).toBe(seqBefore + 1);
});

test("rankings: published lists are each scope's best by the metric; deltas carry only what changed", async () => {
  const p = await loaded(2, 7);
  const ids = idsOf(2, 8, "rank");
  await withStrategies(p, ids);
  await sendReports(
    p,
    ids.map((id, k) => ({ id, seq: 1, regime: k < 4 ? "calm" : "high-vol", ...series(k, 30), trades: [k - 3] })),
  );
  const pub = p.rankings.publish(7, p.lastSeq, false) as TopKPublication;
  expect(pub).toMatchObject({ full: true, n: 0, epoch: 7 });
  const sharpeOf = new Map(ids.map((id, k) => [id, metricsOf(series(k, 30).returns).sharpe]));
  const best = (pool: string[]) =>
    [...pool].sort((x, y) => (sharpeOf.get(y) as number) - (sharpeOf.get(x) as number)).slice(0, 3);
  expect(pub.lists.sharpe).toEqual(best(ids));
  expect(pub.lists["sharpe|family=even"]).toEqual(best(ids.filter((_, i) => i % 2 === 0)));
  expect(pub.lists["sharpe|regime=calm"]).toEqual(best(ids.slice(0, 4)));
  expect(pub.sizes.sharpe).toBe(8);
  for (const metric of METRICS) expect(pub.lists[metric]?.length ?? 0).toBeLessThanOrEqual(3);
  // Nothing changed: nothing to publish unless a heartbeat is due.
  expect(p.rankings.publish(7, p.lastSeq, false)).toBeUndefined();
  expect(p.rankings.publish(7, p.lastSeq, true)).toMatchObject({ n: 1, entries: [], removed: [] });
  // One strategy's change is one entry.
  const worst = ids[0] as string;
  await sendReports(p, [{ id: worst, seq: 2, ...series(50, 30, 30) }]);
  const delta = p.rankings.publish(7, p.lastSeq, false) as TopKPublication;
  expect(delta.n).toBe(2);
  expect(delta.full).toBe(false);
  expect(delta.entries.map((e) => e[0])).toEqual([worst]);
  // The full form answers the same state.
  const full = ok<TopKPublication>(topk(p, query({})));
  expect(full).toMatchObject({ full: true, n: 2, partition: 2 });
  expect(full.lists.sharpe).toContain(worst);

  // Direct queries: any depth, order, filter; counts of who ranks above a value.
  const worstFirst = ok<{ entries: Array<{ id: string }>; size: number }>(
    ranking(p, query({ metric: "sharpe", k: 8, order: "worst", scope: { tag: "t0" } })),
  );
  expect(worstFirst.size).toBe(ids.filter((_, i) => i % 3 === 0).length);
  const scores = worstFirst.entries.map((e) => (e as unknown as { score: number }).score);
  expect(scores).toEqual([...scores].sort((x, y) => x - y));
  const pivot = sharpeOf.get(ids[3] as string) as number;
  const counted = ok<{ better: number; compared: number }>(
    ranking(p, query({ metric: "sharpe", k: 0, countBetter: pivot, minTrades: 1 })),
  );
  expect(counted.compared).toBe(8);
  expect(counted.better).toBe(
    [...p.performance.entries()].filter(([, s]) => (s.metricVectors().overall[0] as number) > pivot).length,
  );
  // Retiring takes a strategy out of every list.
  ok(await retire(p, command({ id: worst })));
  const after = p.rankings.publish(7, p.lastSeq, false) as TopKPublication;
  expect(after.removed).toContain(worst);
});

test("history: a strategy's periods in a time range, bucketed, with wealth and metrics as of each bucket", async () => {
  const p = await loaded(3, 1);
  const [a, other] = idsOf(3, 2, "hist");
  await withStrategies(p, [a as string, other as string]);
  const days = series(4, 40);
  for (let i = 0; i < 4; i++) {
    const slice = { times: days.times.slice(i * 10, i * 10 + 10), returns: days.returns.slice(i * 10, i * 10 + 10) };
    await sendReports(p, [
      { id: a, seq: i + 1, regime: i < 2 ? "calm" : "high-vol", ...slice },
      { id: other, seq: i + 1, ...series(9, 10, i * 10) },
    ]);
  }
  // Snapshots cover the reports; the log keeps them for the retention (partition.test.ts).
  await p.snapshot();
  const ask = (body: Record<string, unknown>) =>
    history(p, query(body)).then((bytes) => ok<import("@stratreg/protocol").HistoryReply>(bytes));
  const whole = await ask({ id: a });
  expect(whole).toMatchObject({ periods: 40, downsampled: false, retentionMs: 86_400_000 });
  let wealth = 1;
  for (const r of days.returns) wealth *= 1 + r;
  expect(whole.points.at(-1)?.close).toBeCloseTo(wealth, 12);
  expect(whole.points.at(-1)?.sharpe).toBeCloseTo(metricsOf(days.returns).sharpe, 10);
  expect(whole.points.at(-1)?.regime).toBe("high-vol");
  const range = await ask({ id: a, from: days.times[5], to: days.times[24], points: 4 });
  expect(range).toMatchObject({ periods: 20, downsampled: true });
  expect(range.points.map((pt) => pt.periods)).toEqual([5, 5, 5, 5]);
  expect(range.points[3]?.sharpe).toBeCloseTo(metricsOf(days.returns.slice(5, 25)).sharpe, 10);
  for (const pt of range.points) {
    expect(pt.high).toBeGreaterThanOrEqual(Math.max(pt.open, pt.close));
    expect(pt.low).toBeLessThanOrEqual(Math.min(pt.open, pt.close));
  }
  await expect(Promise.resolve().then(() => history(p, query({ id: "hist-missing-9" })))).rejects.toMatchObject({
    code: expect.stringMatching(/NOT_FOUND|WRONG_PARTITION/),
  });
});

test("a shard says at start that a former history stream is still there, and nothing when it is not", async () => {
  const subjects = clusterSubjects(uniqueClusterName("former"));
  const jsm = await jetstreamManager(nc);
  const said: string[] = [];
  const logger = { warn: (_fields: object, msg: string) => said.push(msg) } as never;
  expect(await warnOfFormerHistory(jsm, subjects, logger)).toBe(false);
  await jsm.streams.add({ name: `${subjects.cluster}-history`, subjects: [`${subjects.cluster}.former.>`] });
  expect(await warnOfFormerHistory(jsm, subjects, logger)).toBe(true);
  expect(said).toHaveLength(1);
  expect(said[0]).toContain(`nats stream rm ${subjects.cluster}-history`);
});
