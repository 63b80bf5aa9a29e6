/** Reading strategies a person hands the CLI: a JSON file, or stdin when the path is `-`. */
import { readFile } from "node:fs/promises";
import type { StrategyInput } from "@stratreg/client";
import { CliError } from "./errors.js";

/** Reads all of `path` (or stdin for `-`) as UTF-8. */
export async function readText(path: string): Promise<string> {
  try {
    if (path !== "-") return await readFile(path, "utf8");
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  } catch (err) {
    throw new CliError(`cannot read ${path === "-" ? "stdin" : path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Whether `value` is a JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Checks just enough of `value` to route it (an object with a string id); every
 * other field is the registry's to validate, so its error codes reach the user unchanged.
 */
export function asStrategyInput(value: unknown, where: string): StrategyInput {
  if (!isJsonObject(value)) throw new CliError(`${where} is not a JSON object`);
  if (typeof value.id !== "string") throw new CliError(`${where} has no string "id"`);
  return value as unknown as StrategyInput;
}
