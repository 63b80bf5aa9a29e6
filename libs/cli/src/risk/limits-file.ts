/**
 * Reading the limits an operator hands `stratreg limits set`: a JSON file
 * checked by the protocol's own validation of limits (what the guard runs on
 * `set-limits`) before anything is sent, so a typo is named with its place in
 * the file rather than as a field of the request.
 */
import { type RiskLimits, riskLimitsError } from "@stratreg/protocol";
import { CliError } from "../errors.js";
import { isJsonObject, readText } from "../input.js";

/** Keys of what `stratreg limits --json` prints, which is not itself a limits file. */
const REPLY_KEYS = ["version", "limits", "audit"];

/**
 * Parses `text` (the contents of `name`) as limits; throws a CliError naming
 * the file and the problem: not JSON, not an object, an unknown or invalid field.
 */
export function parseLimits(text: string, name: string): RiskLimits {
  if (text.trim() === "") throw new CliError(`${name} is empty: expected a JSON object of limits`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${name} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (isJsonObject(value) && "limits" in value && Object.keys(value).every((k) => REPLY_KEYS.includes(k))) {
    throw new CliError(
      `${name} looks like the output of \`stratreg limits --json\`: put only its "limits" object in the file (and pass its "version" as --expect-version)`,
    );
  }
  if (!isJsonObject(value)) throw new CliError(`${name}: the limits must be a JSON object`);
  const problem = riskLimitsError(value);
  if (problem !== undefined) throw new CliError(`${name}: ${problem.message}`, { cause: problem });
  return value as RiskLimits;
}

/** Reads and checks the limits in `path` (`-`: stdin). */
export async function readLimitsFile(path: string): Promise<RiskLimits> {
  return parseLimits(await readText(path), path === "-" ? "stdin" : path);
}
