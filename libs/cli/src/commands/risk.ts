/**
 * The risk guard from the command line: `stratreg halt`, `reduce` and `resume`
 * move the trading state (operators only) and report which followers
 * acknowledged it; `stratreg risk` shows exposures against limits, P&L, VaR and
 * ES; `stratreg limits` shows the limits and their audit trail, and
 * `stratreg limits set` replaces them. The guard needs no registry: only a NATS
 * connection and the cluster name.
 */
import { RiskClient } from "@stratreg/client";
import { ErrorCodes, StratregError, type TradingCommand, type TradingCommandReply } from "@stratreg/protocol";
import { Command } from "commander";
import { withNats } from "../connection.js";
import { type GlobalOptions, globalsOf, integerAtLeast } from "../options.js";
import { printJson, printLine, warn } from "../output.js";
import { explainGuardError, nobodyListens, type RiskExitCode, RiskExitCodes } from "../risk/errors.js";
import { commandReport, exposureLines, limitsDiff, limitsReplyLines, type TradingOperation } from "../risk/format.js";
import { readLimitsFile } from "../risk/limits-file.js";
import { commandAttemptMs, operatorName } from "../risk/operator.js";

/** Runs `work` with a risk client of the cluster; the guard's failures come out explained. */
async function withRisk<T>(
  globals: GlobalOptions,
  work: (risk: RiskClient) => Promise<T>,
  attemptTimeoutMs?: number,
): Promise<T> {
  const context = { cluster: globals.cluster, nats: globals.nats, timeoutMs: globals.timeout };
  return withNats(globals, async (nc) => {
    const risk = new RiskClient(nc, {
      cluster: globals.cluster,
      timeoutMs: globals.timeout,
      ...(attemptTimeoutMs === undefined ? {} : { retry: { attemptTimeoutMs } }),
    });
    try {
      return await work(risk);
    } catch (err) {
      // After a timeout, ask once more whether anybody listens at all, to say which it was.
      const timedOut = err instanceof StratregError && err.code === ErrorCodes.Timeout;
      const noResponders = timedOut && (await nobodyListens(nc, risk.subjects));
      throw explainGuardError(err, { ...context, noResponders });
    }
  });
}

/** Options of halt, reduce and resume. */
export interface TradingCommandOptions {
  reason?: string;
  by?: string;
}

/**
 * Sends halt, reduce or resume and prints the state, who acknowledged it and
 * how fast; exit 3 (NotAcknowledged) when a follower did not, after naming it on stderr.
 */
export async function runTradingCommand(
  op: TradingOperation,
  options: TradingCommandOptions,
  globals: GlobalOptions,
): Promise<RiskExitCode> {
  const command: TradingCommand = { by: operatorName(options.by) };
  if (options.reason !== undefined) command.reason = options.reason;
  const reply = await withRisk<TradingCommandReply>(
    globals,
    (risk) => risk[op](command),
    commandAttemptMs(globals.timeout),
  );
  const report = commandReport(op, command, reply, Date.now());
  if (globals.json) printJson(reply);
  else for (const line of report.lines) printLine(line);
  for (const line of report.warnings) warn(line);
  return reply.missing.length > 0 ? RiskExitCodes.NotAcknowledged : RiskExitCodes.Ok;
}

/** Options of `stratreg risk`. */
export interface RiskOptions {
  strategy?: string;
  top: number;
}

/** Prints the trading state, the exposures against limits, P&L, VaR and ES. */
export async function runRisk(options: RiskOptions, globals: GlobalOptions): Promise<RiskExitCode> {
  const reply = await withRisk(globals, (risk) =>
    risk.exposure(options.strategy === undefined ? {} : { strategy: options.strategy }),
  );
  if (globals.json) printJson(reply);
  else for (const line of exposureLines(reply, Date.now(), options.top)) printLine(line);
  return RiskExitCodes.Ok;
}

/** Prints the limits in force and the latest `audit` changes. */
export async function runLimits(options: { audit: number }, globals: GlobalOptions): Promise<RiskExitCode> {
  const reply = await withRisk(globals, (risk) => risk.limits(options.audit));
  if (globals.json) printJson(reply);
  else for (const line of limitsReplyLines(reply)) printLine(line);
  return RiskExitCodes.Ok;
}

/** Options of `stratreg limits set`. */
export interface SetLimitsOptions {
  file: string;
  expectVersion?: number;
  note?: string;
  by?: string;
}

/** Reads and checks the limits file, sends it, and prints the new version and what changed. */
export async function runSetLimits(options: SetLimitsOptions, globals: GlobalOptions): Promise<RiskExitCode> {
  const limits = await readLimitsFile(options.file);
  const by = operatorName(options.by);
  const reply = await withRisk(globals, (risk) =>
    risk.setLimits({
      limits,
      by,
      ...(options.expectVersion === undefined ? {} : { expectedVersion: options.expectVersion }),
      ...(options.note === undefined ? {} : { note: options.note }),
    }),
  );
  if (globals.json) {
    printJson(reply);
    return RiskExitCodes.Ok;
  }
  const change = reply.audit.find((c) => c.version === reply.version);
  printLine(`limits set: version ${reply.version} by ${change?.by ?? by}${change?.note ? `: ${change.note}` : ""}`);
  if (change !== undefined) {
    const diff = limitsDiff(change.previous, change.limits);
    if (diff.length === 0) printLine("  (the same limits as the version before)");
    for (const line of diff) printLine(`  ${line}`);
  }
  return RiskExitCodes.Ok;
}

const byOption = "operator name recorded by the guard (default: $STRATREG_OPERATOR, else your user name)";

function tradingCommand(op: TradingOperation, description: string, reasonRequired: boolean): Command {
  const command = new Command(op).description(description);
  if (reasonRequired) command.requiredOption("--reason <text>", "why (recorded and broadcast with the state)");
  else command.option("--reason <text>", "why (recorded and broadcast with the state)");
  return command.option("--by <name>", byOption).action(async (options: TradingCommandOptions, cmd: Command) => {
    process.exitCode = await runTradingCommand(op, options, globalsOf(cmd));
  });
}

/** The `halt` command. */
export function haltCommand(): Command {
  return tradingCommand(
    "halt",
    "operators: emergency halt, nothing but cancels pass (exit 3 if a follower did not acknowledge it)",
    true,
  );
}

/** The `reduce` command. */
export function reduceCommand(): Command {
  return tradingCommand(
    "reduce",
    "operators: only position-reducing orders pass (exit 3 if a follower did not acknowledge it)",
    true,
  );
}

/** The `resume` command. */
export function resumeCommand(): Command {
  return tradingCommand(
    "resume",
    "operators: trading back to ACTIVE; the guard may want a second operator to confirm (exit 3 if a follower did not acknowledge it)",
    false,
  );
}

/** The `risk` command. */
export function riskCommand(): Command {
  return new Command("risk")
    .description("the trading state, exposures against limits, P&L, VaR and ES, from the risk guard")
    .option("--strategy <id>", "only this strategy's exposure and limits")
    .option("--top <n>", "how many contributions to VaR to list", integerAtLeast(0), 5)
    .action(async (options: RiskOptions, command: Command) => {
      process.exitCode = await runRisk(options, globalsOf(command));
    });
}

/** The `limits` command, and `limits set`. */
export function limitsCommand(): Command {
  const set = new Command("set")
    .description("operators: replace the limits with those in a JSON file (checked before it is sent)")
    .requiredOption("--file <limits.json>", "the limits, a JSON object as in RiskLimits ('-': stdin)")
    .option(
      "--expect-version <n>",
      "refuse unless the limits are still at this version (see `stratreg limits`)",
      integerAtLeast(0),
    )
    .option("--note <text>", "why, kept in the audit trail")
    .option("--by <name>", byOption)
    .action(async (options: SetLimitsOptions, command: Command) => {
      process.exitCode = await runSetLimits(options, globalsOf(command));
    });
  return new Command("limits")
    .description("the risk limits in force, with the audit trail of changes; `limits set` replaces them")
    .option("--audit <n>", "how many changes to list, newest first", integerAtLeast(0), 10)
    .action(async (options: { audit: number }, command: Command) => {
      process.exitCode = await runLimits(options, globalsOf(command));
    })
    .addCommand(set);
}

/** Every risk command, in the order `--help` lists them. */
export function riskCommands(): Command[] {
  return [riskCommand(), limitsCommand(), haltCommand(), reduceCommand(), resumeCommand()];
}
