/**
 * Import progress on stderr: a live bar when stderr is a terminal, otherwise
 * (CI logs, files) a plain line every few seconds, which stays readable.
 */
import cliProgress from "cli-progress";
import { formatBytes, formatCount } from "../format.js";
import type { ImportCounts } from "./importer.js";

/** Where an import stands. */
export interface ProgressState {
  /** Bytes of the file whose lines have been settled. */
  bytesDone: number;
  /** Lines settled. */
  lines: number;
  counts: ImportCounts;
  elapsedMs: number;
}

/** Shows progress; `stop` removes or finishes the display before the summary. */
export interface ProgressReporter {
  update(state: ProgressState): void;
  /** Shows a short message (a bar shows it in its line: writing below it would garble the bar). */
  notice(text: string): void;
  stop(): void;
}

function rate(state: ProgressState): number {
  return Math.round(state.lines / Math.max(state.elapsedMs / 1000, 0.001));
}

class BarProgress implements ProgressReporter {
  private readonly bar: cliProgress.SingleBar;
  private last: ProgressState | undefined;
  private message = "";

  constructor(stream: NodeJS.WriteStream, totalBytes: number | undefined) {
    const counts = "{lines} lines | {registered} registered | {already} already | {problems} problems | {rate} lines/s";
    this.bar = new cliProgress.SingleBar(
      {
        // Without a known size (stdin) a bar could only lie, so show the counts alone.
        format:
          totalBytes === undefined
            ? `importing | ${counts}{message}`
            : `[{bar}] {percentage}% | ${counts} | ETA {eta_formatted}{message}`,
        stream,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(totalBytes ?? 1, 0, this.payload(undefined));
  }

  private payload(state: ProgressState | undefined) {
    return {
      lines: formatCount(state?.lines ?? 0),
      registered: formatCount(state?.counts.registered ?? 0),
      already: formatCount(state?.counts.alreadyRegistered ?? 0),
      problems: formatCount((state?.counts.invalid ?? 0) + (state?.counts.failed ?? 0)),
      rate: formatCount(state === undefined ? 0 : rate(state)),
      message: this.message === "" ? "" : ` | ${this.message}`,
    };
  }

  update(state: ProgressState): void {
    this.last = state;
    this.bar.update(Math.min(state.bytesDone, this.bar.getTotal()), this.payload(state));
  }

  notice(text: string): void {
    this.message = text;
    this.bar.update(this.payload(this.last));
  }

  stop(): void {
    this.bar.stop();
  }
}

class LineProgress implements ProgressReporter {
  private lastPrinted = 0;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly totalBytes: number | undefined,
    private readonly intervalMs: number,
  ) {
    if (totalBytes !== undefined) stream.write(`importing ${formatBytes(totalBytes)}\n`);
  }

  update(state: ProgressState): void {
    if (state.elapsedMs - this.lastPrinted < this.intervalMs) return;
    this.lastPrinted = state.elapsedMs;
    const percent =
      this.totalBytes === undefined || this.totalBytes === 0
        ? ""
        : ` (${Math.min(100, Math.floor((100 * state.bytesDone) / this.totalBytes))}%)`;
    const { counts } = state;
    this.stream.write(
      `progress: ${formatCount(state.lines)} lines${percent}, ${formatCount(counts.registered)} registered, ` +
        `${formatCount(counts.alreadyRegistered)} already registered, ${formatCount(counts.invalid + counts.failed)} problems, ` +
        `${formatCount(rate(state))} lines/s\n`,
    );
  }

  notice(text: string): void {
    this.stream.write(`${text}\n`);
  }

  stop(): void {}
}

/** A bar on a terminal `stream`, plain lines every `intervalMs` elsewhere. */
export function progressReporter(
  stream: NodeJS.WriteStream,
  totalBytes: number | undefined,
  intervalMs = 5000,
): ProgressReporter {
  return stream.isTTY ? new BarProgress(stream, totalBytes) : new LineProgress(stream, totalBytes, intervalMs);
}
