/**
 * The top-k baseline: a redis-server of the bench's own (no persistence) holding
 * one sorted set with as many members as the ranker ranks, asked for its best
 * 100 with ZREVRANGE … WITHSCORES from one auto-pipelined connection, as many in
 * flight as the ranker's `top` is asked.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { uniform } from "@stratreg/launcher";
import { freePort, killOnExit } from "@stratreg/natsd";
import { Redis } from "ioredis";
import { closedLoop, type LoopResult } from "./loop.js";

const KEY = "bench:sharpe";

/** redis-server from REDIS_SERVER or the PATH (then /usr/bin), or undefined when there is none. */
export function findRedisServer(): string | undefined {
  const candidates = [
    process.env.REDIS_SERVER,
    ...(process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, "redis-server")),
    "/usr/bin/redis-server",
  ];
  for (const candidate of candidates) {
    if (candidate === undefined || candidate === "" || candidate === "redis-server") continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

async function startRedis(bin: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  killOnExit(child);
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (code ${code}):\n${out}`));
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { child, port };
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** What the Redis baseline measured. */
export interface RedisTopFigures {
  version: string;
  members: number;
  replyBytes: number;
  loop: LoopResult;
}

/**
 * ZREVRANGE 0 99 WITHSCORES on a sorted set of `members`, `concurrency` in
 * flight for `seconds`; undefined (and says why) when redis-server is missing.
 */
export async function redisTopFigures(
  members: string[],
  concurrency: number,
  seconds: number,
  say: (line: string) => void,
): Promise<RedisTopFigures | undefined> {
  const bin = findRedisServer();
  if (bin === undefined) {
    say("redis-server not found (set REDIS_SERVER or install it): the Redis row is skipped");
    return undefined;
  }
  const { child, port } = await startRedis(bin);
  const redis = new Redis({ host: "127.0.0.1", port, enableAutoPipelining: true, lazyConnect: true });
  try {
    await redis.connect();
    const info = await redis.info("server");
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown";
    say(`Redis ${version}: filling a sorted set of ${members.length.toLocaleString("en-US")} members…`);
    const next = uniform(7);
    for (let i = 0; i < members.length; i += 1000) {
      const args: Array<string | number> = [];
      for (const member of members.slice(i, i + 1000)) args.push((next() - 0.3) * 4, member);
      await redis.zadd(KEY, ...args);
    }
    const size = await redis.zcard(KEY);
    if (size !== members.length) throw new Error(`the sorted set holds ${size} of ${members.length} members`);
    const sample = await redis.zrevrangeBuffer(KEY, 0, 99, "WITHSCORES");
    const replyBytes = sample.reduce((n, b) => n + b.length, 0);
    say(`Redis ZREVRANGE 0 99 WITHSCORES, ${concurrency} in flight…`);
    const loop = await closedLoop(concurrency, seconds, () => redis.zrevrange(KEY, 0, 99, "WITHSCORES"));
    return { version, members: size, replyBytes, loop };
  } finally {
    redis.disconnect();
    await stopRedis(child);
  }
}
