/**
 * The project-local folder of nats-server binaries fetched from Debian:
 * `<repo>/.nats-server/<version>/nats-server`, and the lock that keeps two processes
 * (two vitest workers, a test run and `npm start`) from fetching the same thing at once.
 */
import { accessSync, constants, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, open, readFile, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { compareVersions } from "./version.js";

/** Environment variable that moves the folder of fetched servers elsewhere. */
export const NATS_SERVER_CACHE_DIR_ENV = "NATS_SERVER_CACHE_DIR";

let projectRoot: string | undefined;

/**
 * The workspace root: the nearest folder above this module whose package.json declares
 * `workspaces` (the module may run from src/ under vitest or from dist/). Falls back to the
 * working directory when this library is used outside the repo.
 */
function findProjectRoot(): string {
  if (projectRoot !== undefined) return projectRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest: unknown = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      if (typeof manifest === "object" && manifest !== null && "workspaces" in manifest) {
        projectRoot = dir;
        return dir;
      }
    } catch {
      // No (readable) package.json here; keep climbing.
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  projectRoot = process.cwd();
  return projectRoot;
}

/** Where fetched servers live: `$NATS_SERVER_CACHE_DIR`, else `<repo>/.nats-server` (gitignored). */
export function natsServerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env[NATS_SERVER_CACHE_DIR_ENV];
  return explicit !== undefined && explicit !== "" ? resolve(explicit) : join(findProjectRoot(), ".nats-server");
}

/** A binary in the cache folder, with the version its folder is named after. */
export interface CachedNatsServer {
  version: string;
  bin: string;
}

/** Whether `path` is an executable regular file. */
export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The servers in `cacheDir`, newest first. Synchronous and cheap (one directory listing),
 * so the plain binary lookup can consider them too. Only complete installs are listed:
 * one is renamed into place as a whole, after it was checked.
 */
export function cachedNatsServers(cacheDir: string): CachedNatsServer[] {
  let names: string[];
  try {
    names = readdirSync(cacheDir);
  } catch {
    return [];
  }
  const found: CachedNatsServer[] = [];
  for (const name of names) {
    try {
      compareVersions(name, name); // a version-named folder, not .lock or a .fetch- temp dir
    } catch {
      continue;
    }
    const bin = join(cacheDir, name, "nats-server");
    if (isExecutableFile(bin)) found.push({ version: name, bin });
  }
  return found.sort((a, b) => compareVersions(b.version, a.version));
}

/** How long a lock may be held before another process takes it over, whatever its pid says. */
const STALE_LOCK_MS = 15 * 60_000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether the lock at `path` was left by a process that died or has held it far too long. */
async function isStale(path: string): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    const pid = Number(text.split("\n")[0]);
    if (Date.now() - info.mtimeMs > STALE_LOCK_MS) return true;
    return Number.isSafeInteger(pid) && pid > 0 && !processAlive(pid);
  } catch {
    return false; // Gone or half-written: just try again.
  }
}

/**
 * Runs `fn` while holding `<cacheDir>/.lock` (created exclusively, holding our pid), so
 * concurrent callers fetch once and the others wait and then find the result. A lock
 * whose process died is taken over. The lock only saves duplicate downloads: installs
 * are atomic renames, so even two fetches at once leave one complete binary.
 * `onWait` is called once if another process holds the lock.
 */
export async function withCacheLock<T>(cacheDir: string, fn: () => Promise<T>, onWait?: () => void): Promise<T> {
  await mkdir(cacheDir, { recursive: true });
  const path = join(cacheDir, ".lock");
  let waited = false;
  for (;;) {
    try {
      const handle = await open(path, "wx");
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (await isStale(path)) {
        await rm(path, { force: true });
        continue;
      }
      if (!waited) onWait?.();
      waited = true;
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}
