/**
 * The template commands' pure parts: templates as text (a list, one template with
 * its parameter table and rules), the violations of an error one per line, and
 * `--param name=value` arguments typed by the template's own parameter specs.
 */
import type { Template, TemplateParamSpec, TemplateSummary, TemplateViolation } from "@stratreg/client";
import type { ParamValue } from "@stratreg/protocol";
import { CliError } from "../errors.js";
import { formatTable } from "../format.js";

const dash = (text: string | undefined | null) => (text === undefined || text === null || text === "" ? "-" : text);
const when = (ms: number) => new Date(ms).toISOString();

/** The list as a table: id, latest version, name, family, parameters (risk ones marked `!`), created. */
export function templateListLines(templates: readonly TemplateSummary[]): string[] {
  if (templates.length === 0) return ["no templates"];
  const rows = templates.map((t) => [
    t.id,
    String(t.version),
    t.name,
    dash(t.family),
    t.params.map((name) => (t.riskParams.includes(name) ? `${name}!` : name)).join(", "),
    `${when(t.createdAt)}${t.createdBy === null ? "" : ` by ${t.createdBy}`}`,
  ]);
  return formatTable(
    [["ID", "VERSION", "NAME", "FAMILY", "PARAMS (! risk)", "CREATED"], ...rows],
    ["left", "right", "left", "left", "left", "left"],
  );
}

function rangeText(spec: TemplateParamSpec): string {
  if (spec.min === undefined && spec.max === undefined) return "-";
  return `${spec.min ?? "…"} to ${spec.max ?? "…"}`;
}

function flagsText(spec: TemplateParamSpec): string {
  const flags: string[] = [];
  if (spec.required === true) flags.push("required");
  if (spec.risk === true) flags.push("risk");
  return flags.length === 0 ? "-" : flags.join(", ");
}

/** One template: its fields, a table of its parameters, and its rules. */
export function templateLines(template: Template): string[] {
  const fields: Array<[string, string]> = [
    ["id", template.id],
    ["version", String(template.version)],
    ["name", template.name],
    ["family", dash(template.family)],
    ["tags", template.tags === undefined || template.tags.length === 0 ? "-" : template.tags.join(", ")],
    ["description", dash(template.description)],
    ["created", `${when(template.createdAt)}${template.createdBy === undefined ? "" : ` by ${template.createdBy}`}`],
  ];
  const width = Math.max(...fields.map(([key]) => key.length)) + 1;
  const lines = fields.map(([key, value]) => `${`${key}:`.padEnd(width)} ${value}`);
  lines.push("parameters:");
  const rows = Object.entries(template.params).map(([name, spec]) => [
    name,
    spec.type,
    spec.default === undefined ? "-" : JSON.stringify(spec.default),
    rangeText(spec),
    spec.enum === undefined ? "-" : spec.enum.map((v) => JSON.stringify(v)).join(" | "),
    flagsText(spec),
    dash(spec.description),
  ]);
  const table = formatTable([["NAME", "TYPE", "DEFAULT", "RANGE", "ONE OF", "FLAGS", "DESCRIPTION"], ...rows]);
  for (const line of table) lines.push(`  ${line}`);
  const rules = template.rules ?? [];
  lines.push(rules.length === 0 ? "rules: -" : "rules:");
  for (const rule of rules) {
    const against = rule.other ?? JSON.stringify(rule.value);
    lines.push(`  ${rule.param} ${rule.op} ${against}: ${rule.message}`);
  }
  return lines;
}

/** The violations an error lists in `details.violations`, one line each: `  field: CODE message`. */
export function violationLines(details: Record<string, unknown> | undefined): string[] {
  const violations = details?.violations;
  if (!Array.isArray(violations)) return [];
  return (violations as TemplateViolation[]).map((v) => `  ${v.field}: ${v.code} ${v.message}`);
}

/**
 * `--param name=value` arguments as parameter values, typed by the template's specs:
 * a number or integer parameter takes a number, a boolean `true` or `false`. A value
 * that does not read as its type is sent as the text given (the registry then names
 * it, with every other problem); so is a name the template does not define.
 */
export function paramsFromArgs(args: readonly string[], specs: Readonly<Record<string, TemplateParamSpec>>) {
  const params: Record<string, ParamValue> = {};
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw new CliError(`--param needs name=value (got ${JSON.stringify(arg)})`);
    const name = arg.slice(0, eq);
    const text = arg.slice(eq + 1);
    if (Object.hasOwn(params, name)) throw new CliError(`--param ${name} is given twice`);
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    params[name] = typed(spec, text);
  }
  return params;
}

function typed(spec: TemplateParamSpec | undefined, text: string): ParamValue {
  switch (spec?.type) {
    case "number":
    case "integer": {
      const value = Number(text);
      return text.trim() !== "" && Number.isFinite(value) ? value : text;
    }
    case "boolean":
      return text === "true" ? true : text === "false" ? false : text;
    default:
      return text;
  }
}

/** `mean-reversion` → the latest version; `mean-reversion@2` → version 2 (template ids hold no `@`). */
export function parseTemplateRef(ref: string): { id: string; version?: number } {
  const at = ref.lastIndexOf("@");
  if (at < 0) return { id: ref };
  const version = Number(ref.slice(at + 1));
  if (at === 0 || !/^[1-9]\d*$/.test(ref.slice(at + 1)) || !Number.isSafeInteger(version)) {
    throw new CliError(`${JSON.stringify(ref)} is not a template: use <id> or <id>@<version>, e.g. mean-reversion@2`);
  }
  return { id: ref.slice(0, at), version };
}
