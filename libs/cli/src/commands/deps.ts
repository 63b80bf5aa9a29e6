/**
 * Dependencies from the command line, through the graph service:
 * `deps add|remove <id> <dependency…>` (a cycle is refused with its path),
 * `deps show <id>` (what it depends on, transitively), `deps impact <id>`
 * (what depends on it, transitively, with depth) and `deps status`.
 */
import type { GraphNode, LinkReply, TraversalReply } from "@stratreg/client";
import { ErrorCodes, StratregError } from "@stratreg/protocol";
import { Command } from "commander";
import { withClient } from "../connection.js";
import { type ExitCode, ExitCodes } from "../errors.js";
import { formatTable } from "../format.js";
import { type GlobalOptions, globalsOf, integerAtLeast } from "../options.js";
import { printJson, printLine, warn } from "../output.js";
import { operatorName } from "../risk/operator.js";

/** The nodes of a traversal as a table, nearest first. */
export function nodeLines(reply: TraversalReply, what: string): string[] {
  if (reply.nodes.length === 0) return [`${reply.id}: no ${what}`];
  const rows = reply.nodes.map((node: GraphNode) => [String(node.depth), node.id]);
  const lines = formatTable([["depth", "strategy"], ...rows]);
  const deepest = Math.max(...reply.nodes.map((n) => n.depth));
  lines.push(
    `${reply.nodes.length}${reply.truncated ? "+ (truncated: raise --limit)" : ""} ${what}, ${deepest} deep (graph log at ${reply.seq})`,
  );
  return lines;
}

function linkLine(verb: string, reply: LinkReply): string {
  const changed = reply.changed.length === 0 ? "nothing changed" : `${verb} ${reply.changed.join(", ")}`;
  const unchanged = reply.unchanged.length === 0 ? "" : `; already so: ${reply.unchanged.join(", ")}`;
  const shown = reply.changed.length > 0 && !reply.projected ? " (the shards will show it shortly)" : "";
  return `${reply.from}: ${changed}${unchanged}${shown}`;
}

async function runLink(
  kind: "add" | "remove",
  id: string,
  dependencies: string[],
  options: { by?: string },
  globals: GlobalOptions,
): Promise<ExitCode> {
  const by = operatorName(options.by);
  try {
    const reply = await withClient(globals, (client) =>
      kind === "add" ? client.link(id, dependencies, { by }) : client.unlink(id, dependencies, { by }),
    );
    if (globals.json) printJson(reply);
    else printLine(linkLine(kind === "add" ? "now depends on" : "no longer depends on", reply));
    return ExitCodes.Ok;
  } catch (err) {
    if (err instanceof StratregError && err.code === ErrorCodes.Cycle && !globals.json) {
      const path = (err.details as { path?: string[] } | undefined)?.path ?? [];
      warn(`refused: it would close a cycle\n  ${path.join(" → ")}`);
      return ExitCodes.Failed;
    }
    throw err;
  }
}

async function runTraversal(
  kind: "show" | "impact",
  id: string,
  options: { depth?: number; limit?: number },
  globals: GlobalOptions,
): Promise<ExitCode> {
  const reply = await withClient(globals, (client) =>
    kind === "show" ? client.dependenciesOf(id, options) : client.impact(id, options),
  );
  if (globals.json) printJson(reply);
  else for (const line of nodeLines(reply, kind === "show" ? "dependencies" : "dependents")) printLine(line);
  return ExitCodes.Ok;
}

/** `stratreg deps …`. */
export function depsCommand(): Command {
  const edges = (kind: "add" | "remove", description: string) =>
    new Command(kind)
      .description(description)
      .argument("<id>", "the strategy that depends")
      .argument("<dependency...>", "what it depends on")
      .option("--by <name>", "who is asking (default: $STRATREG_OPERATOR, else your user name)")
      .action(async (id: string, dependencies: string[], options: { by?: string }, command: Command) => {
        process.exitCode = await runLink(kind, id, dependencies, options, globalsOf(command));
      });
  const traversal = (kind: "show" | "impact", description: string) =>
    new Command(kind)
      .description(description)
      .argument("<id>", "strategy id")
      .option("--depth <n>", "hops to follow (default: all)", integerAtLeast(1))
      .option("--limit <n>", "most strategies to list (default 10000)", integerAtLeast(1))
      .action(async (id: string, options: { depth?: number; limit?: number }, command: Command) => {
        process.exitCode = await runTraversal(kind, id, options, globalsOf(command));
      });
  const status = new Command("status")
    .description("the graph leader, its log position and the graph's size")
    .action(async (_options: unknown, command: Command) => {
      const globals = globalsOf(command);
      const reply = await withClient(globals, (client) => client.graphStatus());
      if (globals.json) printJson(reply);
      else {
        printLine(
          `leader ${reply.member} (epoch ${reply.epoch}), log at ${reply.seq}: ${reply.edges} edges between ${reply.strategies} strategies, ${reply.pending} change${reply.pending === 1 ? "" : "s"} on the way to the shards`,
        );
      }
      process.exitCode = ExitCodes.Ok;
    });
  return new Command("deps")
    .description(
      "dependencies between strategies (signals, hedges, data), kept acyclic across shards by the graph service",
    )
    .addCommand(edges("add", "make a strategy depend on others (refused, with the path, if it would close a cycle)"))
    .addCommand(edges("remove", "remove dependencies"))
    .addCommand(traversal("show", "what a strategy depends on, transitively, with depth"))
    .addCommand(traversal("impact", "what depends on a strategy, transitively, with depth: what stops if it stops"))
    .addCommand(status);
}
