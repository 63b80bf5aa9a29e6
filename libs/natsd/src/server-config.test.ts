import { createConnection } from "node:net";
import { describe, expect, it } from "vitest";
import { startNatsServer } from "./server.js";
import { generatedConfig } from "./server-config.js";

describe("the WebSocket listener", () => {
  it("is a websocket block without TLS on the host and port asked for, and refuses a port that is none", () => {
    expect(generatedConfig({ websocketPort: 8081, host: "0.0.0.0" })).toEqual([
      'websocket {\n  host: "0.0.0.0"\n  port: 8081\n  no_tls: true\n}',
    ]);
    expect(generatedConfig({})).toEqual([]);
    expect(() => generatedConfig({ websocketPort: 70_000 })).toThrow(RangeError);
  });

  it("listens on a free port when asked for port 0, and says where", async () => {
    const server = await startNatsServer({ websocketPort: 0, jetstream: false });
    try {
      const url = new URL(server.wsUrl as string);
      expect(url.protocol).toBe("ws:");
      await new Promise<void>((resolve, reject) => {
        const socket = createConnection({ host: url.hostname, port: Number(url.port) }, () => {
          socket.end();
          resolve();
        });
        socket.once("error", reject);
      });
    } finally {
      await server.stop();
    }
  });
});
