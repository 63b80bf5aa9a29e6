/** A run's live progress: a bar on a terminal, lines in a log at most every interval, milestones always. */
import { describe, expect, it } from "vitest";
import { capture } from "../testing/streams.js";
import { liveProgress } from "./progress.js";

describe("live progress", () => {
  it("prints a line at most every interval in a log, a milestone at once, never the same text twice", () => {
    const { stream, text } = capture(false);
    let now = 0;
    const progress = liveProgress(stream, 1000, () => now);
    progress.update(1, 10, "generation 1");
    now = 500;
    progress.update(2, 10, "generation 2");
    progress.update(2, 10, "validating", true);
    now = 2000;
    progress.update(3, 10, "validating");
    progress.update(4, 10, "generation 4");
    progress.notice("halted");
    progress.stop();
    expect(text()).toBe("generation 1\nvalidating\ngeneration 4\nhalted\n");
  });

  it("draws a bar on a terminal, its text and a notice in one line", () => {
    const { stream, text } = capture(true);
    const progress = liveProgress(stream);
    progress.update(3, 0, "scanning");
    progress.update(5, 10, "generation 5");
    progress.notice("checkpointed");
    progress.stop();
    expect(text()).toMatch(/generation 5/);
    expect(text()).toMatch(/checkpointed/);
  });
});
