import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  isAtLeast,
  type NatsCluster,
  NatsdError,
  NatsdErrorCodes,
  REPLICATED_NATS_SERVER_VERSION,
  startNatsCluster,
} from "./mod.js";

async function publishUntilAcked(nc: NatsConnection, subject: string, data: string, id: string, withinMs: number) {
  const js = jetstream(nc);
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      // The same msgID makes a retry after a lost ack a no-op, as the registry's commands do.
      return await js.publish(subject, data, { msgID: id, timeout: 2_000 });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

describe("startNatsCluster", () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;

  beforeAll(async () => {
    cluster = await startNatsCluster({ size: 3 });
    nc = await connect({ servers: cluster.urls, reconnectTimeWait: 200, maxReconnectAttempts: -1 });
  });
  afterAll(async () => {
    await nc?.close();
    await cluster?.stop();
  });

  it("runs three routed JetStream nodes with distinct names, ports and store dirs", () => {
    expect(cluster.servers).toHaveLength(3);
    expect(new Set(cluster.servers.map((s) => s.serverName)).size).toBe(3);
    expect(new Set(cluster.servers.map((s) => s.storeDir)).size).toBe(3);
    expect(new Set(cluster.urls).size).toBe(3);
    expect(cluster.urls).not.toContain("nats://127.0.0.1:4222");
  });

  it("runs a nats-server that serialises the log fence on replicated streams, the one the global setup chose", () => {
    for (const server of cluster.servers) {
      expect(isAtLeast(server.version, REPLICATED_NATS_SERVER_VERSION)).toBe(true);
      expect(server.version).toBe(inject("natsClusterServer")?.version);
    }
  });

  it("with a node that does not answer, names the leader only when a majority is enough", async () => {
    const leader = await cluster.waitForMetaLeader();
    const frozen = cluster.servers.find((s) => s.serverName !== leader);
    expect(frozen).toBeDefined();
    process.kill(frozen?.pid as number, "SIGSTOP");
    try {
      const all = await cluster.waitForMetaLeader(3_000).catch((error: unknown) => error);
      expect(all).toBeInstanceOf(NatsdError);
      expect((all as NatsdError).code).toBe(NatsdErrorCodes.NoMetaLeader);
      // The two that answer agree on a leader (the frozen node cannot be it).
      const names = cluster.servers.filter((s) => s !== frozen).map((s) => s.serverName);
      expect(names).toContain(await cluster.waitForMetaLeader(10_000, { quorum: true }));
    } finally {
      process.kill(frozen?.pid as number, "SIGCONT");
    }
    // Once it answers again, every node agrees (the leader may have changed as it came back).
    expect(cluster.servers.map((s) => s.serverName)).toContain(await cluster.waitForMetaLeader(60_000));
  });

  it("keeps an R3 stream writable when the stream leader is SIGKILLed", async () => {
    const jsm = await jetstreamManager(nc);
    const created = await jsm.streams.add({ name: "REPLICATED", subjects: ["rep.>"], num_replicas: 3 });
    expect(created.config.num_replicas).toBe(3);
    expect((await publishUntilAcked(nc, "rep.a", "one", "a-1", 10_000)).seq).toBe(1);

    const leaderName = (await jsm.streams.info("REPLICATED")).cluster?.leader;
    const victim = cluster.servers.find((s) => s.serverName === leaderName);
    expect(victim).toBeDefined();
    await victim?.kill("SIGKILL");

    const ack = await publishUntilAcked(nc, "rep.a", "two", "a-2", 30_000);
    expect(ack.seq).toBe(2);
    const info = await jsm.streams.info("REPLICATED");
    expect(info.state.messages).toBe(2);
    expect(info.cluster?.leader).not.toBe(leaderName);

    // The victim comes back with its store. A majority current is what writes need: a node back
    // from a SIGKILL has been seen to stay "not current" to the meta leader for over a minute on
    // a loaded machine.
    await victim?.restart();
    await cluster.waitForMetaLeader(60_000, { quorum: true });
    const third = await publishUntilAcked(nc, "rep.a", "three", "a-3", 10_000);
    expect(third.seq).toBe(3);
  });
});

describe("startNatsCluster refusing", () => {
  it("a size that is not a positive integer, before anything starts", async () => {
    for (const size of [0, 2.5, -1]) {
      await expect(startNatsCluster({ size })).rejects.toThrow(`cluster size must be a positive integer, got ${size}`);
    }
  });

  it("a cluster whose servers cannot start, as START_FAILED", async () => {
    const err = await startNatsCluster({
      size: 3,
      name: "natsd-bad-config",
      configFile: "/nonexistent/stratreg-test.conf",
      readyTimeoutMs: 10_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NatsdError);
    expect(err).toMatchObject({ code: NatsdErrorCodes.StartFailed });
  });
});
