import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsoleServer, startConsoleServer } from "./server.js";

describe("the console's static server", () => {
  let root: string;
  let server: ConsoleServer;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "console-page-"));
    await writeFile(join(root, "index.html"), "<!doctype html><p>page</p>");
    await writeFile(join(root, "app.js"), "export {};");
    server = await startConsoleServer({ port: 0, natsWsUrl: "ws://nats.example:8080", cluster: "c1", root });
  });

  afterAll(async () => {
    await server?.close();
    await rm(root, { recursive: true, force: true });
  });

  it("serves the page and its files with their types", async () => {
    const index = await fetch(server.url);
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await index.text()).toContain("page");
    const js = await fetch(new URL("app.js", server.url));
    expect(js.headers.get("content-type")).toMatch(/^text\/javascript/);
  });

  it("tells the page where NATS is, and nothing more", async () => {
    const config = await (await fetch(new URL("config.json", server.url))).json();
    expect(config).toEqual({ natsWsUrl: "ws://nats.example:8080", cluster: "c1" });
  });

  it("serves nothing outside its folder and takes no writes", async () => {
    expect((await fetch(new URL("/../../etc/passwd", server.url))).status).toBe(404);
    expect((await fetch(`${server.url}%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
    expect((await fetch(new URL("missing.js", server.url))).status).toBe(404);
    expect((await fetch(server.url, { method: "POST", body: "x" })).status).toBe(405);
    expect((await fetch(`${server.url}%E0%A4%A`)).status).toBe(400);
    expect((await fetch(server.url)).status).toBe(200);
  });

  it("refuses to start when the page was not built", async () => {
    await expect(startConsoleServer({ port: 0, natsWsUrl: "ws://x", root: join(root, "nope") })).rejects.toThrow(
      /not built/,
    );
  });
});
