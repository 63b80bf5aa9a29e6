import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

/** The last `capacity` lines of a process's output, oldest first. */
export class LogRing {
  readonly #capacity: number;
  #lines: string[] = [];

  constructor(capacity = 200) {
    this.#capacity = capacity;
  }

  push(line: string): void {
    this.#lines.push(line);
    // Trim in chunks so a chatty process does not pay an O(n) shift per line.
    if (this.#lines.length > this.#capacity * 2) this.#lines = this.#lines.slice(-this.#capacity);
  }

  lines(): string[] {
    return this.#lines.slice(-this.#capacity);
  }
}

/** Calls `onLine` for every line of `stream` (without the newline); a final partial line counts. */
export function forEachLine(stream: Readable, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", onLine);
}
