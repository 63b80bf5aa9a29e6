/**
 * Live progress of an import or a run on stderr: a bar when stderr is a
 * terminal, otherwise (CI logs, files) the line every few seconds, and always
 * on a change the caller marks as a milestone (a new phase, a finished series).
 */
import cliProgress from "cli-progress";

/** Shows where some work is: `done` of `total` and a line of text. */
export interface LiveProgress {
  /** `milestone`: a change worth a line even between the regular ones. */
  update(done: number, total: number, text: string, milestone?: boolean): void;
  /** Shows a short message (a bar shows it in its line: writing below it would garble the bar). */
  notice(text: string): void;
  /** Removes the bar (or prints nothing more) before the summary. */
  stop(): void;
}

class BarProgress implements LiveProgress {
  private readonly bar: cliProgress.SingleBar;
  private text = "";
  private message = "";

  constructor(stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar(
      { format: "[{bar}] {percentage}% | {text}{message}", stream, hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(1, 0, { text: "", message: "" });
  }

  private payload() {
    return { text: this.text, message: this.message === "" ? "" : ` | ${this.message}` };
  }

  update(done: number, total: number, text: string): void {
    this.text = text;
    this.bar.setTotal(Math.max(1, total));
    this.bar.update(Math.min(done, Math.max(1, total)), this.payload());
  }

  notice(text: string): void {
    this.message = text;
    this.bar.update(this.payload());
  }

  stop(): void {
    this.bar.stop();
  }
}

class LineProgress implements LiveProgress {
  private lastPrinted = Number.NEGATIVE_INFINITY;
  private lastText = "";

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  update(_done: number, _total: number, text: string, milestone = false): void {
    const now = this.now();
    if (text === this.lastText || (!milestone && now - this.lastPrinted < this.intervalMs)) return;
    this.lastPrinted = now;
    this.lastText = text;
    this.stream.write(`${text}\n`);
  }

  notice(text: string): void {
    this.stream.write(`${text}\n`);
  }

  stop(): void {}
}

/** A bar on a terminal `stream`, plain lines (at most one per `intervalMs`, milestones aside) elsewhere. */
export function liveProgress(
  stream: NodeJS.WriteStream,
  intervalMs = 5000,
  now: () => number = () => performance.now(),
): LiveProgress {
  return stream.isTTY ? new BarProgress(stream) : new LineProgress(stream, intervalMs, now);
}
