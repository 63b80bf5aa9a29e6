/**
 * Market data for discovery from the command line: `stratreg data import`
 * reads a CSV file of bars and appends each series to discovery's market-data
 * stream in batches, with progress; `stratreg data list` shows the series held.
 */
import { type DiscoveryClient, ValidationError } from "@stratreg/client";
import { seriesKeyOf } from "@stratreg/protocol";
import { Command } from "commander";
import { isHarmless, type PreparedBars, prepareBars, problemLine } from "../discovery/bars-file.js";
import { withDiscovery } from "../discovery/connection.js";
import { parseMarketName } from "../discovery/options.js";
import { liveProgress } from "../discovery/progress.js";
import { type BarsImportSummary, importSummaryLines, seriesLines } from "../discovery/text.js";
import { CliError, type ExitCode, ExitCodes, formatError } from "../errors.js";
import { formatCount } from "../format.js";
import { readText } from "../input.js";
import { type GlobalOptions, globalsOf } from "../options.js";
import { printJson, printLine, warn } from "../output.js";

/** Options of `stratreg data import`. */
export interface DataImportOptions {
  symbol?: string;
  venue?: string;
}

/** Lines of the file a problem made it skip (line 0 is the file as a whole). */
function skippedLines(prepared: PreparedBars): number {
  return new Set(prepared.problems.filter((p) => p.line > 0 && !isHarmless(p)).map((p) => p.line)).size;
}

/** First Ctrl-C: finish the batch in flight and summarise. Second: quit at once. */
function interruptOnSigint(controller: AbortController, notice: (text: string) => void): () => void {
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(ExitCodes.Interrupted);
    controller.abort();
    notice("stopping after the batch in flight (Ctrl-C again to quit now)");
  };
  process.on("SIGINT", onSigint);
  return () => process.off("SIGINT", onSigint);
}

async function importPrepared(
  discovery: DiscoveryClient,
  file: string,
  prepared: PreparedBars,
): Promise<BarsImportSummary> {
  const started = performance.now();
  const summary: BarsImportSummary = {
    file,
    series: [],
    failed: [],
    skippedLines: skippedLines(prepared),
    elapsedMs: 0,
    interrupted: false,
  };
  const display = liveProgress(process.stderr);
  const controller = new AbortController();
  const stopListening = interruptOnSigint(controller, (text) => display.notice(text));
  let sentBefore = 0;
  let appended = 0;
  try {
    for (const [i, series] of prepared.series.entries()) {
      if (controller.signal.aborted) break;
      const key = seriesKeyOf(series.symbol, series.venue);
      let appendedHere = 0;
      const show = (sent: number, milestone: boolean) =>
        display.update(
          sentBefore + sent,
          prepared.bars,
          `importing ${key} (series ${i + 1}/${prepared.series.length}) | ${formatCount(sentBefore + sent)} of ${formatCount(prepared.bars)} bars sent | ${formatCount(appended)} appended`,
          milestone,
        );
      show(0, true);
      try {
        const reply = await discovery.importSeries(series.bars, {
          signal: controller.signal,
          onBatch: (batch, sent) => {
            appendedHere += batch.appended;
            appended += batch.appended;
            show(sent, sent === series.bars.length);
          },
        });
        summary.series.push(series.fileKey === undefined ? reply : { ...reply, fileKey: series.fileKey });
      } catch (err) {
        // Bad bars are this series' problem: the other series still go in. Anything else stops the import.
        if (!(err instanceof ValidationError)) throw err;
        summary.failed.push({ series: key, error: formatError(err).replace(/^error /, ""), appended: appendedHere });
      }
      sentBefore += series.bars.length;
    }
  } finally {
    stopListening();
    display.stop();
  }
  summary.interrupted = controller.signal.aborted;
  summary.elapsedMs = Math.round(performance.now() - started);
  return summary;
}

/**
 * Imports the bars of a CSV file: problems on stderr by line, progress on
 * stderr, the summary on stdout. Exit 0 only when every line was read and
 * every series imported; a file with no bar to import exits 1 having sent nothing.
 */
export async function runDataImport(
  path: string,
  options: DataImportOptions,
  globals: GlobalOptions,
): Promise<ExitCode> {
  const file = path === "-" ? "stdin" : path;
  const prepared = prepareBars(await readText(path), options);
  for (const problem of prepared.problems) warn(problemLine(problem, file));
  for (const note of prepared.notes) warn(`note: ${note}`);
  if (prepared.series.length === 0) {
    const listed = prepared.problems.length === 0 ? "" : ` (problems listed above)`;
    throw new CliError(`${file} holds no bars to import${listed}; nothing was imported`);
  }
  const summary = await withDiscovery(globals, (discovery) => importPrepared(discovery, file, prepared));
  if (globals.json) printJson({ ...summary, problems: prepared.problems, notes: prepared.notes });
  else for (const line of importSummaryLines(summary)) printLine(line);
  if (summary.interrupted) return ExitCodes.Interrupted;
  const unread = prepared.problems.some((p) => !isHarmless(p));
  return summary.failed.length > 0 || unread ? ExitCodes.Failed : ExitCodes.Ok;
}

/** Prints the series discovery holds. */
export async function runDataList(globals: GlobalOptions): Promise<ExitCode> {
  const reply = await withDiscovery(globals, (discovery) => discovery.data());
  if (globals.json) printJson(reply);
  else for (const line of seriesLines(reply)) printLine(line);
  if (reply.skipped > 0) {
    warn(
      `warning: discovery skipped ${formatCount(reply.skipped)} stream messages it could not read (a newer build wrote them?)`,
    );
  }
  return ExitCodes.Ok;
}

/** The `data` command: `data import` and `data list`. */
export function dataCommand(): Command {
  const importBars = new Command("import")
    .description(
      "append the bars of a CSV file (symbol,venue,time,open,high,low,close,volume[,spread]; - for stdin) to discovery's market data; exit 1 if a line or series could not be imported",
    )
    .argument("<file.csv>", "CSV file of bars with a header row, or - for stdin")
    .option(
      "--symbol <symbol>",
      "the symbol of a file without a symbol column; with one, import only this symbol",
      parseMarketName,
    )
    .option(
      "--venue <venue>",
      "the venue of a file without a venue column; with one, import only this venue",
      parseMarketName,
    )
    .action(async (path: string, options: DataImportOptions, command: Command) => {
      process.exitCode = await runDataImport(path, options, globalsOf(command));
    });
  const list = new Command("list")
    .description("the series discovery holds: symbol, venue, bars, first and last bar")
    .action(async (_options: unknown, command: Command) => {
      process.exitCode = await runDataList(globalsOf(command));
    });
  return new Command("data")
    .description("market data for discovery: import bars from CSV, list the series held")
    .addCommand(importBars)
    .addCommand(list);
}
