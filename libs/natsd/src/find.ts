import { execFile } from "node:child_process";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { cachedNatsServers, isExecutableFile, natsServerCacheDir } from "./cache.js";
import { NatsServerNotFoundError } from "./errors.js";

const execFileAsync = promisify(execFile);

/** How to get a nats-server binary; part of every "not found" error. */
export const NATS_INSTALL_HINT = [
  "nats-server (>= 2.9.10) is needed. Get one of:",
  "  - Debian/Ubuntu: apt-get install -y nats-server",
  "  - a release binary from https://github.com/nats-io/nats-server/releases (put it on PATH)",
  "  - an existing binary elsewhere: export NATS_SERVER_BIN=/path/to/nats-server",
  "  - Docker: docker compose up (the repo's docker-compose.yml), then set NATS_URL",
  "  - on Linux amd64/arm64, Debian's build fetched into .nats-server/: npm run nats-server",
].join("\n");

/** Where Debian's package and a manual install put the binary, for shells whose PATH lacks sbin. */
export const DEFAULT_NATS_SERVER_PATHS: readonly string[] = ["/usr/sbin/nats-server", "/usr/local/bin/nats-server"];

/** Inputs of {@link findNatsServer}; injectable so tests can simulate a machine without the binary. */
export interface FindNatsServerOptions {
  /** Environment to read `NATS_SERVER_BIN` and `PATH` from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Paths tried after `PATH` (default {@link DEFAULT_NATS_SERVER_PATHS}). */
  fallbackPaths?: readonly string[];
  /**
   * Folder of servers fetched by `ensureNatsServer`, tried last, newest first (default
   * `natsServerCacheDir(env)`, i.e. `<repo>/.nats-server`); `false` leaves it out.
   */
  cacheDir?: string | false;
}

/**
 * Finds the nats-server binary: `NATS_SERVER_BIN` if set, else `nats-server` on `PATH`,
 * else the {@link DEFAULT_NATS_SERVER_PATHS}, else the newest server fetched earlier into
 * the project's cache folder (see `ensureNatsServer`). Returns undefined when there is none.
 *
 * A set `NATS_SERVER_BIN` is authoritative: if it does not name an executable file the
 * result is undefined rather than some other binary, so a typo is not silently hidden.
 */
export function findNatsServer(options: FindNatsServerOptions = {}): string | undefined {
  const env = options.env ?? process.env;
  const explicit = env.NATS_SERVER_BIN;
  if (explicit !== undefined && explicit !== "") {
    return isExecutableFile(explicit) ? explicit : undefined;
  }
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "nats-server");
    if (isExecutableFile(candidate)) return candidate;
  }
  const fallback = (options.fallbackPaths ?? DEFAULT_NATS_SERVER_PATHS).find(isExecutableFile);
  if (fallback !== undefined || options.cacheDir === false) return fallback;
  return cachedNatsServers(options.cacheDir ?? natsServerCacheDir(env))[0]?.bin;
}

/**
 * Like {@link findNatsServer} but throws {@link NatsServerNotFoundError} (whose message
 * includes {@link NATS_INSTALL_HINT}) when there is no binary.
 */
export function requireNatsServer(options: FindNatsServerOptions = {}): string {
  const found = findNatsServer(options);
  if (found !== undefined) return found;
  const explicit = (options.env ?? process.env).NATS_SERVER_BIN;
  const why =
    explicit !== undefined && explicit !== ""
      ? `NATS_SERVER_BIN=${explicit} is not an executable file.`
      : "No nats-server binary on PATH or in the usual places.";
  throw new NatsServerNotFoundError(`${why}\n${NATS_INSTALL_HINT}`);
}

/** Extracts `2.9.10` from `nats-server: v2.9.10` (or any text holding a `vX.Y.Z`). */
export function parseNatsServerVersion(text: string): string | undefined {
  return /v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)/.exec(text)?.[1];
}

/** Runs `<bin> --version` and returns the bare version, e.g. `"2.9.10"`. */
export async function natsServerVersion(bin: string): Promise<string> {
  const { stdout, stderr } = await execFileAsync(bin, ["--version"], { timeout: 10_000 });
  const version = parseNatsServerVersion(`${stdout}\n${stderr}`);
  if (version === undefined) {
    throw new Error(`could not read a version from \`${bin} --version\`: ${JSON.stringify(stdout.trim())}`);
  }
  return version;
}
