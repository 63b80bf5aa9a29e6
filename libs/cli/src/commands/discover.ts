/**
 * Discovery from the command line: `stratreg discover` starts a run (or
 * resumes one) and follows it with a progress bar to its end, then lists the
 * candidates it found; `discover stop` and `discover status` stop and watch
 * runs; `stratreg candidates` lists candidates and `candidates show` prints
 * one's validation report; `stratreg scan` prints the scanner's findings.
 */
import { DiscoveryLimits, NotFoundError, type RunProgress, type RunRequest } from "@stratreg/client";
import { RunOutcomes } from "@stratreg/protocol";
import { Command } from "commander";
import { withDiscovery } from "../discovery/connection.js";
import { type DiscoveryExitCode, DiscoveryExitCodes, explainDiscoveryError } from "../discovery/errors.js";
import { startAndFollow } from "../discovery/follow.js";
import { parseBudget, parseSymbols } from "../discovery/options.js";
import { liveProgress } from "../discovery/progress.js";
import { candidateReportLines, candidateTableLines } from "../discovery/report.js";
import { formatSpan, resumeCommand, runEndReport, scanLines, statusLines } from "../discovery/text.js";
import { formatError } from "../errors.js";
import { type GlobalOptions, globalsOf, integerAtLeast } from "../options.js";
import { printJson, printLine, warn } from "../output.js";

/** How long a stop may take when `--timeout` is left at its default: the run stops after the step in flight. */
export const DEFAULT_STOP_TIMEOUT_MS = 30_000;

/** Options of `stratreg discover`. */
export interface DiscoverOptions {
  symbols?: string[];
  budget?: number;
  seed?: number;
  population?: number;
  generations?: number;
  /** False with `--no-synthesis`. */
  synthesis: boolean;
  resume?: string;
  detach: boolean;
}

/** The run request the options ask for (only what was given: discovery has a default for every field). */
export function runRequestOf(options: DiscoverOptions): RunRequest {
  const request: RunRequest = {};
  if (options.symbols !== undefined) request.symbols = options.symbols;
  if (options.budget !== undefined) request.budgetMs = options.budget;
  if (options.seed !== undefined) request.seed = options.seed;
  if (options.population !== undefined) request.population = options.population;
  if (options.generations !== undefined) request.generations = options.generations;
  if (!options.synthesis) request.synthesis = false;
  if (options.resume !== undefined) request.resume = options.resume;
  return request;
}

/** The exit code of a run's outcome: 0 completed, 3 stopped or halted (resumable), 1 failed. */
export function exitCodeOf(outcome: RunProgress["outcome"]): DiscoveryExitCode {
  if (outcome === RunOutcomes.Completed) return DiscoveryExitCodes.Ok;
  if (outcome === RunOutcomes.Stopped || outcome === RunOutcomes.Halted) return DiscoveryExitCodes.RunUnfinished;
  return DiscoveryExitCodes.Failed;
}

/** `--timeout` as a stop's deadline: left at its default, the stop gets {@link DEFAULT_STOP_TIMEOUT_MS}. */
function stopTimeoutOf(command: Command, globals: GlobalOptions): number {
  const explicit = command.getOptionValueSourceWithGlobals("timeout") !== "default";
  return explicit ? globals.timeout : Math.max(globals.timeout, DEFAULT_STOP_TIMEOUT_MS);
}

/** Starts a run; unless detached, follows it to its end and prints the candidates it found. */
export async function runDiscover(
  options: DiscoverOptions,
  globals: GlobalOptions,
  stopTimeoutMs: number,
): Promise<DiscoveryExitCode> {
  const request = runRequestOf(options);
  if (options.detach) {
    const started = await withDiscovery(globals, (discovery) => discovery.run(request));
    if (globals.json) printJson(started);
    else {
      printLine(`run ${started.runId} started (budget ${formatSpan(started.budgetMs)})`);
      printLine(`watch it with \`stratreg discover status\`; stop it with \`stratreg discover stop ${started.runId}\``);
    }
    return DiscoveryExitCodes.Ok;
  }
  const context = { cluster: globals.cluster, nats: globals.nats, timeoutMs: stopTimeoutMs };
  return withDiscovery(globals, async (discovery) => {
    const display = liveProgress(process.stderr);
    let followed: Awaited<ReturnType<typeof startAndFollow>>;
    try {
      followed = await startAndFollow(discovery, request, {
        display,
        stopTimeoutMs,
        onStarted: (started) => {
          const resumed = options.resume === undefined ? "started" : "resumed";
          display.notice(
            `run ${started.runId} ${resumed} (budget ${formatSpan(started.budgetMs)}); Ctrl-C stops it, keeping its checkpoint`,
          );
        },
      });
    } finally {
      display.stop();
    }
    const { final } = followed;
    if (followed.stopError !== undefined) {
      warn(formatError(explainDiscoveryError(followed.stopError, context)));
      warn(`run ${final.runId} goes on: stop it with \`stratreg discover stop ${final.runId}\``);
      return DiscoveryExitCodes.Failed;
    }
    const candidates =
      final.candidates > 0 || final.outcome !== RunOutcomes.Failed
        ? await discovery.candidates({ runId: final.runId, limit: DiscoveryLimits.candidatesMax }).then(
            (reply) => reply.candidates,
            (err: unknown) => {
              warn(`warning: could not list the run's candidates: ${formatError(err)}`);
              return undefined;
            },
          )
        : [];
    const report = runEndReport(final);
    if (globals.json) printJson({ run: final, candidates: candidates ?? null });
    else {
      for (const line of report.lines) printLine(line);
      if (candidates !== undefined && candidates.length > 0) {
        printLine();
        for (const line of candidateTableLines(candidates)) printLine(line);
      }
    }
    for (const line of report.warnings) warn(line);
    return exitCodeOf(final.outcome);
  });
}

/** Stops the run in progress (or the one named) and prints how it ended. */
export async function runDiscoverStop(
  runId: string | undefined,
  globals: GlobalOptions,
  stopTimeoutMs: number,
): Promise<DiscoveryExitCode> {
  const stopped = await withDiscovery(globals, (discovery) => discovery.stop(runId, { timeoutMs: stopTimeoutMs }));
  if (globals.json) printJson(stopped);
  else if (stopped === null) printLine("no run in progress: nothing to stop");
  else for (const line of runEndReport(stopped).lines) printLine(line);
  return DiscoveryExitCodes.Ok;
}

/** Prints the loop's state, the trading state, the run in progress and the latest runs. */
export async function runDiscoverStatus(globals: GlobalOptions): Promise<DiscoveryExitCode> {
  const status = await withDiscovery(globals, (discovery) => discovery.status());
  if (globals.json) printJson(status);
  else for (const line of statusLines(status)) printLine(line);
  return DiscoveryExitCodes.Ok;
}

/** Options of `stratreg candidates`. */
export interface CandidatesOptions {
  run?: string;
  limit: number;
}

/** Lists the latest candidates (of one run with `--run`). */
export async function runCandidates(options: CandidatesOptions, globals: GlobalOptions): Promise<DiscoveryExitCode> {
  const reply = await withDiscovery(globals, (discovery) =>
    discovery.candidates({ limit: options.limit, ...(options.run === undefined ? {} : { runId: options.run }) }),
  );
  if (globals.json) printJson(reply);
  else for (const line of candidateTableLines(reply.candidates)) printLine(line);
  return DiscoveryExitCodes.Ok;
}

/** Prints one candidate's validation report. */
export async function runCandidateShow(id: string, globals: GlobalOptions): Promise<DiscoveryExitCode> {
  const reply = await withDiscovery(globals, (discovery) =>
    discovery.candidates({ limit: DiscoveryLimits.candidatesMax }),
  );
  const candidate = reply.candidates.find((c) => c.id === id);
  if (candidate === undefined) {
    throw new NotFoundError(
      `no candidate ${id} among the latest ${reply.candidates.length} discovery keeps (see \`stratreg candidates\`; a discovered strategy is also in the registry: \`stratreg get ${id}\`)`,
    );
  }
  if (globals.json) printJson(candidate);
  else for (const line of candidateReportLines(candidate)) printLine(line);
  return DiscoveryExitCodes.Ok;
}

/** Prints the scanner's latest findings. */
export async function runScan(globals: GlobalOptions): Promise<DiscoveryExitCode> {
  const scan = await withDiscovery(globals, (discovery) => discovery.scan());
  if (globals.json) printJson(scan);
  else for (const line of scanLines(scan)) printLine(line);
  return DiscoveryExitCodes.Ok;
}

/** The `discover` command, with `discover stop` and `discover status`. */
export function discoverCommand(): Command {
  const stop = new Command("stop")
    .description(
      "operators: stop the run in progress (or RUN), keeping its checkpoint; --timeout defaults to 30000 here",
    )
    .argument("[run]", "the run to stop (default: the one in progress)")
    .action(async (runId: string | undefined, _options: unknown, command: Command) => {
      const globals = globalsOf(command);
      process.exitCode = await runDiscoverStop(runId, globals, stopTimeoutOf(command, globals));
    });
  const status = new Command("status")
    .description("discovery's state, the trading state, the run in progress and the latest runs")
    .action(async (_options: unknown, command: Command) => {
      process.exitCode = await runDiscoverStatus(globalsOf(command));
    });
  return new Command("discover")
    .description(
      `operators: mine the market data for patterns; follows the run to its end, then lists its candidates (exit 0 completed, 3 stopped or halted: resume with \`${resumeCommand("<run>")}\`, 1 failed)`,
    )
    .option("--symbols <list>", "symbols to trade, comma-separated (default: every symbol held)", parseSymbols)
    .option("--budget <duration>", "wall-clock budget of the run: 90s, 10m, 1h or ms (default 60s)", parseBudget)
    .option("--seed <n>", "seed of the search (default: from the run id)", integerAtLeast(0))
    .option("--population <n>", "individuals per generation (default 200)", integerAtLeast(1))
    .option("--generations <n>", "most generations per traded series (default 12)", integerAtLeast(1))
    .option("--no-synthesis", "do not combine registered discovered strategies")
    .option("--resume <run>", "resume this stopped or halted run from its checkpoint")
    .option("--detach", "start the run and return at once", false)
    .action(async (options: DiscoverOptions, command: Command) => {
      const globals = globalsOf(command);
      process.exitCode = await runDiscover(options, globals, stopTimeoutOf(command, globals));
    })
    .addCommand(stop)
    .addCommand(status);
}

/** The `candidates` command, with `candidates show`. */
export function candidatesCommand(): Command {
  const show = new Command("show")
    .description(
      "a candidate's validation report: every check with value, threshold and verdict; Sharpe by regime; estimate; capacity",
    )
    .argument("<id>", "the candidate's id (its strategy id)")
    .action(async (id: string, _options: unknown, command: Command) => {
      process.exitCode = await runCandidateShow(id, globalsOf(command));
    });
  return new Command("candidates")
    .description(
      "the latest candidates discovery registered, newest first: target, test Sharpe and its interval, expression",
    )
    .option("--run <run>", "only those of this run")
    .option("--limit <n>", `how many (at most ${DiscoveryLimits.candidatesMax})`, integerAtLeast(1), 20)
    .action(async (options: CandidatesOptions, command: Command) => {
      process.exitCode = await runCandidates(options, globalsOf(command));
    })
    .addCommand(show);
}

/** The `scan` command. */
export function scanCommand(): Command {
  return new Command("scan")
    .description("the market scanner's latest findings: regimes, lead-lag, weekday effects, anomalies")
    .action(async (_options: unknown, command: Command) => {
      process.exitCode = await runScan(globalsOf(command));
    });
}
