/**
 * Where results and diagnostics go: results on stdout (so they can be piped),
 * everything else on stderr.
 */

/** Writes `text` and a newline to stdout. */
export function printLine(text = ""): void {
  process.stdout.write(`${text}\n`);
}

/** Writes `value` as pretty JSON to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes `value` as one compact JSON line to stdout (JSON Lines). */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Writes a diagnostic line to stderr. */
export function warn(text: string): void {
  process.stderr.write(`${text}\n`);
}
