import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { describe, expect, inject, it } from "vitest";

describe("globalSetup", () => {
  it("provides a JetStream-enabled server of our own as natsUrl", async () => {
    const url = inject("natsUrl");
    expect(url).toMatch(/^nats:\/\//);
    expect(url).not.toBe("nats://127.0.0.1:4222");
    const nc = await connect({ servers: url });
    try {
      const account = await jetstreamManager(nc).then((jsm) => jsm.getAccountInfo());
      expect(account.limits).toBeDefined();
    } finally {
      await nc.close();
    }
  });
});
