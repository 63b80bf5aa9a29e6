/**
 * `stratreg search [filter]`: strategies by the filter language and full text,
 * and `--like <id>` / `--like-text <text>`: strategies similar by content or
 * by returns, from a search process.
 */
import type { SearchHit, SearchReply, SimilarReply, Strategy } from "@stratreg/client";
import { ErrorCodes, type SimilarityKind, SimilarityKinds, StratregError } from "@stratreg/protocol";
import { renderQueryPosition } from "@stratreg/search";
import { Command, Option } from "commander";
import { withClient } from "../connection.js";
import { type ExitCode, ExitCodes } from "../errors.js";
import { formatTable } from "../format.js";
import { type GlobalOptions, globalsOf } from "../options.js";
import { printJson, printLine, warn } from "../output.js";

interface SearchOptions {
  text?: string;
  fuzzy: boolean;
  limit?: string;
  offset?: string;
  like?: string;
  likeText?: string;
  by: SimilarityKind;
  k?: string;
}

/** The hits as aligned text: id, version, score, then the strategy's name, state and family. */
export function hitLines(hits: SearchHit[], scoreName: string): string[] {
  const header = ["strategy", "version", scoreName, "state", "family", "name"];
  const rows = hits.map((hit) => {
    const s = hit.strategy as Strategy | undefined;
    return [
      hit.id,
      String(hit.version),
      hit.score === undefined ? "–" : hit.score.toFixed(3),
      s?.state ?? "",
      s?.family ?? "–",
      s?.name ?? "",
    ];
  });
  return formatTable([header, ...rows]);
}

function lagText(reply: SearchReply | SimilarReply): string {
  const ms = reply.lag.ms === null ? "not yet current" : `current to ${reply.lag.ms} ms ago`;
  return `(from ${reply.member}, ${ms})`;
}

export async function runSearch(
  filter: string | undefined,
  options: SearchOptions,
  globals: GlobalOptions,
): Promise<ExitCode> {
  try {
    if (options.like !== undefined || options.likeText !== undefined) {
      const reply = await withClient(globals, (client) =>
        client.similar({
          ...(options.like === undefined ? { text: options.likeText } : { id: options.like }),
          by: options.by,
          ...(options.k === undefined ? {} : { k: Number(options.k) }),
        }),
      );
      if (globals.json) printJson(reply);
      else {
        for (const line of hitLines(reply.hits, reply.by === SimilarityKinds.Returns ? "correlation" : "similarity"))
          printLine(line);
        printLine(lagText(reply));
      }
      return ExitCodes.Ok;
    }
    const reply = await withClient(globals, (client) =>
      client.search({
        ...(filter === undefined ? {} : { filter }),
        ...(options.text === undefined ? {} : { text: options.text }),
        fuzzy: options.fuzzy,
        strategies: !globals.json,
        ...(options.limit === undefined ? {} : { limit: Number(options.limit) }),
        ...(options.offset === undefined ? {} : { offset: Number(options.offset) }),
      }),
    );
    if (globals.json) printJson(reply);
    else {
      for (const line of hitLines(reply.hits, "score")) printLine(line);
      const more = reply.next === null ? "" : `; next page: --offset ${reply.next}`;
      printLine(`${reply.total} match${reply.total === 1 ? "" : "es"}${more} ${lagText(reply)}`);
    }
    return ExitCodes.Ok;
  } catch (err) {
    // A filter that does not parse: show where.
    if (err instanceof StratregError && err.code === ErrorCodes.InvalidQuery && filter !== undefined) {
      const position = (err.details as { position?: unknown } | undefined)?.position;
      if (typeof position === "number") {
        warn(renderQueryPosition(filter, position, err.message));
        return ExitCodes.Failed;
      }
    }
    throw err;
  }
}

/** The `search` command. */
export function searchCommand(): Command {
  return new Command("search")
    .description(
      "find strategies: a filter (e.g. \"state = 'active' AND sharpe > 1 AND tags IN ('momentum') ORDER BY sharpe DESC LIMIT 20\"), full text (--text, typos allowed), or strategies like one (--like <id>, by content or --by returns)",
    )
    .argument(
      "[filter]",
      "the filter language: AND OR NOT ( ), = != < <= > >=, IN, LIKE, ~ regex, IS NULL, ORDER BY, LIMIT",
    )
    .option("--text <words>", "full text over name, description, tags and owner (BM25)")
    .option("--no-fuzzy", "match the text's words exactly (no typos)")
    .option("--limit <n>", "results per page")
    .option("--offset <n>", "results to skip (the previous page's next)")
    .option("--like <id>", "strategies similar to this one")
    .option("--like-text <text>", "strategies whose content is like this text")
    .addOption(
      new Option("--by <kind>", "similar by content or by returns")
        .choices(Object.values(SimilarityKinds))
        .default(SimilarityKinds.Content),
    )
    .option("--k <n>", "how many similar strategies")
    .action(async (filter: string | undefined, options: SearchOptions, command: Command) => {
      process.exitCode = await runSearch(filter, options, globalsOf(command));
    });
}
