/**
 * The lifecycle from the command line: `move <action> <id>` (backtest, validate,
 * activate, suspend, resume, retire); `evidence attach|show`; the gates' dry run
 * `gates <id>`; a strategy's moves, `lifecycle <id>`; and the gate thresholds,
 * `thresholds show|set`.
 */
import {
  type BacktestEvidenceInput,
  ErrorCodes,
  type GateScope,
  type GatesReply,
  type GateThresholdsInput,
  StratregError,
  type TransitionAction,
  TransitionActions,
} from "@stratreg/protocol";
import { Argument, Command, Option } from "commander";
import { withClient } from "../connection.js";
import { CliError, type ExitCode, ExitCodes } from "../errors.js";
import { readText } from "../input.js";
import { gateLines, historyLines, thresholdLines } from "../lifecycle-text.js";
import { type GlobalOptions, globalsOf, integerAtLeast } from "../options.js";
import { printJson, printJsonLine, printLine, warn } from "../output.js";
import { operatorName } from "../risk/operator.js";
import { strategyLines } from "../strategy-text.js";

/** What a move asks for besides the strategy. */
export interface MoveOptions {
  reason: string;
  by?: string;
  expectedVersion?: number;
  /** Retire a strategy others depend on, suspending them too. */
  cascade?: boolean;
}

/** Prints the gate table of a GATES_FAILED refusal before it is reported as the command's error. */
function showRefusal(err: unknown, options: GlobalOptions): never {
  if (err instanceof StratregError && err.code === ErrorCodes.GatesFailed && err.details !== undefined) {
    const reply = err.details as unknown as GatesReply;
    if (options.json) printJsonLine(reply);
    else for (const line of gateLines(reply)) printLine(line);
  }
  throw err;
}

/** Moves `id` by `action`; prints the strategy after the move. */
export async function runMove(
  id: string,
  action: TransitionAction,
  options: MoveOptions,
  globals: GlobalOptions,
): Promise<ExitCode> {
  const by = operatorName(options.by);
  const cascades = action === TransitionActions.Suspend || action === TransitionActions.Retire;
  if (cascades && options.cascade === true) return runCascade(id, action, by, options.reason, globals);
  const strategy = await withClient(globals, (client) =>
    client.transition(id, action, {
      by,
      reason: options.reason,
      ...(options.expectedVersion === undefined ? {} : { expectedVersion: options.expectedVersion }),
    }),
  ).catch((err: unknown) => {
    // Suspending a strategy suspends what depends on it: that is a cascade, done by the graph service.
    if (action === TransitionActions.Suspend && isCode(err, ErrorCodes.HasDependents)) return undefined;
    if (action === TransitionActions.Retire && isCode(err, ErrorCodes.HasDependents) && !globals.json) {
      const dependents = ((err as StratregError).details?.dependents as string[] | undefined) ?? [];
      warn(`${id} has ${dependents.length} dependent${dependents.length === 1 ? "" : "s"}: ${dependents.join(", ")}`);
      warn("retire it with --cascade, which suspends them too");
    }
    return showRefusal(err, globals);
  });
  if (strategy === undefined) return runCascade(id, TransitionActions.Suspend, by, options.reason, globals);
  if (globals.json) printJsonLine(strategy);
  else for (const line of strategyLines(strategy)) printLine(line);
  return ExitCodes.Ok;
}

const isCode = (err: unknown, code: string) => err instanceof StratregError && err.code === code;

/** Suspends or retires `id` and suspends everything that depends on it, through the graph service. */
async function runCascade(
  id: string,
  action: typeof TransitionActions.Suspend | typeof TransitionActions.Retire,
  by: string,
  reason: string,
  globals: GlobalOptions,
): Promise<ExitCode> {
  const reply = await withClient(globals, (client) => client.cascade(id, action, { by, reason }));
  if (globals.json) {
    printJsonLine(reply);
    return ExitCodes.Ok;
  }
  printLine(`${id}: ${action === TransitionActions.Retire ? "retired" : "suspended"} (cascade ${reply.seq})`);
  for (const node of reply.suspended) printLine(`  suspended ${node.id} (depends on it at depth ${node.depth})`);
  for (const node of reply.skipped) printLine(`  left ${node.id}: ${node.state}`);
  printLine("resuming is explicit: stratreg move resume <id>");
  return ExitCodes.Ok;
}

const MOVES = [
  `${TransitionActions.Backtest}: start backtesting a candidate`,
  `${TransitionActions.Validate}: a strategy in backtesting whose evidence passes every gate`,
  `${TransitionActions.Activate}: a validated strategy into live trading (every gate again; trading not halted)`,
  `${TransitionActions.Suspend}: an active strategy out of live trading`,
  `${TransitionActions.Resume}: a suspended strategy back into live trading (trading not halted)`,
  `${TransitionActions.Retire}: any strategy, for good`,
];

/** `stratreg move <action> <id> --reason <text>`: one lifecycle move. */
export function moveCommand(): Command {
  return new Command("move")
    .description(
      `move a strategy through its lifecycle and print it (a refusal by the gates prints every gate):\n  ${MOVES.join("\n  ")}`,
    )
    .addArgument(new Argument("<action>", "the move").choices(Object.values(TransitionActions)))
    .argument("<id>", "strategy id")
    .requiredOption("--reason <text>", "why (kept in the strategy's history)")
    .option("--by <name>", "who is asking (default: $STRATREG_OPERATOR, else your user name)")
    .option("--expected-version <n>", "only if the strategy is at this version", integerAtLeast(1))
    .option(
      "--cascade",
      "suspend or retire a strategy others depend on, suspending them too (suspend does so by itself; retire needs this)",
    )
    .action(async (action: TransitionAction, id: string, options: MoveOptions, command: Command) => {
      process.exitCode = await runMove(id, action, options, globalsOf(command));
    });
}

/** Attaches the evidence in `file` (JSON, `-` for stdin) to `id`. */
export async function runAttachEvidence(
  id: string,
  file: string,
  options: { by?: string },
  globals: GlobalOptions,
): Promise<ExitCode> {
  let evidence: unknown;
  try {
    evidence = JSON.parse(await readText(file));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${file} is not JSON: ${(err as Error).message}`);
  }
  const by = operatorName(options.by);
  const strategy = await withClient(globals, (client) =>
    client.attachEvidence(id, evidence as BacktestEvidenceInput, { by }),
  );
  if (globals.json) {
    printJsonLine(strategy);
    return ExitCodes.Ok;
  }
  printLine(`${strategy.id} v${strategy.version}: ${strategy.state}`);
  const summary = (strategy.lifecycle?.context.evidence as { summary?: Record<string, unknown> } | undefined)?.summary;
  if (summary !== undefined) {
    printLine(
      `evidence: ${summary.periods} returns, ${summary.trades} trades, Sharpe ${Number(summary.sharpe).toFixed(3)}, max drawdown ${Number(summary.maxDrawdown).toFixed(4)}`,
    );
  }
  return ExitCodes.Ok;
}

/** Prints the evidence last attached to `id`, as it was sent (JSON). */
export async function runShowEvidence(id: string, globals: GlobalOptions): Promise<ExitCode> {
  const kept = await withClient(globals, (client) => client.evidence(id));
  if (globals.json) printJsonLine(kept);
  else printJson(kept);
  return ExitCodes.Ok;
}

/** `stratreg evidence attach <id> <file>` and `stratreg evidence show <id>`. */
export function evidenceCommand(): Command {
  const attach = new Command("attach")
    .description("attach backtest evidence (a JSON file, - for stdin; see docs/protocol.md, The lifecycle)")
    .argument("<id>", "strategy id")
    .argument("<file>", "evidence JSON")
    .option("--by <name>", "who attaches it (default: $STRATREG_OPERATOR, else your user name)")
    .action(async (id: string, file: string, options: { by?: string }, command: Command) => {
      process.exitCode = await runAttachEvidence(id, file, options, globalsOf(command));
    });
  const show = new Command("show")
    .description("print the evidence last attached to a strategy, as it was sent")
    .argument("<id>", "strategy id")
    .action(async (id: string, _options: unknown, command: Command) => {
      process.exitCode = await runShowEvidence(id, globalsOf(command));
    });
  return new Command("evidence").description("attach or show backtest evidence").addCommand(attach).addCommand(show);
}

/** The gates' dry run for `id`: exit 0 when every gate passes, 1 when one fails. */
export async function runGates(id: string, globals: GlobalOptions): Promise<ExitCode> {
  const reply = await withClient(globals, (client) => client.gates(id));
  if (globals.json) printJsonLine(reply);
  else for (const line of gateLines(reply)) printLine(line);
  return reply.passed ? ExitCodes.Ok : ExitCodes.Failed;
}

/** `stratreg gates <id>`. */
export function gatesCommand(): Command {
  return new Command("gates")
    .description("dry run of the quality gates: every gate with its value, threshold and verdict (exit 1 if one fails)")
    .argument("<id>", "strategy id")
    .action(async (id: string, _options: unknown, command: Command) => {
      process.exitCode = await runGates(id, globalsOf(command));
    });
}

/** `stratreg lifecycle <id>`: state, phase and the moves kept in the strategy's history. */
export async function runLifecycle(id: string, globals: GlobalOptions): Promise<ExitCode> {
  const strategy = await withClient(globals, (client) => client.get(id));
  if (globals.json) printJsonLine(strategy.lifecycle ?? { value: strategy.state, context: {} });
  else for (const line of historyLines(strategy)) printLine(line);
  return ExitCodes.Ok;
}

export function lifecycleCommand(): Command {
  return new Command("lifecycle")
    .description("a strategy's lifecycle state and its moves: when, what, from, to, by whom and why")
    .argument("<id>", "strategy id")
    .action(async (id: string, _options: unknown, command: Command) => {
      process.exitCode = await runLifecycle(id, globalsOf(command));
    });
}

/** Options naming a thresholds scope. */
export interface ScopeOptions {
  family?: string;
  template?: string;
}

function scopeOf(options: ScopeOptions): GateScope {
  if (options.family !== undefined && options.template !== undefined) {
    throw new CliError("name one scope: --family or --template, not both");
  }
  if (options.family !== undefined) return { family: options.family };
  if (options.template !== undefined) return { template: options.template };
  return {};
}

/** `name=value` pairs as thresholds (numbers; the server checks names and ranges). */
export function parseThresholds(pairs: string[]): GateThresholdsInput {
  if (pairs.length === 0) throw new CliError("give at least one threshold, e.g. minSharpe=1.5");
  const out: Record<string, number> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    const name = pair.slice(0, at);
    const value = Number(pair.slice(at + 1));
    if (at <= 0 || pair.slice(at + 1) === "" || !Number.isFinite(value)) {
      throw new CliError(`${JSON.stringify(pair)} is not name=number`);
    }
    out[name] = value;
  }
  return out as GateThresholdsInput;
}

export async function runShowThresholds(options: ScopeOptions, globals: GlobalOptions): Promise<ExitCode> {
  const reply = await withClient(globals, (client) => client.gateThresholds(scopeOf(options)));
  if (globals.json) printJsonLine(reply);
  else for (const line of thresholdLines(reply)) printLine(line);
  return ExitCodes.Ok;
}

export async function runSetThresholds(
  pairs: string[],
  options: ScopeOptions & { by?: string; note?: string; expectedRevision?: number },
  globals: GlobalOptions,
): Promise<ExitCode> {
  const scope = scopeOf(options);
  const thresholds = parseThresholds(pairs);
  const by = operatorName(options.by);
  const reply = await withClient(globals, (client) =>
    client.setGateThresholds(scope, thresholds, {
      by,
      ...(options.note === undefined ? {} : { note: options.note }),
      ...(options.expectedRevision === undefined ? {} : { expectedRevision: options.expectedRevision }),
    }),
  );
  if (globals.json) printJsonLine(reply);
  else {
    for (const line of thresholdLines(reply)) printLine(line);
    warn("the new thresholds apply from the next evaluation; strategies already active stay active");
  }
  return ExitCodes.Ok;
}

/** `stratreg thresholds show|set [--family f | --template t]`. */
export function thresholdsCommand(): Command {
  const scoped = (command: Command) =>
    command
      .addOption(new Option("--family <family>", "a family's thresholds").conflicts("template"))
      .addOption(new Option("--template <template>", "a template's thresholds"));
  const show = scoped(
    new Command("show").description("the gate thresholds in force for a scope (default: every strategy)"),
  ).action(async (options: ScopeOptions, command: Command) => {
    process.exitCode = await runShowThresholds(options, globalsOf(command));
  });
  const set = scoped(
    new Command("set")
      .description("set a scope's gate thresholds (operators only), e.g. minSharpe=1.5 minTrades=2000")
      .argument("<name=value...>", "thresholds to set; the scope's others are cleared")
      .option("--by <name>", "who sets them (default: $STRATREG_OPERATOR, else your user name)")
      .option("--note <text>", "why (kept with the setting)")
      .option(
        "--expected-revision <n>",
        "only if the scope's setting is at this revision (0: none yet)",
        integerAtLeast(0),
      ),
  ).action(
    async (
      pairs: string[],
      options: ScopeOptions & { by?: string; note?: string; expectedRevision?: number },
      command: Command,
    ) => {
      process.exitCode = await runSetThresholds(pairs, options, globalsOf(command));
    },
  );
  return new Command("thresholds")
    .description("the quality gates' thresholds per scope: show, set (operators)")
    .addCommand(show)
    .addCommand(set);
}
