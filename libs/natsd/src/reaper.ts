import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { Socket } from "node:net";

// Children and temp dirs to clean up if this process ends before their owners do. Tests
// that fail half-way (or a test worker that vitest terminates) must not leave nats-server
// or service processes running, holding ports and store dirs for the next run.
const children = new Set<ChildProcess>();
const dirs = new Set<string>();
const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
let installed = false;

// The exit and signal handlers below cannot run when this process is SIGKILLed (or dies
// of OOM). For that case one small shell per process holds the pid list on its stdin;
// when the pipe closes because we died, it SIGKILLs whatever is still registered. On an
// orderly exit we kill the guard first, so it never acts on pids that were reused since.
const GUARD_SCRIPT = `pids=" "
while IFS= read -r line; do
  case "$line" in
    -*) next=" "; for p in $pids; do [ "$p" = "\${line#-}" ] || next="$next$p "; done; pids=$next ;;
    *) pids="$pids$line " ;;
  esac
done
for p in $pids; do kill -9 "$p" 2>/dev/null; done`;
let guard: ChildProcess | undefined;
let guardFailed = false;

function tellGuard(line: string): void {
  if (guardFailed) return;
  if (guard === undefined) {
    try {
      // Its own process group, so a Ctrl-C aimed at the test run does not kill the guard first.
      guard = spawn("/bin/sh", ["-c", GUARD_SCRIPT], { stdio: ["pipe", "ignore", "ignore"], detached: true });
      guard.on("error", () => {
        guardFailed = true;
      });
      guard.unref();
      if (guard.stdin instanceof Socket) guard.stdin.unref();
      guard.stdin?.on("error", () => {
        guardFailed = true;
      });
    } catch {
      guardFailed = true;
      return;
    }
  }
  guard.stdin?.write(`${line}\n`);
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function reapAll(): void {
  if (guard !== undefined && guard.exitCode === null) {
    try {
      guard.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
  for (const child of children) {
    if (isRunning(child)) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone between the check and the kill.
      }
    }
  }
  children.clear();
  for (const dir of dirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort: a dying child may still be writing into it.
    }
  }
  dirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // Another handler means the program shuts down on its own terms (a launcher draining its
  // shards before stopping nats-server); the "exit" hook still reaps whatever is left then.
  if (process.listenerCount(signal) > 1) return;
  // Otherwise the default action (terminate, without "exit") was due: clean up, restore the
  // default and re-raise so the process still ends by that signal.
  reapAll();
  for (const s of SIGNALS) process.off(s, onSignal);
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on("exit", reapAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

/**
 * Makes sure `child` is SIGKILLed if this process ends while the child still runs: on a
 * normal exit, `process.exit`, SIGINT/SIGTERM/SIGHUP, and (through a tiny `/bin/sh` guard
 * process) even when this process is SIGKILLed. Returns a function that stops watching it;
 * the watch also ends by itself when the child exits.
 */
export function killOnExit(child: ChildProcess): () => void {
  install();
  children.add(child);
  const pid = child.pid;
  if (pid !== undefined) tellGuard(String(pid));
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    children.delete(child);
    if (pid !== undefined) tellGuard(`-${pid}`);
  };
  child.once("exit", release);
  return release;
}

/** Removes `dir` when this process exits unless the returned release function ran first. */
export function removeOnExit(dir: string): () => void {
  install();
  dirs.add(dir);
  return () => {
    dirs.delete(dir);
  };
}
