/**
 * What `killOnExit` and `removeOnExit` promise, in a real program: a child it watches does not
 * outlive it, whether it exits, is stopped by a signal or is SIGKILLed, and a directory it
 * registered is gone after it exits.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";

const REAPER = fileURLToPath(new URL("../dist/reaper.js", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "stratreg-reaper-"));
const strays: number[] = [];
afterAll(() => {
  for (const pid of strays) if (alive(pid)) process.kill(pid, "SIGKILL");
  rmSync(scratch, { recursive: true, force: true });
});

/** Whether `pid` runs: a zombie (dead, not yet reaped by its new parent) does not. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/**
 * Starts a program that starts `sleep 300`, watches it (and `dir`, if given), prints the
 * sleeper's pid, then does `then`: "wait" (until a signal), "exit", or "release" (stops
 * watching the sleeper, then exits).
 */
async function program(
  then: "wait" | "exit" | "release",
  dir?: string,
): Promise<{ child: ChildProcess; sleeper: number }> {
  const source = `
    import { spawn } from "node:child_process";
    import { killOnExit, removeOnExit } from ${JSON.stringify(REAPER)};
    const sleeper = spawn("sleep", ["300"], { stdio: "ignore" });
    const release = killOnExit(sleeper);
    ${dir === undefined ? "" : `removeOnExit(${JSON.stringify(dir)});`}
    process.stdout.write(sleeper.pid + "\\n");
    const then = ${JSON.stringify(then)};
    if (then === "release") release();
    if (then === "wait") setInterval(() => {}, 1000);
    else setTimeout(() => process.exit(0), 100);
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", source], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const sleeper = await new Promise<number>((resolve, reject) => {
    child.stdout?.once("data", (data: Buffer) => resolve(Number(data.toString().trim())));
    child.once("exit", (code) => reject(new Error(`the program exited (${code}) before starting its child`)));
  });
  strays.push(sleeper);
  if (child.pid !== undefined) strays.push(child.pid);
  return { child, sleeper };
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once("exit", (code, signal) => resolve({ code, signal }));
  });

async function goneWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return !alive(pid);
}

it("kills a watched child and removes a registered directory when the program exits", async () => {
  const dir = mkdtempSync(join(scratch, "store-"));
  const { child, sleeper } = await program("exit", dir);
  expect(await exited(child)).toEqual({ code: 0, signal: null });
  expect(await goneWithin(sleeper, 2000)).toBe(true);
  expect(existsSync(dir)).toBe(false);
});

it("kills a watched child on SIGTERM, and the program still ends by that signal", async () => {
  const { child, sleeper } = await program("wait");
  child.kill("SIGTERM");
  expect(await exited(child)).toEqual({ code: null, signal: "SIGTERM" });
  expect(await goneWithin(sleeper, 2000)).toBe(true);
});

it("kills a watched child even when the program is SIGKILLed", async () => {
  const { child, sleeper } = await program("wait");
  child.kill("SIGKILL");
  expect(await exited(child)).toEqual({ code: null, signal: "SIGKILL" });
  expect(await goneWithin(sleeper, 5000)).toBe(true);
});

it("leaves a child it stopped watching running", async () => {
  const { child, sleeper } = await program("release");
  expect(await exited(child)).toEqual({ code: 0, signal: null });
  expect(await goneWithin(sleeper, 500)).toBe(false);
  process.kill(sleeper, "SIGKILL");
});
