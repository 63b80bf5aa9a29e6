#!/usr/bin/env node
/**
 * Process entry of a registry shard:
 *   node services/registry-shard/dist/main.js [--nats URL] [--cluster NAME] [--id MEMBER] [--partitions P] [--replicas R]
 * Configured by env (NATS_URL, STRATREG_CLUSTER, STRATREG_MEMBER_ID, …; see README.md).
 */
import { pino } from "pino";
import { loadConfig } from "./config.js";
import { Shard } from "./shard.js";

const EXIT_CONFIG = 2;

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`stratreg-shard: ${(err as Error).message}\n`);
    process.exit(EXIT_CONFIG);
  }
  const logger = pino({ level: config.logLevel, base: { service: "registry-shard" } });
  process.on("uncaughtException", (err) => {
    logger.fatal({ err }, "uncaught exception");
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => {
    logger.error({ err }, "unhandled rejection");
  });
  let shard: Shard;
  try {
    shard = await Shard.start(config, logger);
  } catch (err) {
    logger.fatal({ err }, `shard could not start: ${(err as Error).message}`);
    process.exit(EXIT_CONFIG);
  }
  let signals = 0;
  const shutdown = (signal: string) => {
    signals++;
    if (signals > 1) process.exit(1);
    logger.info({ signal }, "stopping");
    shard.stop().then(
      () => process.exit(shard.exitCode),
      (err: unknown) => {
        logger.error({ err }, "unclean stop");
        process.exit(1);
      },
    );
  };
  // An operator's drain request stops the shard from inside: exit once everything is handed off.
  void shard.stopped().then(() => process.exit(shard.exitCode));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

void main();
