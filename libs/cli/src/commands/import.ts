/** `stratreg import <file.jsonl>`: bulk registration from a JSON-lines file, with progress and a summary. */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import type { Readable } from "node:stream";
import type { StratregClient } from "@stratreg/client";
import { type Encoding, Encodings, Limits } from "@stratreg/protocol";
import { Command, Option } from "commander";
import { withClient } from "../connection.js";
import { CliError, type ExitCode, ExitCodes } from "../errors.js";
import { Importer } from "../import/importer.js";
import { readChunks } from "../import/jsonl.js";
import { type ProgressReporter, progressReporter } from "../import/progress.js";
import { type ImportSummary, problemLines, succeeded, summaryLines } from "../import/summary.js";
import { type GlobalOptions, globalsOf, integerAtLeast } from "../options.js";
import { printJson, printLine, warn } from "../output.js";

/** Options of the `import` command. */
export interface ImportCommandOptions {
  batchSize: number;
  concurrency: number;
  encoding: Encoding;
  chunkSize: number;
}

/** Most problems listed in the summary; the counts always cover all of them. */
const MAX_PROBLEMS = 1000;

/** The file to read and its size (unknown for stdin). */
async function openInput(path: string): Promise<{ input: Readable; size: number | undefined }> {
  if (path === "-") return { input: process.stdin, size: undefined };
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error("not a file");
    return { input: createReadStream(path), size: info.size };
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** First Ctrl-C: finish the batches in flight and summarise. Second: quit at once. */
function interruptOnSigint(controller: AbortController, progress: ProgressReporter): () => void {
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(ExitCodes.Interrupted);
    controller.abort();
    progress.notice("stopping after the batches in flight (Ctrl-C again to quit now)");
  };
  process.on("SIGINT", onSigint);
  return () => process.off("SIGINT", onSigint);
}

async function importFile(
  client: StratregClient,
  path: string,
  options: ImportCommandOptions,
  globals: GlobalOptions,
): Promise<ImportSummary> {
  const { input, size } = await openInput(path);
  const controller = new AbortController();
  const started = performance.now();
  const progress = progressReporter(process.stderr, size);
  let bytesBefore = 0;
  let linesBefore = 0;
  let chunkBytes = 0;
  let chunkLines = 0;
  let chunkStrategies = 0;
  let settled = 0;
  const report = () => {
    // Within a chunk, progress moves in proportion to the strategies settled.
    const share = chunkStrategies === 0 ? 1 : settled / chunkStrategies;
    progress.update({
      bytesDone: bytesBefore + chunkBytes * share,
      lines: Math.round(linesBefore + chunkLines * share),
      counts: importer.counts,
      elapsedMs: performance.now() - started,
    });
  };
  const importer = new Importer(
    client,
    { ...options, timeoutMs: globals.timeout, maxProblems: MAX_PROBLEMS },
    controller.signal,
    (lines) => {
      settled += lines;
      report();
    },
  );
  const stopListening = interruptOnSigint(controller, progress);
  try {
    for await (const chunk of readChunks(input, options.chunkSize)) {
      if (controller.signal.aborted) break;
      chunkBytes = chunk.bytes;
      chunkLines = chunk.lastLine - linesBefore;
      chunkStrategies = chunk.strategies.length;
      settled = 0;
      importer.addInvalid(chunk.invalid);
      await importer.send(chunk.strategies);
      bytesBefore += chunk.bytes;
      linesBefore = chunk.lastLine;
      chunkBytes = chunkLines = chunkStrategies = 0;
      report();
    }
  } finally {
    stopListening();
    progress.stop();
    input.destroy();
  }
  const elapsedMs = performance.now() - started;
  const answered = importer.counts.registered + importer.counts.alreadyRegistered;
  return {
    file: path === "-" ? "stdin" : path,
    lines: linesBefore,
    ...importer.counts,
    elapsedMs: Math.round(elapsedMs),
    perSecond: Math.round(answered / Math.max(elapsedMs / 1000, 0.001)),
    interrupted: controller.signal.aborted,
    // By line, whatever order the batches finished in.
    problems: [...importer.problems].sort((a, b) => a.line - b.line),
    problemsOmitted: importer.problemsOmitted,
  };
}

/** Imports `path`; exit 0 only when every strategy is now registered (newly or already). */
export async function runImport(
  path: string,
  options: ImportCommandOptions,
  globals: GlobalOptions,
): Promise<ExitCode> {
  // Open the file before connecting, so a typo in the path fails without waiting on the network.
  if (path !== "-") await openInput(path).then(({ input }) => input.destroy());
  const summary = await withClient(globals, (client) => importFile(client, path, options, globals));
  if (globals.json) {
    printJson(summary);
  } else {
    for (const line of problemLines(summary)) warn(line);
    for (const line of summaryLines(summary)) printLine(line);
  }
  if (summary.interrupted) return ExitCodes.Interrupted;
  return succeeded(summary) ? ExitCodes.Ok : ExitCodes.Failed;
}

/** The `import` command. */
export function importCommand(): Command {
  return new Command("import")
    .description("register the strategies of a JSON-lines file (one strategy object per line; - for stdin)")
    .argument("<file>", "JSON-lines file, or - for stdin")
    .option(
      "--batch-size <n>",
      `strategies per request (at most ${Limits.batchMax})`,
      integerAtLeast(1),
      Limits.batchMax,
    )
    .option("--concurrency <n>", "requests in flight at once", integerAtLeast(1), 16)
    .addOption(
      new Option("--encoding <encoding>", "wire encoding of the batches")
        .choices(Object.values(Encodings))
        .default(Encodings.Msgpack),
    )
    .option("--chunk-size <n>", "lines read and sent per chunk (bounds memory)", integerAtLeast(1), 50_000)
    .action(async (path: string, options: ImportCommandOptions, command: Command) => {
      const batchMax = Limits.batchMax;
      if (options.batchSize > batchMax) throw new CliError(`--batch-size must be at most ${batchMax}`);
      process.exitCode = await runImport(path, options, globalsOf(command));
    });
}
