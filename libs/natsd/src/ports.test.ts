import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./mod.js";

describe("freePort", () => {
  let occupied: Server;
  let occupiedPort: number;

  beforeAll(async () => {
    occupied = createServer();
    await new Promise<void>((resolve) => occupied.listen(0, "127.0.0.1", resolve));
    const address = occupied.address();
    occupiedPort = typeof address === "object" && address !== null ? address.port : 0;
  });
  afterAll(async () => {
    await new Promise((resolve) => occupied.close(resolve));
  });

  it("returns the preferred port when it is free", async () => {
    const port = await freePort();
    expect(await freePort(port)).toBe(port);
  });

  it("returns another port when the preferred one is taken", async () => {
    const port = await freePort(occupiedPort);
    expect(port).not.toBe(occupiedPort);
    expect(port).toBeGreaterThan(0);
  });

  it("never hands out the same automatic port twice", async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(20);
  });
});
