/**
 * The process entry every stratreg service shares: read the config (a bad
 * setting exits 2 with one line on stderr), log JSON lines with pino, start,
 * stop gracefully on SIGTERM or SIGINT (a second signal exits at once), and
 * exit when the service stops from inside (a drain request).
 */
import { type Logger, pino } from "pino";

/** Exit code when a service cannot start (bad config, cluster refused). */
export const EXIT_CONFIG = 2;

/** What a running service offers its process entry. */
export interface RunningService {
  /** Stops gracefully (hands work over, disconnects). */
  stop(): Promise<void>;
  /** Resolves when the service stopped by itself; the process then exits. */
  stopped?(): Promise<void>;
  /** The exit code once stopped (0 unless the service says otherwise). */
  readonly exitCode?: number;
}

/** How to run one service as a process. */
export interface ServiceEntry<C extends { logLevel: string }, S extends RunningService> {
  /** The command's name, for messages on stderr (`stratreg-shard`). */
  command: string;
  /** The `service` field of every log line (`registry-shard`). */
  service: string;
  /** Reads the config; throws an Error naming the bad setting. */
  loadConfig(): C;
  start(config: C, logger: Logger): Promise<S>;
}

/** Runs `entry` as this process. */
export async function runService<C extends { logLevel: string }, S extends RunningService>(
  entry: ServiceEntry<C, S>,
): Promise<void> {
  let config: C;
  try {
    config = entry.loadConfig();
  } catch (err) {
    process.stderr.write(`${entry.command}: ${(err as Error).message}\n`);
    process.exit(EXIT_CONFIG);
  }
  const logger = pino({ level: config.logLevel, base: { service: entry.service } });
  process.on("uncaughtException", (err) => {
    logger.fatal({ err }, "uncaught exception");
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => {
    logger.error({ err }, "unhandled rejection");
  });
  let running: S;
  try {
    running = await entry.start(config, logger);
  } catch (err) {
    logger.fatal({ err }, `${entry.service} could not start: ${(err as Error).message}`);
    process.exit(EXIT_CONFIG);
  }
  let signals = 0;
  const shutdown = (signal: string) => {
    signals++;
    if (signals > 1) process.exit(1);
    logger.info({ signal }, "stopping");
    running.stop().then(
      () => process.exit(running.exitCode ?? 0),
      (err: unknown) => {
        logger.error({ err }, "unclean stop");
        process.exit(1);
      },
    );
  };
  void running.stopped?.().then(() => process.exit(running.exitCode ?? 0));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}
