/**
 * Starting a run and following it to its end: the progress subscription is in
 * place before the run is asked for (its first messages may come before the
 * reply), every message of the run moves the display, and the message with an
 * `outcome` ends the wait. When nothing is heard for a while, discovery's
 * status is asked, so a run whose last message was lost still ends.
 *
 * Ctrl-C sends `stop` for the run (discovery keeps its checkpoint) and waits
 * for it to stop; a second Ctrl-C quits at once.
 */
import type { DiscoveryClient, RunProgress, RunRequest } from "@stratreg/client";
import { ErrorCodes, StratregError } from "@stratreg/protocol";
import { ExitCodes } from "../errors.js";
import type { LiveProgress } from "./progress.js";
import { progressLine } from "./text.js";

/** How a followed run ended. */
export interface FollowedRun {
  /** The run's last progress; it has an `outcome` unless the stop failed. */
  final: RunProgress;
  /** Whether Ctrl-C asked for the stop. */
  interrupted: boolean;
  /** Why the stop Ctrl-C asked for failed (the run goes on). */
  stopError?: unknown;
}

/** Settings of {@link startAndFollow}. */
export interface FollowSettings {
  display: LiveProgress;
  /** Deadline of the stop Ctrl-C sends, ms (it is answered once the run has stopped). */
  stopTimeoutMs: number;
  /** Called once the run has started, with its first progress. */
  onStarted?: (started: RunProgress) => void;
  /** Ask the status after this long without a message, ms. */
  quietMs?: number;
  /** The process to listen to for Ctrl-C. */
  signals?: NodeJS.EventEmitter;
}

/** Starts a run with `request` and resolves once it has ended (errors of the start are thrown as they come). */
export async function startAndFollow(
  client: DiscoveryClient,
  request: RunRequest,
  settings: FollowSettings,
): Promise<FollowedRun> {
  const { display } = settings;
  const quietMs = settings.quietMs ?? 10_000;
  const signals = settings.signals ?? process;
  let runId: string | undefined;
  let latest: RunProgress | undefined;
  let lastHeard = performance.now();
  const early: RunProgress[] = [];
  let finish: (result: FollowedRun) => void = () => undefined;
  const ended = new Promise<FollowedRun>((resolve) => {
    finish = resolve;
  });
  let interrupted = false;
  let done = false;

  const take = (p: RunProgress) => {
    if (done) return;
    lastHeard = performance.now();
    // Messages may cross: an older one (less elapsed) only moves nothing back.
    if (latest !== undefined && p.outcome === undefined && p.elapsedMs < latest.elapsedMs) return;
    const milestone = latest === undefined || latest.phase !== p.phase || latest.targetsDone !== p.targetsDone;
    latest = p;
    display.update(p.elapsedMs, p.budgetMs, progressLine(p), milestone);
    if (p.outcome !== undefined) {
      done = true;
      finish({ final: p, interrupted });
    }
  };
  const follower = client.followProgress((p) => {
    if (runId === undefined) early.push(p);
    else if (p.runId === runId) take(p);
  });

  const stop = (id: string) => {
    display.notice(`stopping run ${id}, keeping its checkpoint (Ctrl-C again to quit now)`);
    client.stop(id, { timeoutMs: settings.stopTimeoutMs }).then(
      (stopped) => {
        if (stopped?.runId === id) take(stopped);
      },
      (err: unknown) => {
        // NOT_FOUND: it ended on its own meanwhile, and its last message tells how.
        if (err instanceof StratregError && err.code === ErrorCodes.NotFound) return;
        if (done || latest === undefined) return;
        done = true;
        finish({ final: latest, interrupted, stopError: err });
      },
    );
  };
  const onSigint = () => {
    if (interrupted) process.exit(ExitCodes.Interrupted);
    interrupted = true;
    if (runId !== undefined) stop(runId);
  };
  signals.on("SIGINT", onSigint);
  const watchdog = setInterval(
    () => {
      if (runId === undefined || done || performance.now() - lastHeard < quietMs) return;
      const id = runId;
      client.status().then(
        (status) => {
          if (status.run?.runId === id) take(status.run);
          const past = Array.isArray(status.runs) ? status.runs.find((r) => r.runId === id) : undefined;
          if (past?.outcome !== undefined) take(past);
        },
        () => {
          if (!done)
            display.notice(`no word from discovery for ${Math.round((performance.now() - lastHeard) / 1000)} s`);
        },
      );
    },
    Math.max(100, Math.floor(quietMs / 2)),
  );
  try {
    await follower.ready;
    const started = await client.run(request);
    runId = started.runId;
    settings.onStarted?.(started);
    take(started);
    for (const p of early.splice(0)) if (p.runId === runId) take(p);
    if (interrupted && !done) stop(runId);
    return await ended;
  } finally {
    clearInterval(watchdog);
    signals.off("SIGINT", onSigint);
    follower.stop();
  }
}
