#!/usr/bin/env node
/**
 * Process entry of a ranker:
 *   node services/ranker/dist/main.js [--nats URL] [--cluster NAME] [--id MEMBER] [--log-level LEVEL]
 * Configured by env (NATS_URL, STRATREG_CLUSTER, STRATREG_RANKER_ID, …; see README.md).
 */
import { pino } from "pino";
import { loadConfig, type RankerConfig } from "./config.js";
import { Ranker } from "./ranker.js";

const EXIT_CONFIG = 2;

async function main(): Promise<void> {
  let config: RankerConfig;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`stratreg-ranker: ${(err as Error).message}\n`);
    process.exit(EXIT_CONFIG);
  }
  const logger = pino({ level: config.logLevel, base: { service: "ranker" } });
  process.on("uncaughtException", (err) => {
    logger.fatal({ err }, "uncaught exception");
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => {
    logger.error({ err }, "unhandled rejection");
  });
  let ranker: Ranker;
  try {
    ranker = await Ranker.start(config, logger);
  } catch (err) {
    logger.fatal({ err }, `ranker could not start: ${(err as Error).message}`);
    process.exit(EXIT_CONFIG);
  }
  let signals = 0;
  const shutdown = (signal: string) => {
    signals++;
    if (signals > 1) process.exit(1);
    logger.info({ signal }, "stopping");
    ranker.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "unclean stop");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

void main();
