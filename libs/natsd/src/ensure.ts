/**
 * A nats-server of at least a given version: the machine's when it is new enough, else one
 * fetched earlier into the project's cache folder, else Debian's package, fetched now.
 */
import { chmod, copyFile, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { basename, join, relative, sep } from "node:path";
import { cachedNatsServers, natsServerCacheDir, withCacheLock } from "./cache.js";
import { type DebUnpacker, programIn, unpackDeb } from "./deb.js";
import {
  DEBIAN_MIRROR,
  type DebianPackage,
  debianArch,
  downloadDebianPackage,
  type FetchLike,
  fetchDebianPackage,
} from "./debian.js";
import { NatsServerNotFoundError } from "./errors.js";
import {
  DEFAULT_NATS_SERVER_PATHS,
  type FindNatsServerOptions,
  findNatsServer,
  NATS_INSTALL_HINT,
  natsServerVersion,
  requireNatsServer,
} from "./find.js";
import { isAtLeast, MIN_NATS_SERVER_VERSION } from "./version.js";

/** Debian suites tried in order: trixie ships 2.10.27, sid the newest (2.15.1 at the time of writing). */
export const DEFAULT_DEBIAN_SUITES: readonly string[] = ["trixie", "sid"];

/** Options of {@link ensureNatsServer}. */
export interface EnsureNatsServerOptions extends Omit<FindNatsServerOptions, "cacheDir"> {
  /** The oldest acceptable version (default {@link MIN_NATS_SERVER_VERSION}). */
  minVersion?: string;
  /** Why that version is needed, for the message, e.g. `"needed for replicated streams"`. */
  purpose?: string;
  /** Folder of fetched servers (default {@link natsServerCacheDir} of `env`). */
  cacheDir?: string;
  /** Debian suites to look in, in order (default {@link DEFAULT_DEBIAN_SUITES}). */
  suites?: readonly string[];
  /** Debian mirror (default {@link DEBIAN_MIRROR}). */
  mirror?: string;
  /** HTTP client (default the global `fetch`); tests pass a fake archive. */
  fetch?: FetchLike;
  /** How to unpack the `.deb` (default: `dpkg-deb` when installed, else `ar` + `tar`). */
  unpacker?: DebUnpacker;
  /** Where the one line about fetching goes (default: stderr). */
  log?: (line: string) => void;
}

/** A nats-server binary that is new enough, and where it came from. */
export interface EnsuredNatsServer {
  /** Path of the binary. */
  bin: string;
  /** What `bin --version` reports, e.g. `"2.10.27"`. */
  version: string;
  /** `machine`: found as {@link findNatsServer} finds it; `cache`: fetched earlier; `fetched`: just now. */
  source: "machine" | "cache" | "fetched";
  /** Why the machine's server was not used (undefined when it was). */
  reason?: string;
}

/**
 * Returns a nats-server of at least `minVersion`. In order: the machine's (`NATS_SERVER_BIN`,
 * `PATH`, the usual paths) if new enough; a server fetched earlier into the cache folder;
 * else it downloads Debian's `nats-server` package for this architecture (trixie, then sid),
 * checks its SHA256 against the suite's index, unpacks the binary into
 * `<cacheDir>/<version>/nats-server` and says so in one line. A second call finds that
 * binary without the network; concurrent callers fetch once (see {@link withCacheLock}).
 *
 * A set `NATS_SERVER_BIN` that names no executable fails as {@link requireNatsServer} does,
 * rather than fetching around a typo. Throws {@link NatsServerNotFoundError} when nothing
 * fits and nothing can be fetched (not Linux amd64/arm64, no network, no such version).
 */
export async function ensureNatsServer(options: EnsureNatsServerOptions = {}): Promise<EnsuredNatsServer> {
  const env = options.env ?? process.env;
  const minVersion = options.minVersion ?? MIN_NATS_SERVER_VERSION;
  // The machine's own server only: the cache is looked at below, for a new enough one.
  const find = { env, fallbackPaths: options.fallbackPaths ?? DEFAULT_NATS_SERVER_PATHS, cacheDir: false as const };
  const explicit = env.NATS_SERVER_BIN;
  if (explicit !== undefined && explicit !== "") requireNatsServer(find);

  const machineBin = findNatsServer(find);
  let reason = "no nats-server on this machine";
  if (machineBin !== undefined) {
    const version = await natsServerVersion(machineBin).catch(() => undefined);
    if (version !== undefined && isAtLeast(version, minVersion)) return { bin: machineBin, version, source: "machine" };
    reason =
      version === undefined
        ? `${machineBin} does not run (\`--version\` failed)`
        : `nats-server ${version} at ${machineBin} is older than ${minVersion}`;
  }
  if (options.purpose !== undefined) reason += `, ${options.purpose}`;

  const cacheDir = options.cacheDir ?? natsServerCacheDir(env);
  const cached = await fromCache(cacheDir, minVersion);
  if (cached !== undefined) return { ...cached, source: "cache", reason };

  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  return withCacheLock(
    cacheDir,
    async () => {
      // Another process may have fetched it while we waited for the lock.
      const fetchedMeanwhile = await fromCache(cacheDir, minVersion);
      if (fetchedMeanwhile !== undefined) return { ...fetchedMeanwhile, source: "cache", reason };
      const fetched = await fetchFromDebian({ ...options, cacheDir, minVersion, reason, log });
      return { ...fetched, source: "fetched", reason };
    },
    () => log(`${reason}; waiting for another process that is fetching one into ${shown(cacheDir)} …`),
  );
}

/** The newest cached server of at least `minVersion` that really runs and reports that version. */
async function fromCache(cacheDir: string, minVersion: string): Promise<{ bin: string; version: string } | undefined> {
  for (const candidate of cachedNatsServers(cacheDir)) {
    if (!isAtLeast(candidate.version, minVersion)) break; // newest first: the rest are older
    const version = await natsServerVersion(candidate.bin).catch(() => undefined);
    if (version === candidate.version) return { bin: candidate.bin, version };
  }
  return undefined;
}

/** `.nats-server/` when the folder is under the working directory, its full path otherwise. */
function shown(dir: string): string {
  const rel = relative(process.cwd(), dir);
  return rel !== "" && !rel.startsWith("..") ? `${rel}${sep}` : `${dir}${sep}`;
}

interface FetchPlan extends EnsureNatsServerOptions {
  cacheDir: string;
  minVersion: string;
  reason: string;
  log: (line: string) => void;
}

async function fetchFromDebian(plan: FetchPlan): Promise<{ bin: string; version: string }> {
  const cannot = (why: string) =>
    new NatsServerNotFoundError(
      `${plan.reason}, and ${why}.\nGet nats-server >= ${plan.minVersion} yourself:\n${NATS_INSTALL_HINT}`,
    );
  const arch = debianArch();
  if (process.platform !== "linux" || arch === undefined) {
    throw cannot(
      `Debian's package can only be fetched on Linux amd64/arm64 (this is ${process.platform}/${process.arch})`,
    );
  }
  const mirror = plan.mirror ?? DEBIAN_MIRROR;
  const seen: string[] = [];
  let chosen: { suite: string; entry: DebianPackage } | undefined;
  for (const suite of plan.suites ?? DEFAULT_DEBIAN_SUITES) {
    let entry: DebianPackage | undefined;
    try {
      entry = await fetchDebianPackage({ name: "nats-server", suite, arch, mirror, fetch: plan.fetch });
    } catch (error) {
      seen.push(`${suite}: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    if (entry !== undefined && isAtLeast(entry.upstreamVersion, plan.minVersion)) {
      chosen = { suite, entry };
      break;
    }
    seen.push(`${suite}: ${entry === undefined ? "no nats-server package" : `only ${entry.version}`}`);
  }
  if (chosen === undefined)
    throw cannot(`Debian's archive has no nats-server >= ${plan.minVersion} (${seen.join("; ")})`);

  const { suite, entry } = chosen;
  plan.log(`${plan.reason}; fetching Debian ${suite}'s ${entry.upstreamVersion} into ${shown(plan.cacheDir)} …`);
  const work = await mkdtemp(join(plan.cacheDir, ".fetch-"));
  try {
    const deb = join(work, basename(entry.filename));
    await writeFile(deb, await downloadDebianPackage(entry, { mirror, fetch: plan.fetch }));
    const unpacked = join(work, "root");
    await unpackDeb(deb, unpacked, plan.unpacker);
    const staged = join(work, entry.upstreamVersion);
    await mkdir(staged);
    const bin = join(staged, "nats-server");
    await copyFirst(programIn(unpacked, "nats-server"), bin, deb);
    await chmod(bin, 0o755);
    const version = await natsServerVersion(bin);
    if (version !== entry.upstreamVersion) {
      throw new Error(`${basename(entry.filename)} holds nats-server ${version}, not ${entry.upstreamVersion}`);
    }
    // Where it came from, for whoever finds the folder later.
    await writeFile(
      join(staged, "SOURCE"),
      `${mirror}/${entry.filename}\nSHA256 ${entry.sha256}\nDebian ${suite}, ${entry.version}, ${entry.architecture}\n`,
    );
    const target = join(plan.cacheDir, entry.upstreamVersion);
    try {
      await rename(staged, target); // atomic: readers see all of it or nothing
    } catch (error) {
      // Someone installed the same version meanwhile (a lock taken over as stale): keep theirs.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
    }
    return { bin: join(target, "nats-server"), version };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function copyFirst(candidates: readonly string[], to: string, deb: string): Promise<void> {
  for (const from of candidates) {
    try {
      await copyFile(from, to);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  throw new Error(`${basename(deb)} has no usr/sbin/nats-server or usr/bin/nats-server`);
}
