/** Import progress as a person sees it: a bar on a terminal, plain lines in a log. */
import { describe, expect, it } from "vitest";
import { capture } from "../testing/streams.js";
import { type ProgressState, progressReporter } from "./progress.js";

const state = (lines: number, elapsedMs: number, bytesDone = lines * 100): ProgressState => ({
  bytesDone,
  lines,
  counts: { registered: lines - 3, alreadyRegistered: 1, invalid: 1, failed: 1, notSent: 0 },
  elapsedMs,
});

describe("import progress", () => {
  it("writes a line every interval in a log, with the share of the file when its size is known", () => {
    const { stream, text } = capture(false);
    const progress = progressReporter(stream, 10_000, 1000);
    progress.update(state(10, 500));
    progress.update(state(50, 1500));
    progress.notice("retrying a batch");
    progress.stop();
    expect(text().split("\n")).toEqual([
      "importing 9.8 KiB",
      "progress: 50 lines (50%), 47 registered, 1 already registered, 2 problems, 33 lines/s",
      "retrying a batch",
      "",
    ]);
    const unknown = capture(false);
    progressReporter(unknown.stream, undefined, 0).update(state(4, 2000));
    expect(unknown.text()).toBe("progress: 4 lines, 1 registered, 1 already registered, 2 problems, 2 lines/s\n");
  });

  it("draws a bar on a terminal, with counts alone when the size is unknown, and a notice in its line", () => {
    const sized = capture(true);
    const bar = progressReporter(sized.stream, 10_000);
    bar.update(state(20, 1000));
    bar.notice("slow shard");
    bar.stop();
    expect(sized.text()).toMatch(/20 lines \| 17 registered \| 1 already \| 2 problems/);
    expect(sized.text()).toMatch(/slow shard/);
    const stdin = capture(true);
    const counts = progressReporter(stdin.stream, undefined);
    counts.update(state(5, 1000));
    counts.stop();
    expect(stdin.text()).toMatch(/importing \| 5 lines/);
  });
});
