/** `stratreg get <id...>`: prints strategies by id. */
import { Command } from "commander";
import { withClient } from "../connection.js";
import { type ExitCode, ExitCodes } from "../errors.js";
import { type GlobalOptions, globalsOf } from "../options.js";
import { printJsonLine, printLine, warn } from "../output.js";
import { strategyLines } from "../strategy-text.js";

/** Fetches `ids` and prints them in the order asked; missing ids are reported on stderr and fail the command. */
export async function runGet(ids: string[], options: GlobalOptions): Promise<ExitCode> {
  const wanted = [...new Set(ids)];
  const { strategies, missing } = await withClient(options, (client) => client.getMany(wanted));
  const byId = new Map(strategies.map((s) => [s.id, s]));
  let first = true;
  for (const id of wanted) {
    const strategy = byId.get(id);
    if (strategy === undefined) continue;
    if (options.json) {
      printJsonLine(strategy);
    } else {
      if (!first) printLine();
      for (const line of strategyLines(strategy)) printLine(line);
    }
    first = false;
  }
  const absent = new Set(missing);
  for (const id of wanted) if (absent.has(id)) warn(`not found: ${id}`);
  return missing.length === 0 ? ExitCodes.Ok : ExitCodes.Failed;
}

/** The `get` command. */
export function getCommand(): Command {
  return new Command("get")
    .description("print strategies by id (with --json: one JSON object per line)")
    .argument("<id...>", "strategy ids")
    .action(async (ids: string[], _options: unknown, command: Command) => {
      process.exitCode = await runGet(ids, globalsOf(command));
    });
}
