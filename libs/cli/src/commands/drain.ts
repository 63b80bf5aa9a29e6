/**
 * `stratreg drain <member>`: asks one shard to hand every partition off and stop,
 * then waits until it has left and every partition is served again.
 */
import { type DrainProgress, drainShard } from "@stratreg/client";
import { Command } from "commander";
import { withNats } from "../connection.js";
import { acceptedLine, outcomeText, progressLine, progressText } from "../drain/report.js";
import { type ExitCode, ExitCodes } from "../errors.js";
import { type GlobalOptions, globalsOf } from "../options.js";
import { printJson, printLine, warn } from "../output.js";

/** How long a drain may take unless `--timeout` says otherwise: handing off loads every partition elsewhere. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 60_000;
/** The drain request itself is answered at once; it gets the usual request deadline at most. */
const REQUEST_TIMEOUT_MS = 5000;

/** Shows the wait on stderr: one rewritten line on a terminal, else a line per change, at most one a second. */
function progressDisplay(stream: NodeJS.WriteStream, member: string) {
  let lastText = "";
  let lastAt = Number.NEGATIVE_INFINITY;
  return {
    update(progress: DrainProgress): void {
      const line = progressLine(member, progress);
      if (stream.isTTY) {
        stream.write(`\r\x1b[2K${line}`);
        return;
      }
      const text = progressText(member, progress);
      if (text === lastText || progress.elapsedMs - lastAt < 1000) return;
      lastText = text;
      lastAt = progress.elapsedMs;
      stream.write(`${line}\n`);
    },
    stop(): void {
      if (stream.isTTY) stream.write("\r\x1b[2K");
    },
  };
}

/** Drains `member`; exit 0 once it has left and every partition is served, 1 on timeout, 130 on Ctrl-C. */
export async function runDrain(member: string, globals: GlobalOptions, timeoutMs: number): Promise<ExitCode> {
  const controller = new AbortController();
  // First Ctrl-C: stop waiting and say so (the shard drains anyway). Second: quit at once.
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(ExitCodes.Interrupted);
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  const progress = progressDisplay(process.stderr, member);
  try {
    const result = await withNats(globals, (nc) =>
      drainShard(nc, globals.cluster, member, {
        timeoutMs,
        requestTimeoutMs: Math.min(globals.timeout, REQUEST_TIMEOUT_MS),
        signal: controller.signal,
        onAccepted: (reply) => {
          if (!globals.json) printLine(acceptedLine(member, globals.cluster, reply));
        },
        onProgress: (p) => progress.update(p),
      }),
    );
    progress.stop();
    const { ok, text } = outcomeText(result);
    if (globals.json) printJson(result);
    else if (ok) printLine(text);
    if (result.outcome === "aborted") {
      warn(text);
      return ExitCodes.Interrupted;
    }
    if (!ok) warn(`error: ${text}`);
    return ok ? ExitCodes.Ok : ExitCodes.Failed;
  } finally {
    progress.stop();
    process.off("SIGINT", onSigint);
  }
}

/** The `drain` command. */
export function drainCommand(): Command {
  return new Command("drain")
    .description(
      "ask a shard to hand every partition off and stop, then wait until it has left and every partition is served again (operators only)",
    )
    .argument("<member>", "the shard's member id, as `stratreg status` lists it")
    .addHelpText(
      "after",
      `\nHere --timeout is how long to wait for the whole hand-off, ms (default ${DEFAULT_DRAIN_TIMEOUT_MS}).`,
    )
    .action(async (member: string, _options: unknown, command: Command) => {
      const globals = globalsOf(command);
      // --timeout is a global option; left at its default, a drain gets its own, longer one.
      const explicit = command.getOptionValueSourceWithGlobals("timeout") !== "default";
      process.exitCode = await runDrain(member, globals, explicit ? globals.timeout : DEFAULT_DRAIN_TIMEOUT_MS);
    });
}
