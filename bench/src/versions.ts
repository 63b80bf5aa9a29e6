/**
 * Figures of version control, on a cluster of its own (one registry shard and
 * one versions process on the bench's nats-server):
 *
 * - catch-up: strategies registered and edited before the versions process
 *   starts; how long it takes to copy every version from the partition logs;
 * - diff latency: `diff <id> 1 <latest>` one at a time, p50 / p99, beside a
 *   shard `get`: first for strategies whose versions the process has not read
 *   yet (a consumer on the subject), then again (cached: one direct get);
 * - rollback latency: `rollback <id> 1` one at a time (a versions read, a
 *   shard get and a fenced update), p50 / p99, beside a plain shard `update`;
 * - the versions stream at scale: one subject per strategy. N subjects with a
 *   version each are published into a scratch stream; the server's memory
 *   growth per subject, and reading one strategy's versions (a last-by-subject
 *   get, then an ordered consumer filtered to the subject) among N.
 */
import { performance } from "node:perf_hooks";
import { DeliverPolicy, jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect, nanos } from "@nats-io/transport-node";
import { StratregClient } from "@stratreg/client";
import { type Server, settled, supervisor } from "./cluster.js";
import { drain } from "./loop.js";
import { fmt, tableRow } from "./table.js";

const CLUSTER = "bench-ver";

export interface VersionsFigures {
  strategies: number;
  versionsEach: number;
  /** Versions copied from the history per second while catching up. */
  catchUpPerSecond: number;
  catchUpMs: number;
  /** The first diff of a strategy since the process started: its versions read from the stream. */
  diffCold: { p50Us: number; p99Us: number };
  /** Its versions cached: one direct get says they are still all of them. */
  diff: { p50Us: number; p99Us: number };
  get: { p50Us: number; p99Us: number };
  rollback: { p50Us: number; p99Us: number };
  update: { p50Us: number; p99Us: number };
  scale: {
    subjects: number;
    publishPerSecond: number;
    /** nats-server memory growth per subject (bytes, from /varz). */
    serverBytesPerSubject: number | null;
    lastBySubject: { p50Us: number; p99Us: number };
    subjectRead: { p50Us: number; p99Us: number };
  };
}

function percentiles(samples: number[]): { p50Us: number; p99Us: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50Us: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
    p99Us: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? Number.NaN,
  };
}

async function timed<T>(items: T[], op: (item: T) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (const item of items) {
    const t = performance.now();
    await op(item);
    samples.push((performance.now() - t) * 1000);
  }
  return samples;
}

async function serverMemory(server: Server & { monitorUrl?: string }): Promise<number | null> {
  if (server.monitorUrl === undefined) return null;
  const varz = (await (await fetch(`${server.monitorUrl}/varz`)).json().catch(() => null)) as { mem?: number } | null;
  return varz?.mem ?? null;
}

/** Starts the cluster, then measures every version-control figure. */
export async function versionsFigures(
  server: Server & { monitorUrl?: string },
  say: (line: string) => void,
  options: { quick: boolean; subjects: number },
): Promise<VersionsFigures> {
  const strategies = options.quick ? 200 : 2000;
  const edits = options.quick ? 9 : 19;
  const samples = options.quick ? 200 : 1000;
  const services = supervisor(server, CLUSTER, say);
  const nc = await connect({ servers: server.url, name: "bench-versions" });
  try {
    services.start("ver-shard-1");
    await settled(nc, CLUSTER, 1);
    const client = await StratregClient.connect(nc, { cluster: CLUSTER, timeoutMs: 30_000 });
    const ids = Array.from({ length: strategies }, (_, i) => `ver-${i}`);
    await client.registerMany(
      ids.map((id) => ({ id, name: id, owner: "bench", template: { id: "band", params: { lookback: 10, k: 1 } } })),
    );
    say(`versions: ${strategies} strategies, ${edits} edits each, before the versions process starts…`);
    for (let e = 0; e < edits; e++) {
      await drain(ids, 32, (id) =>
        client.update(id, e + 1, { template: { id: "band", params: { lookback: 10 + e, k: e % 3 } } }),
      );
    }
    const began = performance.now();
    services.start("ver-versions-1", "versions");
    const total = strategies * (edits + 1);
    for (;;) {
      const status = (await client.versionsStatus({ timeoutMs: 2000 }).catch(() => undefined)) as
        | { state?: string; copy?: { pending: number | null } }
        | undefined;
      if (status?.state === "serving" && status.copy?.pending === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const catchUpMs = performance.now() - began;
    say(`versions: caught up with ${total} versions in ${Math.round(catchUpMs)} ms (process start included)`);

    const pick = (i: number) => ids[(i * 7919) % ids.length] as string;
    const sampleIds = Array.from({ length: samples }, (_, i) => pick(i));
    // Warm the paths up on one strategy, then diff each sampled strategy twice: the first read of
    // its versions since the process started (a consumer on its subject), then again (cached).
    await timed(
      Array.from({ length: 20 }, () => ids[0] as string),
      (id) => client.diffVersions(id, 1, edits + 1),
    );
    const cold = sampleIds.filter((id) => id !== ids[0]);
    const diffCold = await timed(cold, (id) => client.diffVersions(id, 1, edits + 1));
    const diff = await timed(cold, (id) => client.diffVersions(id, 1, edits + 1));
    const get = await timed(sampleIds, (id) => client.get(id));
    // Each strategy rolled back once, to its first version; updates on the others.
    const rollbackIds = ids.slice(0, Math.min(samples, strategies / 2));
    const rollback = await timed(rollbackIds, (id) => client.rollback(id, 1, { by: "bench" }));
    const updateIds = ids.slice(strategies / 2, strategies / 2 + rollbackIds.length);
    const update = await timed(updateIds, (id) => client.update(id, edits + 1, { name: `${id} renamed` }));

    const scale = await scaleFigures(server, say, options.subjects);
    return {
      strategies,
      versionsEach: edits + 1,
      catchUpPerSecond: total / (catchUpMs / 1000),
      catchUpMs,
      diffCold: percentiles(diffCold),
      diff: percentiles(diff),
      get: percentiles(get),
      rollback: percentiles(rollback),
      update: percentiles(update),
      scale,
    };
  } finally {
    await nc.close().catch(() => undefined);
    await services.stopAll();
  }
}

/** One subject per strategy in one stream, at `subjects` strategies. */
async function scaleFigures(
  server: Server & { monitorUrl?: string },
  say: (line: string) => void,
  subjects: number,
): Promise<VersionsFigures["scale"]> {
  const nc = await connect({ servers: server.url, name: "bench-versions-scale" });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const stream = "bench-ver-scale";
  try {
    await jsm.streams.add({
      name: stream,
      subjects: ["benchver.>"],
      storage: StorageType.File,
      duplicate_window: nanos(60_000),
    });
    const before = await serverMemory(server);
    const payload = new Uint8Array(1024);
    const subjectOf = (i: number) => `benchver.${Buffer.from(`strategy-${i}`).toString("base64url")}`;
    say(`versions: ${subjects.toLocaleString("en-US")} subjects, one ~1 KB version each…`);
    const began = performance.now();
    const window = 2000;
    for (let start = 0; start < subjects; start += window) {
      const acks = [];
      for (let i = start; i < Math.min(subjects, start + window); i++) {
        acks.push(js.publish(subjectOf(i), payload, { msgID: `strategy-${i}@1` }));
      }
      await Promise.all(acks);
    }
    const publishPerSecond = subjects / ((performance.now() - began) / 1000);
    const after = await serverMemory(server);
    const probe = Array.from({ length: 200 }, (_, i) => subjectOf((i * 104_729) % subjects));
    const lastBySubject = await timed(probe, (subject) => jsm.streams.getMessage(stream, { last_by_subj: subject }));
    const subjectRead = await timed(probe, async (subject) => {
      const consumer = await js.consumers.get(stream, {
        filter_subjects: subject,
        deliver_policy: DeliverPolicy.All,
      });
      const message = await consumer.next({ expires: 5000 });
      if (message === null) throw new Error(`no message on ${subject}`);
      await consumer.delete().catch(() => undefined);
    });
    return {
      subjects,
      publishPerSecond,
      serverBytesPerSubject: before === null || after === null ? null : (after - before) / subjects,
      lastBySubject: percentiles(lastBySubject),
      subjectRead: percentiles(subjectRead),
    };
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close().catch(() => undefined);
  }
}

const row = (cells: [string, string, string]) => tableRow(cells, [70, -16, 44]);

/** The version-control figures as a markdown table. */
export function versionsTable(f: VersionsFigures): string {
  const pair = (p: { p50Us: number; p99Us: number }) => `${fmt(p.p50Us)} / ${fmt(p.p99Us)}`;
  const lines = [
    row(["version-control figure", "value", "baseline"]),
    row(["---", "---", "---"]),
    row([
      `catch-up: ${fmt(f.strategies)} strategies × ${f.versionsEach} versions copied from the history (versions/s)`,
      fmt(f.catchUpPerSecond),
      `${fmt(f.catchUpMs)} ms, process start included`,
    ]),
    row([
      `diff latency, ${f.versionsEach} versions kept, cached, one at a time, p50 / p99 (µs)`,
      pair(f.diff),
      `${pair(f.get)} (shard get)`,
    ]),
    row(["  first diff of a strategy (its versions read from the stream), p50 / p99 (µs)", pair(f.diffCold), ""]),
    row(["rollback latency, one at a time, p50 / p99 (µs)", pair(f.rollback), `${pair(f.update)} (shard update)`]),
    row([
      `versions stream at ${fmt(f.scale.subjects)} subjects: publish one version each (per s)`,
      fmt(f.scale.publishPerSecond),
      "async, 2,000 in flight, ~1 KB each",
    ]),
    row([
      "  nats-server memory per subject (bytes)",
      f.scale.serverBytesPerSubject === null ? "–" : fmt(f.scale.serverBytesPerSubject),
      "/varz mem growth ÷ subjects",
    ]),
    row(["  last version of one subject (last-by-subject get), p50 / p99 (µs)", pair(f.scale.lastBySubject), ""]),
    row(["  read one subject with a filtered consumer, p50 / p99 (µs)", pair(f.scale.subjectRead), "what `log` does"]),
  ];
  return `${lines.join("\n")}\n`;
}
