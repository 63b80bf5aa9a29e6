/**
 * Genealogy from a search process: `stratreg lineage <id>` draws a strategy's
 * ancestors and descendants as trees; `stratreg family <name>` prints a
 * family's statistics, members and tree; `stratreg family breeding` lists
 * cross-family children and `stratreg family dynasties` the roots whose
 * descendants passed the gates generation after generation.
 */
import { type LineageDirection, LineageDirections, type Metric, Metrics } from "@stratreg/protocol";
import { Command, Option } from "commander";
import { withClient } from "../connection.js";
import { type ExitCode, ExitCodes } from "../errors.js";
import { breedingLines, dynastyLines, familyLines, lineageLines } from "../genealogy/text.js";
import { type GlobalOptions, globalsOf, integerAtLeast } from "../options.js";
import { printJson, printLine } from "../output.js";

function print(lines: string[], reply: unknown, globals: GlobalOptions): ExitCode {
  if (globals.json) printJson(reply);
  else for (const line of lines) printLine(line);
  return ExitCodes.Ok;
}

interface LineageOptions {
  depth?: number;
  up?: boolean;
  down?: boolean;
  limit?: number;
}

export async function runLineage(id: string, options: LineageOptions, globals: GlobalOptions): Promise<ExitCode> {
  const direction: LineageDirection =
    options.up === true && options.down !== true
      ? LineageDirections.Ancestors
      : options.down === true && options.up !== true
        ? LineageDirections.Descendants
        : LineageDirections.Both;
  const reply = await withClient(globals, (client) =>
    client.lineage({
      id,
      direction,
      ...(options.depth === undefined ? {} : { depth: options.depth }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    }),
  );
  return print(lineageLines(reply), reply, globals);
}

/** The `lineage` command. */
export function lineageCommand(): Command {
  return new Command("lineage")
    .description(
      "a strategy's ancestors (--up) and descendants (--down), both by default, drawn as trees: id, origin, state, ✓ passed the gates",
    )
    .argument("<id>", "the strategy")
    .option("--depth <n>", "generations to go (1-64, default 8)", integerAtLeast(1))
    .option("--up", "ancestors only")
    .option("--down", "descendants only")
    .option("--limit <n>", "most strategies listed (default 1000)", integerAtLeast(1))
    .action(async (id: string, options: LineageOptions, command: Command) => {
      process.exitCode = await runLineage(id, options, globalsOf(command));
    });
}

/** The `family` command and its `breeding` and `dynasties` subcommands. */
export function familyCommand(): Command {
  const family = new Command("family")
    .description(
      "a family's performance, survival through the gates, members and tree; `family breeding`: cross-family children; `family dynasties`: roots whose descendants passed the gates generation after generation",
    )
    .argument("<name>", "the family")
    .addOption(
      new Option("--metric <name>", "the metric its performance and best member are judged by")
        .choices(Object.values(Metrics))
        .default(Metrics.Sharpe),
    )
    // Not --limit: the subcommands' own --limit would be taken for this one.
    .option("--members <n>", "most members listed (default 1000)", integerAtLeast(1))
    .action(async (name: string, options: { metric: Metric; members?: number }, command: Command) => {
      const globals = globalsOf(command);
      const reply = await withClient(globals, (client) =>
        client.family({
          family: name,
          metric: options.metric,
          ...(options.members === undefined ? {} : { limit: options.members }),
        }),
      );
      process.exitCode = print(familyLines(reply), reply, globals);
    });
  family
    .command("breeding")
    .description("children whose parents are in different families: each with its family and its parents' families")
    .option("--family <name>", "only children of, or in, this family")
    .option("--limit <n>", "results per page (default 100)", integerAtLeast(1))
    .option("--offset <n>", "results to skip (the previous page's next)", integerAtLeast(0))
    .action(async (options: { family?: string; limit?: number; offset?: number }, command: Command) => {
      const globals = globalsOf(command);
      const reply = await withClient(globals, (client) => client.breeding({ ...options }));
      process.exitCode = print(breedingLines(reply), reply, globals);
    });
  family
    .command("dynasties")
    .description(
      "roots (no registered parent) whose descendants passed the gates in k or more consecutive generations from the first",
    )
    .option("--k <n>", "consecutive generations (default 3)", integerAtLeast(1))
    .option("--family <name>", "only roots of this family")
    .option("--limit <n>", "most dynasties listed (default 100)", integerAtLeast(1))
    .action(async (options: { k?: number; family?: string; limit?: number }, command: Command) => {
      const globals = globalsOf(command);
      const reply = await withClient(globals, (client) => client.dynasties({ ...options }));
      process.exitCode = print(dynastyLines(reply), reply, globals);
    });
  return family;
}
