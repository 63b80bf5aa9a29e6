import { Command } from "commander";
import { withClient } from "../connection.js";
import { CliError, type ExitCode, ExitCodes } from "../errors.js";
import { formatCount } from "../format.js";
import { asStrategyInput, readText } from "../input.js";
import { type GlobalOptions, globalsOf } from "../options.js";
import { printJson, printLine, warn } from "../output.js";
import { strategyLines } from "../strategy-text.js";

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path === "-" ? "stdin" : path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Registers what `path` holds: an object through `register`, an array through `registerMany`. */
export async function runRegister(path: string, options: GlobalOptions): Promise<ExitCode> {
  const value = parseJson(await readText(path), path);
  if (!Array.isArray(value)) {
    const input = asStrategyInput(value, "the strategy");
    const strategy = await withClient(options, (client) => client.register(input));
    if (options.json) printJson(strategy);
    else for (const line of strategyLines(strategy)) printLine(line);
    return ExitCodes.Ok;
  }
  const inputs = value.map((item, i) => asStrategyInput(item, `item ${i}`));
  const result = await withClient(options, (client) => client.registerMany(inputs));
  if (options.json) {
    printJson({
      registered: result.registered,
      rejected: result.rejected.map((r) => ({
        index: r.index,
        id: r.id,
        code: r.error.code,
        message: r.error.message,
      })),
      failed: result.failed.map((f) => ({
        indexes: f.indexes,
        culprit: f.culprit,
        code: f.error.code,
        message: f.error.message,
        field: f.error.field,
      })),
    });
  } else {
    printLine(`registered ${formatCount(result.registered)} of ${formatCount(inputs.length)}`);
    for (const r of result.rejected) warn(`rejected ${r.id} (item ${r.index}): ${r.error.code} ${r.error.message}`);
    for (const f of result.failed) {
      const where = f.culprit === undefined ? `items ${f.indexes.join(", ")}` : `item ${f.culprit}`;
      warn(`not registered: ${where}: ${f.error.code} ${f.error.message}`);
    }
  }
  return result.rejected.length === 0 && result.failed.length === 0 ? ExitCodes.Ok : ExitCodes.Failed;
}

/** The `register` command. */
export function registerCommand(): Command {
  return new Command("register")
    .description("register a strategy (a JSON object) or several (a JSON array) from a file, or stdin with -")
    .argument("<file>", "JSON file, or - for stdin")
    .action(async (path: string, _options: unknown, command: Command) => {
      process.exitCode = await runRegister(path, globalsOf(command));
    });
}
