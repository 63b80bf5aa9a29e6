/** `stratreg status`: the cluster's members, what each serves, and whether every partition has one owner. */
import { Command } from "commander";
import { withNats } from "../connection.js";
import { type ExitCode, ExitCodes } from "../errors.js";
import { type GlobalOptions, globalsOf, integerAtLeast } from "../options.js";
import { printJson, printLine } from "../output.js";
import { askPartitionCount, collectShards } from "../status/collect.js";
import { type ClusterStatus, statusLines, summarize } from "../status/report.js";

/** Options of the `status` command. */
export interface StatusOptions {
  /** How long to collect shard replies, ms. */
  wait: number;
  /** Each member's partition ranges and the table of every partition. */
  verbose?: boolean;
  /** The table of every partition. */
  partitions?: boolean;
}

/** Collects the cluster status; exit 0 only when every partition is served by exactly one member. */
export async function runStatus(options: StatusOptions, globals: GlobalOptions): Promise<ExitCode> {
  const status: ClusterStatus = await withNats(globals, async (nc) => {
    const [partitions, shards] = await Promise.all([
      askPartitionCount(nc, globals.cluster, Math.max(options.wait, 1)),
      collectShards(nc, globals.cluster, options.wait),
    ]);
    return summarize(globals.cluster, partitions, shards);
  });
  const verbose = options.verbose === true;
  if (globals.json) printJson(status);
  else
    for (const line of statusLines(status, { ranges: verbose, partitions: verbose || options.partitions === true }))
      printLine(line);
  return status.healthy ? ExitCodes.Ok : ExitCodes.Failed;
}

/** The `status` command. */
export function statusCommand(): Command {
  return new Command("status")
    .description(
      "show the cluster's shards, their partitions by state and partition coverage (exit 1 unless every partition is served exactly once)",
    )
    .option("--wait <ms>", "how long to collect shard replies", integerAtLeast(1), 1000)
    .option("--partitions", "add a table of every partition: owner, state, epoch, lease age, log and snapshot sequence")
    .option("-v, --verbose", "add each member's partition ranges and the table of every partition")
    .action(async (options: StatusOptions, command: Command) => {
      process.exitCode = await runStatus(options, globalsOf(command));
    });
}
