import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  findNatsServer,
  NATS_INSTALL_HINT,
  NatsServerNotFoundError,
  natsServerVersion,
  parseNatsServerVersion,
  requireNatsServer,
  startNatsServer,
} from "./mod.js";

const nowhere = { NATS_SERVER_BIN: "/nonexistent/nats-server", PATH: "/nonexistent" };

describe("findNatsServer", () => {
  let binDir: string;
  let fakeBin: string;

  beforeAll(async () => {
    binDir = await mkdtemp(join(tmpdir(), "natsd-find-"));
    fakeBin = join(binDir, "nats-server");
    await writeFile(fakeBin, "#!/bin/sh\necho 'nats-server: v9.8.7'\n");
    await chmod(fakeBin, 0o755);
  });
  afterAll(async () => {
    await rm(binDir, { recursive: true, force: true });
  });

  it("prefers NATS_SERVER_BIN", () => {
    expect(findNatsServer({ env: { NATS_SERVER_BIN: fakeBin, PATH: "/nonexistent" }, fallbackPaths: [] })).toBe(
      fakeBin,
    );
  });

  it("searches PATH, then the fallback paths", () => {
    expect(findNatsServer({ env: { PATH: `/nonexistent:${binDir}` }, fallbackPaths: [] })).toBe(fakeBin);
    expect(findNatsServer({ env: { PATH: "/nonexistent" }, fallbackPaths: ["/nonexistent/x", fakeBin] })).toBe(fakeBin);
    expect(findNatsServer({ env: { PATH: "/nonexistent" }, fallbackPaths: [], cacheDir: false })).toBeUndefined();
  });

  it("tries the newest server of the cache folder last", async () => {
    const cacheDir = join(binDir, "cache");
    for (const dir of ["2.98.0", "2.99.0", ".fetch-abc", "not-a-version"]) {
      await mkdir(join(cacheDir, dir), { recursive: true });
      await writeFile(join(cacheDir, dir, "nats-server"), "#!/bin/sh\n", { mode: 0o755 });
    }
    const newest = join(cacheDir, "2.99.0", "nats-server");
    expect(findNatsServer({ env: { PATH: "/nonexistent" }, fallbackPaths: [], cacheDir })).toBe(newest);
    // NATS_SERVER_CACHE_DIR moves the default folder.
    const env = { PATH: "/nonexistent", NATS_SERVER_CACHE_DIR: cacheDir };
    expect(findNatsServer({ env, fallbackPaths: [] })).toBe(newest);
    // The machine's own server comes first.
    expect(findNatsServer({ env: { ...env, PATH: binDir }, fallbackPaths: [] })).toBe(fakeBin);
  });

  it("treats a set NATS_SERVER_BIN as authoritative, even when PATH has a binary", () => {
    expect(findNatsServer({ env: { ...nowhere, PATH: binDir } })).toBeUndefined();
  });

  it("throws the install hint when nothing is found", () => {
    expect(() => requireNatsServer({ env: nowhere })).toThrow(NatsServerNotFoundError);
    expect(() => requireNatsServer({ env: nowhere })).toThrow(NATS_INSTALL_HINT);
    expect(() => requireNatsServer({ env: nowhere })).toThrow("NATS_SERVER_BIN=/nonexistent/nats-server");
  });

  it("makes startNatsServer reject with the hint", async () => {
    await expect(startNatsServer({ env: nowhere })).rejects.toThrow(NATS_INSTALL_HINT);
  });

  it("reads versions", async () => {
    expect(parseNatsServerVersion("nats-server: v2.9.10")).toBe("2.9.10");
    expect(parseNatsServerVersion("nats-server: v2.11.0-RC.1\n")).toBe("2.11.0-RC.1");
    expect(parseNatsServerVersion("garbage")).toBeUndefined();
    expect(await natsServerVersion(fakeBin)).toBe("9.8.7");
  });

  it("reads the real binary's version", async () => {
    expect(await natsServerVersion(requireNatsServer())).toMatch(/^\d+\.\d+\.\d+/);
  });
});
