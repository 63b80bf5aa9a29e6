/**
 * Reads a JSON-lines file line by line (node:readline, so a file of a million
 * strategies never has to fit in memory as one string) and hands it on in
 * chunks. Lines that are not JSON objects with a string id are reported with
 * their line number here and never sent.
 */
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { StrategyInput } from "@stratreg/client";
import { isJsonObject } from "../input.js";

/** A line that holds a strategy to send. */
export interface StrategyLine {
  /** 1-based line number in the file. */
  line: number;
  strategy: StrategyInput;
}

/** A line that could not be sent, or that the registry turned away, and why. */
export interface LineProblem {
  line: number;
  /** Every line concerned, when a whole batch failed (then `line` is the first). */
  lines?: number[];
  /** `BAD_JSON`, `NOT_A_STRATEGY`, or the registry's error code. */
  code: string;
  message: string;
  field?: string;
}

/** Problem codes the reader itself assigns (the registry's codes are ErrorCodes). */
export const ReaderCodes = {
  /** The line is not valid JSON. */
  BadJson: "BAD_JSON",
  /** The line is JSON, but not an object with a string `id`. */
  NotAStrategy: "NOT_A_STRATEGY",
} as const;

/** Consecutive lines of the file: those to send, those rejected on reading, and their size in bytes. */
export interface Chunk {
  strategies: StrategyLine[];
  invalid: LineProblem[];
  /** Bytes of the file this chunk covers (for progress against the file size). */
  bytes: number;
  /** Number of the chunk's last line. */
  lastLine: number;
}

/** Parses one line: a strategy to send, a problem, or undefined for a blank line. */
export function parseLine(text: string, line: number): StrategyLine | LineProblem | undefined {
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { line, code: ReaderCodes.BadJson, message: `not valid JSON: ${(err as Error).message}` };
  }
  if (!isJsonObject(value)) return { line, code: ReaderCodes.NotAStrategy, message: "not a JSON object" };
  // Only what routing needs is checked here; the registry validates the rest and names the field.
  if (typeof value.id !== "string") {
    return { line, code: ReaderCodes.NotAStrategy, message: 'has no string "id"', field: "id" };
  }
  return { line, strategy: value as unknown as StrategyInput };
}

/** Reads `input` as JSON lines, yielding chunks of at most `chunkLines` lines. */
export async function* readChunks(input: Readable, chunkLines: number): AsyncGenerator<Chunk> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let chunk: Chunk = { strategies: [], invalid: [], bytes: 0, lastLine: 0 };
  let count = 0;
  let lineNo = 0;
  for await (let text of lines) {
    lineNo++;
    if (lineNo === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1); // editors on Windows add a BOM
    chunk.bytes += Buffer.byteLength(text) + 1;
    chunk.lastLine = lineNo;
    const parsed = parseLine(text, lineNo);
    if (parsed !== undefined) {
      if ("strategy" in parsed) chunk.strategies.push(parsed);
      else chunk.invalid.push(parsed);
    }
    if (++count === chunkLines) {
      yield chunk;
      chunk = { strategies: [], invalid: [], bytes: 0, lastLine: lineNo };
      count = 0;
    }
  }
  if (count > 0) yield chunk;
}
