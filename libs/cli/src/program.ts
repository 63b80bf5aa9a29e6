/** The `stratreg` command line: global options and the commands. */
import { Command } from "commander";
import { dataCommand } from "./commands/data.js";
import { depsCommand } from "./commands/deps.js";
import { candidatesCommand, discoverCommand, scanCommand } from "./commands/discover.js";
import { drainCommand } from "./commands/drain.js";
import { eventsCommand } from "./commands/events.js";
import { familyCommand, lineageCommand } from "./commands/genealogy.js";
import { getCommand } from "./commands/get.js";
import { importCommand } from "./commands/import.js";
import {
  evidenceCommand,
  gatesCommand,
  lifecycleCommand,
  moveCommand,
  thresholdsCommand,
} from "./commands/lifecycle.js";
import { listCommand } from "./commands/list.js";
import { forecastCommand, perfCommand, rankCommand, selectCommand, topCommand } from "./commands/performance.js";
import { registerCommand } from "./commands/register.js";
import { riskCommands } from "./commands/risk.js";
import { searchCommand } from "./commands/search.js";
import { statusCommand } from "./commands/status.js";
import { templateCommand } from "./commands/template.js";
import { versionCommands } from "./commands/versions.js";
import { globalOptions } from "./options.js";

/** The CLI's version, shown by `--version`. */
export const CLI_VERSION = "0.1.0";

/** Builds the program with its global options and commands. */
export function buildProgram(): Command {
  const program = new Command("stratreg")
    .description(
      "stratreg: register, inspect and import trading strategies; instantiate them from templates; take them through backtesting, the quality gates and live trading; rank them; search them by filter, full text and similarity; trace their lineage and families; keep their dependencies acyclic and see what depends on what; keep every version, diff, roll back, branch, merge and tag them; check, drain and watch the registry cluster; watch risk, set limits, halt and resume trading; import market data and discover candidate strategies in it",
    )
    .version(CLI_VERSION)
    .showHelpAfterError();
  for (const option of globalOptions()) program.addOption(option);
  const commands = [
    getCommand(),
    registerCommand(),
    importCommand(),
    listCommand(),
    searchCommand(),
    depsCommand(),
    perfCommand(),
    topCommand(),
    rankCommand(),
    forecastCommand(),
    selectCommand(),
    statusCommand(),
    templateCommand(),
  ];
  const lifecycle = [moveCommand(), evidenceCommand(), gatesCommand(), lifecycleCommand(), thresholdsCommand()];
  const discovery = [dataCommand(), discoverCommand(), candidatesCommand(), scanCommand()];
  // Genealogy, from a search process.
  commands.push(lineageCommand(), familyCommand());
  for (const command of [...commands, ...lifecycle, drainCommand(), eventsCommand(), ...riskCommands(), ...discovery]) {
    program.addCommand(command);
  }
  // Version control (a versions process answers).
  for (const command of versionCommands()) program.addCommand(command);
  return program;
}
