/**
 * Reading the limits an operator hands `stratreg limits set`: a JSON file
 * checked against the protocol's RiskLimitsSchema before anything is sent, so
 * a typo is named with its place in the file rather than as a field of the
 * request. The check walks the schema itself (the JSON Schema that TypeBox
 * builds), so it follows the protocol as it grows; a keyword it does not know
 * is left to the guard, which validates every request anyway.
 */
import { type RiskLimits, RiskLimitsSchema } from "@stratreg/protocol";
import { CliError } from "../errors.js";
import { isJsonObject, readText } from "../input.js";
import { type LimitPath, pathText } from "./format.js";

/** The part of JSON Schema the protocol's limits use. */
interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  maxProperties?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

function where(path: LimitPath): string {
  return path.length === 0 ? "the limits" : pathText(path);
}

/** The first problem of `value` against `schema`, in words naming where it is; undefined when there is none. */
export function schemaProblem(schema: Schema, value: unknown, path: LimitPath = []): string | undefined {
  switch (schema.type) {
    case "object": {
      if (!isJsonObject(value)) return `${where(path)} must be an object, not ${kindOf(value)}`;
      for (const key of schema.required ?? []) {
        if (!(key in value)) return `${pathText([...path, key])} is required`;
      }
      const keys = Object.keys(value);
      if (schema.maxProperties !== undefined && keys.length > schema.maxProperties) {
        return `${where(path)} has ${keys.length} entries, more than the ${schema.maxProperties} allowed`;
      }
      for (const key of keys) {
        const inner = [...path, key];
        let sub = schema.properties?.[key];
        if (sub === undefined) {
          const pattern = Object.entries(schema.patternProperties ?? {}).find(([p]) => new RegExp(p, "u").test(key));
          sub = pattern?.[1];
        }
        if (sub === undefined) {
          if (schema.additionalProperties === false) {
            const known = Object.keys(schema.properties ?? {});
            return `${pathText(inner)} is not a known field${known.length === 0 ? "" : ` (known here: ${known.join(", ")})`}`;
          }
          if (typeof schema.additionalProperties === "object") sub = schema.additionalProperties;
        }
        const problem = sub === undefined ? undefined : schemaProblem(sub, value[key], inner);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    case "number":
    case "integer": {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        return `${where(path)} must be a number, not ${kindOf(value)}`;
      }
      if (schema.type === "integer" && !Number.isInteger(value)) {
        return `${where(path)} must be a whole number, not ${value}`;
      }
      if (schema.minimum !== undefined && value < schema.minimum) {
        return `${where(path)} must be at least ${schema.minimum}, not ${value}`;
      }
      if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) {
        return `${where(path)} must be more than ${schema.exclusiveMinimum}, not ${value}`;
      }
      if (schema.maximum !== undefined && value > schema.maximum) {
        return `${where(path)} must be at most ${schema.maximum}, not ${value}`;
      }
      if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) {
        return `${where(path)} must be less than ${schema.exclusiveMaximum}, not ${value}`;
      }
      return undefined;
    }
    case "string": {
      if (typeof value !== "string") return `${where(path)} must be a string, not ${kindOf(value)}`;
      if (schema.minLength !== undefined && value.length < schema.minLength) {
        return `${where(path)} must have at least ${schema.minLength} characters`;
      }
      if (schema.maxLength !== undefined && value.length > schema.maxLength) {
        return `${where(path)} must have at most ${schema.maxLength} characters`;
      }
      if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value)) {
        return `${where(path)} must match ${schema.pattern}`;
      }
      return undefined;
    }
    case "boolean":
      return typeof value === "boolean" ? undefined : `${where(path)} must be true or false, not ${kindOf(value)}`;
    default:
      // Unions and anything else: the guard decides.
      return undefined;
  }
}

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
  const problem = schemaProblem(RiskLimitsSchema as Schema, value);
  if (problem !== undefined) throw new CliError(`${name}: ${problem}`);
  return value as RiskLimits;
}

/** Reads and checks the limits in `path` (`-`: stdin). */
export async function readLimitsFile(path: string): Promise<RiskLimits> {
  return parseLimits(await readText(path), path === "-" ? "stdin" : path);
}
