/** `stratreg list`: one page of a partition, or every strategy up to a limit. */
import type { Strategy, StratregClient } from "@stratreg/client";
import { Limits } from "@stratreg/protocol";
import { Command } from "commander";
import { withClient } from "../connection.js";
import { CliError, type ExitCode, ExitCodes } from "../errors.js";
import { formatTable } from "../format.js";
import { type GlobalOptions, globalsOf, integerAtLeast } from "../options.js";
import { printJson, printLine, warn } from "../output.js";

/** Options of the `list` command. */
export interface ListOptions {
  partition?: number;
  limit: number;
  cursor?: string;
}

/** What `list` found: the strategies, and where to go on from. */
interface Listing {
  strategies: Strategy[];
  /** With --partition: the cursor of the next page (null at the end). */
  nextCursor?: string | null;
  /** Without --partition: whether --limit cut the listing short. */
  truncated?: boolean;
}

async function listAll(client: StratregClient, limit: number): Promise<Listing> {
  const strategies: Strategy[] = [];
  // Ask for pages no larger than needed; listAll walks partitions in order.
  for await (const strategy of client.listAll({ pageSize: Math.min(limit + 1, Limits.listMax) })) {
    if (strategies.length === limit) return { strategies, truncated: true };
    strategies.push(strategy);
  }
  return { strategies, truncated: false };
}

async function listPartition(client: StratregClient, partition: number, options: ListOptions): Promise<Listing> {
  if (partition >= client.partitions) {
    throw new CliError(`--partition must be below ${client.partitions}, the cluster's partition count`);
  }
  return client.list(partition, { cursor: options.cursor ?? null, limit: options.limit });
}

/** Lists strategies and prints id, version, state and name. */
export async function runList(options: ListOptions, globals: GlobalOptions): Promise<ExitCode> {
  if (options.cursor !== undefined && options.partition === undefined) {
    throw new CliError("--cursor needs --partition (cursors are per partition)");
  }
  const { partition } = options;
  const listing = await withClient(globals, (client) =>
    partition === undefined ? listAll(client, options.limit) : listPartition(client, partition, options),
  );
  if (globals.json) {
    printJson(listing);
    return ExitCodes.Ok;
  }
  const rows = listing.strategies.map((s) => [s.id, String(s.version), s.state, s.name]);
  for (const line of formatTable([["ID", "VERSION", "STATE", "NAME"], ...rows], ["left", "right", "left", "left"])) {
    printLine(line);
  }
  if (listing.nextCursor != null) {
    warn(`more: stratreg list --partition ${partition} --cursor ${listing.nextCursor} --limit ${options.limit}`);
  }
  if (listing.truncated === true) warn(`more strategies exist: raise --limit (now ${options.limit})`);
  return ExitCodes.Ok;
}

/** The `list` command. */
export function listCommand(): Command {
  return new Command("list")
    .description("list strategies: one page of a partition, or all partitions up to --limit")
    .option("--partition <p>", "list one partition", integerAtLeast(0))
    .option(
      "--limit <n>",
      `most strategies to print (with --partition at most ${Limits.listMax})`,
      integerAtLeast(1),
      100,
    )
    .option("--cursor <id>", "with --partition: start after this id")
    .action(async (options: ListOptions, command: Command) => {
      process.exitCode = await runList(options, globalsOf(command));
    });
}
