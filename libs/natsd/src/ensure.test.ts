import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readArMembers } from "./deb.js";
import type { FetchLike } from "./debian.js";
import {
  ensureNatsServer,
  NatsServerNotFoundError,
  natsServerCacheDir,
  natsServerVersion,
  REPLICATED_NATS_SERVER_VERSION,
  startNatsServer,
} from "./mod.js";

const execFileAsync = promisify(execFile);
const MIRROR = "https://mirror.example/debian";
/** A machine without any nats-server of its own. */
const bare = { env: { PATH: "/nonexistent" }, fallbackPaths: [] as string[] };
const noNetwork: FetchLike = async (url) => {
  throw new Error(`no network in this test: ${url}`);
};

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "natsd-ensure-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** An `ar` archive as dpkg writes it (bare names, members padded to an even length). */
function arArchive(members: Array<{ name: string; data: Buffer }>): Buffer {
  const parts: Buffer[] = [Buffer.from("!<arch>\n")];
  for (const { name, data } of members) {
    const header = `${name.padEnd(16)}${"0".padEnd(12)}${"0".padEnd(6)}${"0".padEnd(6)}${"100644".padEnd(8)}${String(data.length).padEnd(10)}\`\n`;
    parts.push(Buffer.from(header, "latin1"), data);
    if (data.length % 2 === 1) parts.push(Buffer.from("\n"));
  }
  return Buffer.concat(parts);
}

/** A `.deb` whose usr/sbin/nats-server is a script reporting `version`. */
async function fakeDeb(version: string): Promise<Buffer> {
  const root = await mkdtemp(join(scratch, "deb-"));
  await mkdir(join(root, "usr", "sbin"), { recursive: true });
  await writeFile(join(root, "usr", "sbin", "nats-server"), `#!/bin/sh\necho 'nats-server: v${version}'\n`);
  await chmod(join(root, "usr", "sbin", "nats-server"), 0o755);
  const tarball = join(root, "data.tar.gz");
  await execFileAsync("tar", ["-czf", tarball, "-C", root, "./usr"]);
  const control = gzipSync("Package: nats-server\n");
  return arArchive([
    { name: "debian-binary", data: Buffer.from("2.0\n") },
    { name: "control.tar.gz", data: control },
    { name: "data.tar.gz", data: await readFile(tarball) },
  ]);
}

interface FakeArchive {
  fetch: FetchLike;
  downloads: string[];
}

/** Debian's archive with one nats-server per suite; `corrupt` serves other bytes than the index's SHA256. */
async function fakeArchive(suites: Record<string, string>, corrupt = false): Promise<FakeArchive> {
  const files = new Map<string, Buffer>();
  for (const [suite, version] of Object.entries(suites)) {
    const deb = await fakeDeb(version);
    const filename = `pool/main/n/nats-server/nats-server_${version}-1_amd64.deb`;
    const sha256 = createHash("sha256").update(deb).digest("hex");
    const index = `Package: nats-server\nVersion: ${version}-1\nArchitecture: amd64\nFilename: ${filename}\nSize: ${deb.length}\nSHA256: ${sha256}\n`;
    files.set(`${MIRROR}/dists/${suite}/main/binary-amd64/Packages.gz`, gzipSync(index));
    files.set(`${MIRROR}/${filename}`, corrupt ? Buffer.from(deb).fill(0, 100, 200) : deb);
  }
  const downloads: string[] = [];
  return {
    downloads,
    fetch: async (url) => {
      const body = files.get(url);
      if (url.endsWith(".deb")) downloads.push(url);
      return body === undefined ? new Response("not found", { status: 404 }) : new Response(body);
    },
  };
}

describe("ensureNatsServer with a fake Debian archive", () => {
  it("fetches, checks and unpacks the package, says so in one line, then finds it without the network", async () => {
    const cacheDir = join(scratch, "cache-fetch");
    const archive = await fakeArchive({ trixie: "2.99.1" });
    const lines: string[] = [];
    const options = { ...bare, cacheDir, mirror: MIRROR, minVersion: "2.99.0", purpose: "needed for testing" };
    const first = await ensureNatsServer({ ...options, fetch: archive.fetch, log: (l) => lines.push(l) });
    expect(first).toEqual({
      bin: join(cacheDir, "2.99.1", "nats-server"),
      version: "2.99.1",
      source: "fetched",
      reason: "no nats-server on this machine, needed for testing",
    });
    expect(lines).toEqual([
      `no nats-server on this machine, needed for testing; fetching Debian trixie's 2.99.1 into ${cacheDir}/ …`,
    ]);
    expect(await natsServerVersion(first.bin)).toBe("2.99.1");
    expect(await readFile(join(cacheDir, "2.99.1", "SOURCE"), "utf8")).toContain("nats-server_2.99.1-1_amd64.deb");
    // Nothing else is left in the cache folder: no lock, no temp dir.
    expect(await readdir(cacheDir)).toEqual(["2.99.1"]);

    const again = await ensureNatsServer({ ...options, fetch: noNetwork, log: (l) => lines.push(l) });
    expect(again).toMatchObject({ bin: first.bin, version: "2.99.1", source: "cache" });
    expect(lines).toHaveLength(1);
  });

  it("unpacks with ar and tar where there is no dpkg-deb", async () => {
    const cacheDir = join(scratch, "cache-ar");
    const archive = await fakeArchive({ trixie: "2.99.2" });
    const got = await ensureNatsServer({
      ...bare,
      cacheDir,
      mirror: MIRROR,
      minVersion: "2.99.0",
      fetch: archive.fetch,
      unpacker: "ar+tar",
      log: () => {},
    });
    expect(got).toMatchObject({ version: "2.99.2", source: "fetched" });
    expect(await natsServerVersion(got.bin)).toBe("2.99.2");
  });

  it("falls back to sid when trixie's server is too old, and names the machine's old one", async () => {
    const cacheDir = join(scratch, "cache-sid");
    const archive = await fakeArchive({ trixie: "2.98.0", sid: "2.99.3" });
    const old = join(scratch, "old-nats-server");
    await writeFile(old, "#!/bin/sh\necho 'nats-server: v2.9.10'\n", { mode: 0o755 });
    const lines: string[] = [];
    const got = await ensureNatsServer({
      env: { PATH: "/nonexistent", NATS_SERVER_BIN: old },
      cacheDir,
      mirror: MIRROR,
      minVersion: "2.99.0",
      fetch: archive.fetch,
      log: (l) => lines.push(l),
    });
    expect(got).toMatchObject({ version: "2.99.3", source: "fetched" });
    expect(lines).toEqual([
      `nats-server 2.9.10 at ${old} is older than 2.99.0; fetching Debian sid's 2.99.3 into ${cacheDir}/ …`,
    ]);
  });

  it("uses the machine's server when it is new enough, without looking further", async () => {
    const fine = join(scratch, "fine-nats-server");
    await writeFile(fine, "#!/bin/sh\necho 'nats-server: v2.99.9'\n", { mode: 0o755 });
    const got = await ensureNatsServer({
      env: { PATH: "/nonexistent", NATS_SERVER_BIN: fine },
      cacheDir: join(scratch, "cache-unused"),
      minVersion: "2.99.0",
      fetch: noNetwork,
    });
    expect(got).toEqual({ bin: fine, version: "2.99.9", source: "machine" });
    expect(existsSync(join(scratch, "cache-unused"))).toBe(false);
  });

  it("does not fetch around a NATS_SERVER_BIN that names nothing", async () => {
    const typo = ensureNatsServer({ env: { NATS_SERVER_BIN: "/nonexistent/nats-server" }, fetch: noNetwork });
    await expect(typo).rejects.toThrow(NatsServerNotFoundError);
    await expect(typo).rejects.toThrow("NATS_SERVER_BIN=/nonexistent/nats-server is not an executable file");
  });

  it("refuses a package whose bytes do not match the index, and installs nothing", async () => {
    const cacheDir = join(scratch, "cache-corrupt");
    const archive = await fakeArchive({ trixie: "2.99.4" }, true);
    const got = ensureNatsServer({
      ...bare,
      cacheDir,
      mirror: MIRROR,
      minVersion: "2.99.0",
      fetch: archive.fetch,
      log: () => {},
    });
    await expect(got).rejects.toThrow(/does not match Debian's index/);
    expect(await readdir(cacheDir)).toEqual([]);
  });

  it("explains when no suite has a new enough server", async () => {
    const archive = await fakeArchive({ trixie: "2.98.0" });
    const got = ensureNatsServer({
      ...bare,
      cacheDir: join(scratch, "cache-none"),
      mirror: MIRROR,
      minVersion: "2.99.0",
      fetch: archive.fetch,
    });
    await expect(got).rejects.toThrow(NatsServerNotFoundError);
    await expect(got).rejects.toThrow(/no nats-server >= 2\.99\.0 \(trixie: only 2\.98\.0-1; sid: .*HTTP 404/);
  });

  it("fetches once for concurrent callers: the others wait for the lock and find it", async () => {
    const cacheDir = join(scratch, "cache-concurrent");
    const archive = await fakeArchive({ trixie: "2.99.5" });
    const lines: string[] = [];
    const options = {
      ...bare,
      cacheDir,
      mirror: MIRROR,
      minVersion: "2.99.0",
      fetch: archive.fetch,
      log: (l: string) => lines.push(l),
    };
    const results = await Promise.all([
      ensureNatsServer(options),
      ensureNatsServer(options),
      ensureNatsServer(options),
    ]);
    expect(new Set(results.map((r) => r.bin)).size).toBe(1);
    expect(results.map((r) => r.source).sort()).toEqual(["cache", "cache", "fetched"]);
    expect(archive.downloads).toHaveLength(1);
    expect(lines.filter((l) => l.includes("waiting for another process"))).toHaveLength(2);
  });

  it("takes over a lock left by a process that died", async () => {
    const cacheDir = join(scratch, "cache-stale");
    await mkdir(cacheDir);
    const { stdout } = await execFileAsync(process.execPath, ["-p", "process.pid"]);
    await writeFile(join(cacheDir, ".lock"), `${stdout.trim()}\n`);
    const archive = await fakeArchive({ trixie: "2.99.6" });
    const got = await ensureNatsServer({
      ...bare,
      cacheDir,
      mirror: MIRROR,
      minVersion: "2.99.0",
      fetch: archive.fetch,
      log: () => {},
    });
    expect(got.source).toBe("fetched");
  });
});

describe("readArMembers", () => {
  it("reads dpkg's and GNU ar's member names and skips the padding", () => {
    const archive = arArchive([
      { name: "odd/", data: Buffer.from("abc") },
      { name: "even", data: Buffer.from("abcd") },
    ]);
    expect(readArMembers(archive).map((m) => [m.name, m.data.toString()])).toEqual([
      ["odd", "abc"],
      ["even", "abcd"],
    ]);
  });

  it("refuses what is not an ar archive or is cut short", () => {
    expect(() => readArMembers(Buffer.from("PK\u0003\u0004 a zip"))).toThrow(/not an ar archive/);
    const cut = arArchive([{ name: "data.tar.xz", data: Buffer.alloc(100) }]).subarray(0, 120);
    expect(() => readArMembers(cut)).toThrow(/past the end/);
  });
});

describe("ensureNatsServer against Debian's archive", () => {
  // Really fetches (about 18 MB) the first time on a machine; later runs, and the test
  // run's global setup, find it in the project's .nats-server/ folder.
  it(`gets nats-server >= ${REPLICATED_NATS_SERVER_VERSION} into the project cache and runs it`, async () => {
    const want = { ...bare, minVersion: REPLICATED_NATS_SERVER_VERSION, purpose: "needed for replicated streams" };
    const got = await ensureNatsServer(want);
    expect(["fetched", "cache"]).toContain(got.source);
    expect(got.bin.startsWith(natsServerCacheDir())).toBe(true);
    expect(await natsServerVersion(got.bin)).toBe(got.version);
    expect(await readFile(join(got.bin, "..", "SOURCE"), "utf8")).toMatch(
      /^https:\/\/deb\.debian\.org\/debian\/pool\//,
    );

    const again = await ensureNatsServer({ ...want, fetch: noNetwork });
    expect(again).toMatchObject({ bin: got.bin, source: "cache" });

    const server = await startNatsServer({ bin: got.bin });
    try {
      expect(server.version).toBe(got.version);
    } finally {
      await server.stop();
    }
  });
});
