import { type ChildProcess, spawn } from "node:child_process";
import { basename } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { killOnExit } from "@stratreg/natsd";

/** Options of {@link spawnService}. */
export interface SpawnServiceOptions {
  /** The script node runs, e.g. `services/registry-shard/dist/main.js`. */
  entry: string;
  /** Arguments after the entry. */
  args?: string[];
  /** Environment, laid over this process's environment (a key set to undefined is removed). */
  env?: NodeJS.ProcessEnv;
  /** Label in errors and echoed output (default: the entry's file name). */
  name?: string;
  /** Working directory (default: this process's). */
  cwd?: string;
  /** Options for node itself, before the entry, e.g. `["--enable-source-maps"]`. */
  nodeArgs?: string[];
  /** How many output lines `logs()` keeps (default 500). */
  maxLogLines?: number;
  /** Mirror the output to this process's stderr, prefixed with the name (default: env `TESTKIT_ECHO=1`). */
  echo?: boolean;
}

/** How a child process ended. */
export interface ExitStatus {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended it, or null when it exited by itself. */
  signal: NodeJS.Signals | null;
}

/** A log line that matched, with its parsed JSON when the line was a JSON object (pino's format). */
export interface LogMatch {
  line: string;
  json: Record<string, unknown> | undefined;
}

/** Decides whether a log line is the awaited one. `json` is set when the line is a JSON object. */
export type LogPredicate = (line: string, json?: Record<string, unknown>) => boolean;

/** Options of {@link ServiceProcess.waitForLog}. */
export interface WaitForLogOptions {
  /** Ignore lines already printed (default false: a line printed before the call matches too). */
  fromNow?: boolean;
}

/** Signals that end a process, so waiting for the exit afterwards is meaningful. */
export type ServiceKillSignal = "SIGKILL" | "SIGTERM" | "SIGINT" | "SIGQUIT" | "SIGHUP";

/** A Node service running as a real child process. */
export interface ServiceProcess {
  /** Label used in errors and echoed output. */
  readonly name: string;
  /** Process id (-1 if the process could not be started). */
  readonly pid: number;
  /** Whether the process is still running. */
  readonly running: boolean;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExitStatus>;
  /** The last `maxLogLines` lines of stdout and stderr, interleaved as they arrived. */
  logs(): string[];
  /**
   * Resolves with the first line (oldest first) for which `predicate` holds. Rejects when the
   * process exits first or `timeoutMs` (default 10 000) passes, with its last lines in the message.
   */
  waitForLog(predicate: LogPredicate, timeoutMs?: number, options?: WaitForLogOptions): Promise<LogMatch>;
  /** Sends `signal` (default SIGKILL) and resolves with the exit status once the process is gone. */
  kill(signal?: ServiceKillSignal): Promise<ExitStatus>;
  /** SIGTERM, then SIGKILL if still running after `graceMs` (default 5 000); resolves with the exit status. */
  stop(graceMs?: number): Promise<ExitStatus>;
  /** Freezes the process (SIGSTOP), e.g. to simulate a GC pause or a stalled VM. */
  pause(): void;
  /** Thaws a paused process (SIGCONT). */
  resume(): void;
}

/** waitForLog gave up; the message ends with the process's last output lines. */
export class WaitForLogError extends Error {
  override name = "WaitForLogError";
  readonly code: "LOG_TIMEOUT" | "PROCESS_EXITED";
  readonly retryable = false;
  constructor(code: "LOG_TIMEOUT" | "PROCESS_EXITED", message: string) {
    super(message);
    this.code = code;
  }
}

interface Waiter {
  predicate: LogPredicate;
  resolve: (match: LogMatch) => void;
}

/**
 * Spawns `node <entry> ...args` as a child process that is killed if this process ends first
 * (see `killOnExit` of `@stratreg/natsd`: on exit, on SIGINT/SIGTERM/SIGHUP, and even when
 * this process is SIGKILLed).
 */
export function spawnService(options: SpawnServiceOptions): ServiceProcess {
  return new NodeServiceProcess(options);
}

function parseJsonLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

class NodeServiceProcess implements ServiceProcess {
  readonly name: string;
  readonly exited: Promise<ExitStatus>;
  readonly #child: ChildProcess;
  readonly #maxLines: number;
  readonly #echo: boolean;
  readonly #waiters = new Set<Waiter>();
  #lines: string[] = [];
  #status: ExitStatus | undefined;

  constructor(options: SpawnServiceOptions) {
    this.name = options.name ?? basename(options.entry);
    this.#maxLines = options.maxLogLines ?? 500;
    this.#echo = options.echo ?? process.env.TESTKIT_ECHO === "1";
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
    for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];

    this.#child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.entry, ...(options.args ?? [])], {
      env,
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    killOnExit(this.#child);
    this.exited = new Promise((resolve) => {
      const done = (status: ExitStatus, note: string): void => {
        if (this.#status !== undefined) return;
        this.#status = status;
        this.#push(`[testkit] ${this.name} ${note}`);
        resolve(status);
      };
      this.#child.once("exit", (code, signal) => {
        // Wait for "close" so every output line is read before the exit is reported, but not
        // for long: a grandchild that inherited stdout would hold the pipes open indefinitely.
        const report = (): void => done({ code, signal }, `exited (code ${code}, signal ${signal})`);
        const drained = setTimeout(report, 500);
        this.#child.once("close", () => {
          clearTimeout(drained);
          report();
        });
      });
      this.#child.once("error", (error) => done({ code: null, signal: null }, `could not start: ${error.message}`));
    });
    this.#read(this.#child.stdout);
    this.#read(this.#child.stderr);
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  get running(): boolean {
    return this.#status === undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  logs(): string[] {
    return this.#lines.slice(-this.#maxLines);
  }

  #read(stream: Readable | null): void {
    if (stream === null) return;
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => this.#push(line));
  }

  #push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.#maxLines * 2) this.#lines = this.#lines.slice(-this.#maxLines);
    if (this.#echo) process.stderr.write(`[${this.name}] ${line}\n`);
    if (this.#waiters.size === 0) return;
    const json = parseJsonLine(line);
    for (const waiter of this.#waiters) {
      if (matches(waiter.predicate, line, json)) waiter.resolve({ line, json });
    }
  }

  #tail(): string {
    return `\n--- last lines of ${this.name} ---\n${this.logs().slice(-30).join("\n")}`;
  }

  #find(predicate: LogPredicate): LogMatch | undefined {
    for (const line of this.logs()) {
      const json = parseJsonLine(line);
      if (matches(predicate, line, json)) return { line, json };
    }
    return undefined;
  }

  waitForLog(predicate: LogPredicate, timeoutMs = 10_000, options: WaitForLogOptions = {}): Promise<LogMatch> {
    const seen = options.fromNow ? undefined : this.#find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    if (!this.running) {
      // The last lines may still be in the pipes; `exited` settles once they are read.
      return this.exited.then(() => {
        const late = options.fromNow ? undefined : this.#find(predicate);
        if (late !== undefined) return late;
        throw new WaitForLogError("PROCESS_EXITED", `${this.name} is not running; no matching log line${this.#tail()}`);
      });
    }
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      const waiter: Waiter = {
        predicate,
        resolve: (match) => {
          finish();
          resolve(match);
        },
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new WaitForLogError(
            "LOG_TIMEOUT",
            `no matching log line from ${this.name} within ${timeoutMs} ms${this.#tail()}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.add(waiter);
      void this.exited.then(() => {
        if (!this.#waiters.has(waiter)) return;
        finish();
        reject(new WaitForLogError("PROCESS_EXITED", `${this.name} exited before a matching log line${this.#tail()}`));
      });
    });
  }

  async kill(signal: ServiceKillSignal = "SIGKILL"): Promise<ExitStatus> {
    if (this.running) this.#child.kill(signal);
    return this.exited;
  }

  async stop(graceMs = 5_000): Promise<ExitStatus> {
    if (!this.running) return this.exited;
    // A stopped (SIGSTOP) process cannot act on SIGTERM until it is continued.
    this.#child.kill("SIGCONT");
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), graceMs);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }

  pause(): void {
    if (this.running) this.#child.kill("SIGSTOP");
  }

  resume(): void {
    if (this.running) this.#child.kill("SIGCONT");
  }
}

/** A predicate that throws counts as "no match": a test's typo must not kill the reader. */
function matches(predicate: LogPredicate, line: string, json: Record<string, unknown> | undefined): boolean {
  try {
    return predicate(line, json);
  } catch {
    return false;
  }
}
