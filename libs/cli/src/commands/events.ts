/** `stratreg events`: follows the cluster's ownership changes, one line each, until Ctrl-C or `--count`. */
import { watchOwnership } from "@stratreg/client";
import { Command } from "commander";
import { withNats } from "../connection.js";
import { type ExitCode, ExitCodes } from "../errors.js";
import { eventLine } from "../events/report.js";
import { type GlobalOptions, globalsOf, integerAtLeast } from "../options.js";
import { printJsonLine, printLine, warn } from "../output.js";

/** Options of the `events` command. */
export interface EventsOptions {
  /** Stop after this many events. */
  count?: number;
}

/** Prints ownership events as they come; exit 0 after `count` of them, 130 on Ctrl-C, 1 if the feed ends. */
export async function runEvents(options: EventsOptions, globals: GlobalOptions): Promise<ExitCode> {
  return withNats(globals, async (nc) => {
    const watch = await watchOwnership(nc, globals.cluster);
    let interrupted = false;
    const onSigint = () => {
      interrupted = true;
      watch.stop();
    };
    process.on("SIGINT", onSigint);
    // Only now: an event published before the subscription was in place would not be shown.
    warn(
      `following ${watch.subject}${options.count === undefined ? "" : ` for ${options.count} events`} (Ctrl-C to stop)`,
    );
    let seen = 0;
    try {
      for await (const event of watch) {
        if (globals.json) printJsonLine(event);
        else printLine(eventLine(event));
        if (++seen === options.count) {
          watch.stop();
          return ExitCodes.Ok;
        }
      }
    } finally {
      process.off("SIGINT", onSigint);
    }
    if (interrupted) return ExitCodes.Interrupted;
    warn("error: the event feed ended (connection to NATS closed)");
    return ExitCodes.Failed;
  });
}

/** The `events` command. */
export function eventsCommand(): Command {
  return new Command("events")
    .description(
      "follow ownership changes (a partition acquired, released or lost by a member), one line each, until Ctrl-C",
    )
    .option("--count <n>", "stop after n events", integerAtLeast(1))
    .action(async (options: EventsOptions, command: Command) => {
      process.exitCode = await runEvents(options, globalsOf(command));
    });
}
