/**
 * The checks of templates that a schema cannot make: a template definition's
 * soundness ({@link checkTemplate}) and an instance's parameters against its
 * template version ({@link templateParamViolations}, {@link resolveTemplateParams}),
 * each naming every violation by field. Pure functions: the shard runs them at
 * the edge, the CLI before it sends a template, the lifecycle when it re-checks
 * an instance.
 */
import type { TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { type ErrorCode, ErrorCodes, ValidationError } from "./errors.js";
import { Limits, type Params, type ParamValue } from "./strategy.js";
import {
  type RuleOp,
  RuleOps,
  TEMPLATE_PARAM_NAME_PATTERN,
  type TemplateInput,
  TemplateInputSchema,
  type TemplateParamSpec,
  type TemplateParamType,
  TemplateParamTypes,
  type TemplateRule,
} from "./template.js";
import { validationErrorOf } from "./validate.js";

const ORDERING_OPS: ReadonlySet<RuleOp> = new Set<RuleOp>([
  RuleOps.Less,
  RuleOps.LessOrEqual,
  RuleOps.Greater,
  RuleOps.GreaterOrEqual,
]);

/** One problem with a template definition or with an instance's parameters. */
export interface TemplateViolation {
  /** Path of the offending field, from the template (`params.lookback.default`) or the instance (`params.lookback`). */
  field: string;
  code: ErrorCode;
  message: string;
}

function typeName(value: ParamValue): string {
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** Whether `value` is of parameter type `type`. */
export function isOfParamType(type: TemplateParamType, value: unknown): value is ParamValue {
  switch (type) {
    case TemplateParamTypes.Number:
      return typeof value === "number" && Number.isFinite(value);
    case TemplateParamTypes.Integer:
      return typeof value === "number" && Number.isSafeInteger(value);
    case TemplateParamTypes.String:
      return typeof value === "string";
    case TemplateParamTypes.Boolean:
      return typeof value === "boolean";
  }
}

const isNumeric = (type: TemplateParamType) =>
  type === TemplateParamTypes.Number || type === TemplateParamTypes.Integer;

const show = (value: unknown) => JSON.stringify(value);

/** What is wrong with `value` against one parameter's spec (type, length, range, enum), or undefined. */
function valueProblem(spec: TemplateParamSpec, value: ParamValue): string | undefined {
  if (!isOfParamType(spec.type, value)) {
    return `must be ${spec.type === TemplateParamTypes.Integer ? "an integer" : `a ${spec.type}`} (got ${typeof value === "number" && !Number.isFinite(value) ? String(value) : `${typeName(value)} ${show(value)}`})`;
  }
  if (typeof value === "string" && value.length > Limits.paramStringMaxLength) {
    return `must be at most ${Limits.paramStringMaxLength} characters (got ${value.length})`;
  }
  if (typeof value === "number") {
    if (spec.min !== undefined && value < spec.min) return `must be at least ${spec.min} (got ${value})`;
    if (spec.max !== undefined && value > spec.max) return `must be at most ${spec.max} (got ${value})`;
  }
  if (spec.enum !== undefined && !spec.enum.includes(value)) {
    return `must be one of ${spec.enum.map(show).join(", ")} (got ${show(value)})`;
  }
  return undefined;
}

function compare(op: RuleOp, a: ParamValue, b: ParamValue): boolean {
  switch (op) {
    case RuleOps.Less:
      return a < b;
    case RuleOps.LessOrEqual:
      return a <= b;
    case RuleOps.Greater:
      return a > b;
    case RuleOps.GreaterOrEqual:
      return a >= b;
    case RuleOps.Equal:
      return a === b;
    case RuleOps.NotEqual:
      return a !== b;
  }
}

/**
 * The rules broken by `values` (rules whose parameters have no value, or a bad one
 * listed in `skip`, are not checked), each as a violation of its `param`.
 */
function ruleViolations(
  rules: readonly TemplateRule[],
  values: Readonly<Record<string, ParamValue>>,
  skip: ReadonlySet<string>,
  prefix: string,
): TemplateViolation[] {
  const out: TemplateViolation[] = [];
  for (const rule of rules) {
    const left = Object.hasOwn(values, rule.param) ? values[rule.param] : undefined;
    const otherValue = rule.other === undefined || !Object.hasOwn(values, rule.other) ? undefined : values[rule.other];
    const right = rule.other === undefined ? rule.value : otherValue;
    if (left === undefined || right === undefined || skip.has(rule.param)) continue;
    if (rule.other !== undefined && skip.has(rule.other)) continue;
    if (compare(rule.op, left, right)) continue;
    const against = rule.other === undefined ? show(right) : `${rule.other} (${show(right)})`;
    out.push({
      field: `${prefix}${rule.param}`,
      code: ErrorCodes.InvalidField,
      message: `${rule.message}: ${rule.param} (${show(left)}) must be ${rule.op} ${against}`,
    });
  }
  return out;
}

/**
 * Problems with a template definition that its schema cannot see, in the order
 * of its parameters, then its rules: a parameter name that is not an identifier;
 * `min`, `max` on a non-number or `min > max`; an enum value of the wrong type,
 * repeated, or outside the range; a default of the wrong type, outside the range
 * or enum, or next to `required`; a risk parameter that is not a number bounded
 * by `min` and `max`; a rule naming an unknown parameter, comparing across types,
 * ordering non-numbers, with both or neither of `value` and `other`; and a rule
 * the defaults break. Empty when the template is sound. Fields are paths in the
 * template (`params.stopLoss.max`, `rules[0].other`).
 */
export function checkTemplate(input: Pick<TemplateInput, "params" | "rules">): TemplateViolation[] {
  const out: TemplateViolation[] = [];
  const invalid = (field: string, message: string) =>
    out.push({ field, code: ErrorCodes.InvalidField, message: `${field} ${message}` });
  const params = input.params;
  for (const [name, spec] of Object.entries(params)) {
    const at = `params.${name}`;
    if (!TEMPLATE_PARAM_NAME_PATTERN.test(name)) {
      invalid(at, "is not a valid parameter name: use 1-64 of [A-Za-z0-9_], not starting with a digit");
    }
    const numeric = isNumeric(spec.type);
    if (!numeric && spec.min !== undefined) invalid(`${at}.min`, `applies to numbers only, not a ${spec.type}`);
    if (!numeric && spec.max !== undefined) invalid(`${at}.max`, `applies to numbers only, not a ${spec.type}`);
    if (numeric && spec.min !== undefined && spec.max !== undefined && spec.min > spec.max) {
      invalid(`${at}.min`, `(${spec.min}) is above max (${spec.max})`);
    }
    if (spec.type === TemplateParamTypes.Integer) {
      if (spec.min !== undefined && !Number.isSafeInteger(spec.min)) invalid(`${at}.min`, "must be an integer");
      if (spec.max !== undefined && !Number.isSafeInteger(spec.max)) invalid(`${at}.max`, "must be an integer");
    }
    if (spec.enum !== undefined) {
      if (spec.type === TemplateParamTypes.Boolean) invalid(`${at}.enum`, "does not apply to a boolean");
      const seen = new Set<ParamValue>();
      spec.enum.forEach((value, i) => {
        const problem = valueProblem({ ...spec, enum: undefined }, value);
        if (problem !== undefined) invalid(`${at}.enum[${i}]`, problem);
        if (seen.has(value)) invalid(`${at}.enum[${i}]`, `repeats ${show(value)}`);
        seen.add(value);
      });
    }
    if (spec.default !== undefined) {
      const problem = valueProblem(spec, spec.default);
      if (problem !== undefined) invalid(`${at}.default`, problem);
      if (spec.required === true) {
        invalid(`${at}.required`, "and a default contradict each other: a required parameter is the caller's to give");
      }
    }
    if (spec.risk === true) {
      if (!numeric) invalid(`${at}.risk`, `needs a number or integer parameter, not a ${spec.type}`);
      else if (spec.min === undefined || spec.max === undefined) {
        invalid(`${at}.risk`, "needs a range: a risk parameter has both min and max");
      }
    }
  }
  const rules = input.rules ?? [];
  rules.forEach((rule, i) => {
    const at = `rules[${i}]`;
    const spec = Object.hasOwn(params, rule.param) ? params[rule.param] : undefined;
    if (spec === undefined) invalid(`${at}.param`, `names no parameter of the template (${show(rule.param)})`);
    if ((rule.value === undefined) === (rule.other === undefined)) {
      invalid(at, "needs exactly one of value and other");
      return;
    }
    if (rule.other !== undefined) {
      const other = Object.hasOwn(params, rule.other) ? params[rule.other] : undefined;
      if (other === undefined) invalid(`${at}.other`, `names no parameter of the template (${show(rule.other)})`);
      else if (rule.other === rule.param) invalid(`${at}.other`, "compares a parameter with itself");
      else if (spec !== undefined && spec.type !== other.type && !(isNumeric(spec.type) && isNumeric(other.type))) {
        invalid(`${at}.other`, `compares a ${spec.type} with a ${other.type}`);
      }
    } else if (spec !== undefined && rule.value !== undefined && !isOfParamType(spec.type, rule.value)) {
      const integerAsNumber = spec.type === TemplateParamTypes.Integer && isOfParamType("number", rule.value);
      if (!integerAsNumber)
        invalid(`${at}.value`, `must be a ${spec.type} like ${rule.param} (got ${show(rule.value)})`);
    }
    if (spec !== undefined && ORDERING_OPS.has(rule.op) && !isNumeric(spec.type)) {
      invalid(`${at}.op`, `${rule.op} orders numbers only; ${rule.param} is a ${spec.type}`);
    }
  });
  if (out.length === 0) {
    // Rules over parameters that all have defaults must hold for the defaults.
    const defaults: Record<string, ParamValue> = {};
    for (const [name, spec] of Object.entries(params)) if (spec.default !== undefined) defaults[name] = spec.default;
    rules.forEach((rule, i) => {
      for (const broken of ruleViolations([rule], defaults, new Set(), "")) {
        out.push({
          field: `rules[${i}]`,
          code: ErrorCodes.InvalidField,
          message: `rules[${i}] is broken by the defaults: ${broken.message}`,
        });
      }
    });
  }
  return out;
}

/**
 * An instance's parameters checked against a template: `params` with the
 * defaults filled in, and every violation, in the template's parameter order,
 * then parameters the template does not define, then broken rules. Values are
 * checked after the defaults are applied. A parameter is MISSING_FIELD when it is
 * `required` and not given, or `risk` and has neither a value nor a default;
 * UNKNOWN_FIELD when the template does not define it; INVALID_FIELD for a wrong
 * type, a value outside the range or enum, and each broken rule (named by the
 * rule's `param`). Rules over a parameter without a value, or with a bad one, are
 * not checked. Fields are `params.<name>`.
 */
export function templateParamViolations(
  template: Pick<TemplateInput, "params" | "rules">,
  given: Readonly<Record<string, ParamValue>> = {},
): { params: Params; violations: TemplateViolation[] } {
  const params: Params = {};
  const violations: TemplateViolation[] = [];
  const bad = new Set<string>();
  const add = (name: string, code: ErrorCode, message: string) => {
    bad.add(name);
    violations.push({ field: `params.${name}`, code, message: `params.${name} ${message}` });
  };
  for (const [name, spec] of Object.entries(template.params)) {
    const supplied = Object.hasOwn(given, name) ? given[name] : undefined;
    if (supplied === undefined && spec.required === true) {
      add(name, ErrorCodes.MissingField, "is required");
      continue;
    }
    const value = supplied ?? spec.default;
    if (value === undefined) {
      if (spec.risk === true) add(name, ErrorCodes.MissingField, "is a risk parameter: every instance must set it");
      continue;
    }
    const problem = valueProblem(spec, value);
    if (problem !== undefined) add(name, ErrorCodes.InvalidField, problem);
    else params[name] = value;
  }
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(template.params, name)) add(name, ErrorCodes.UnknownField, "is not a parameter of the template");
  }
  violations.push(...ruleViolations(template.rules ?? [], params, bad, "params."));
  return { params, violations };
}

/** A ValidationError for `violations` (at least one): the first one's code and field, all of them in `details.violations`. */
export function templateViolationError(
  violations: readonly TemplateViolation[],
  what: string,
  prefix = "",
  details: Record<string, unknown> = {},
): ValidationError {
  const listed = violations.map((v) => ({ ...v, field: `${prefix}${v.field}` }));
  const first = listed[0];
  if (first === undefined) throw new TypeError("templateViolationError needs a violation");
  const rest = listed.slice(1).map((v) => v.field);
  const more = rest.length === 0 ? "" : ` (and ${rest.length} more: ${rest.join(", ")})`;
  return new ValidationError(first.code, `${what}: ${first.message}${more}`, {
    field: first.field,
    details: { ...details, violations: listed },
  });
}

/**
 * The parameters of an instance of `template`, defaults filled in; throws a
 * ValidationError naming the first bad parameter (`params.<name>`) with every
 * violation in `details.violations` (see {@link templateParamViolations}).
 */
export function resolveTemplateParams(
  template: Pick<TemplateInput, "params" | "rules"> & { id?: string; version?: number },
  given: Readonly<Record<string, ParamValue>> = {},
): { params: Params } {
  const { params, violations } = templateParamViolations(template, given);
  if (violations.length > 0) {
    const name = template.id === undefined ? "the template" : `template ${template.id}`;
    const version = template.version === undefined ? "" : ` v${template.version}`;
    const details: Record<string, unknown> = {};
    if (template.id !== undefined) details.template = template.id;
    if (template.version !== undefined) details.version = template.version;
    throw templateViolationError(violations, `parameters break ${name}${version}`, "", details);
  }
  return { params };
}

let inputCheck: TypeCheck<TSchema> | undefined;

/**
 * Why `value` is not a sound template definition, or undefined when it is one:
 * first its schema (the first problem, as every edge check names it), then
 * {@link checkTemplate} (every problem, in `details.violations`). Fields are
 * paths in the template (`params.lookback.min`). What a put checks, for tools
 * that check a template file before sending it.
 */
export function templateInputError(value: unknown): ValidationError | undefined {
  inputCheck ??= TypeCompiler.Compile(TemplateInputSchema);
  if (!inputCheck.Check(value)) return validationErrorOf(inputCheck, value);
  const violations = checkTemplate(value as TemplateInput);
  return violations.length === 0 ? undefined : templateViolationError(violations, "unsound template");
}
