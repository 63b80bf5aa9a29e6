/**
 * Strategy templates: reusable, versioned strategy patterns with a parameter
 * schema (types, ranges, enums, defaults, required and risk parameters) and
 * best-practice rules between parameters. Instantiating a template checks the
 * caller's parameters against the version used and registers a strategy whose
 * `template` is `{ id, version, params }` with the defaults filled in.
 *
 * The schemas here check shape (types, lengths, unknown fields) at the edge;
 * {@link checkTemplate} checks what a schema cannot (a default outside its
 * range, a rule naming an unknown parameter), and {@link templateParamViolations}
 * checks an instance's parameters, naming every violation.
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { type ErrorCode, ErrorCodes, ValidationError } from "./errors.js";
import { Limits, type Params, type ParamValue, ParamValueSchema, StrategyIdSchema } from "./strategy.js";
import { validationErrorOf } from "./validate.js";

/** Size limits of a template. */
export const TemplateLimits = {
  idMaxLength: 128,
  paramsMax: Limits.paramsMax,
  paramNameMaxLength: 64,
  paramDescriptionMaxLength: 500,
  enumMax: 64,
  rulesMax: 64,
  ruleMessageMaxLength: 500,
  /** The largest stored template (msgpack bytes): a template travels whole in every get and instantiate. */
  bytesMax: 64 * 1024,
  /** Most templates one list page holds. */
  listMax: 1000,
} as const;

/**
 * Template ids: 1-128 of `[A-Za-z0-9_-]`, starting with a letter or digit. Narrower
 * than a strategy's family or owner label because an id is part of a KV key
 * (`<id>.<version>`), where dots separate tokens and most punctuation is not allowed.
 */
export const TEMPLATE_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_-]*$";

/** Parameter names: identifiers of 1-64 characters. */
export const TEMPLATE_PARAM_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A template id. */
export const TemplateIdSchema = Type.String({
  minLength: 1,
  maxLength: TemplateLimits.idMaxLength,
  pattern: TEMPLATE_ID_PATTERN,
});

/** The types a template parameter may have. */
export const TemplateParamTypes = {
  Number: "number",
  Integer: "integer",
  String: "string",
  Boolean: "boolean",
} as const;
export type TemplateParamType = (typeof TemplateParamTypes)[keyof typeof TemplateParamTypes];

/** Comparison operators of a best-practice rule. */
export const RuleOps = {
  Less: "<",
  LessOrEqual: "<=",
  Greater: ">",
  GreaterOrEqual: ">=",
  Equal: "==",
  NotEqual: "!=",
} as const;
export type RuleOp = (typeof RuleOps)[keyof typeof RuleOps];

const ORDERING_OPS: ReadonlySet<RuleOp> = new Set<RuleOp>([
  RuleOps.Less,
  RuleOps.LessOrEqual,
  RuleOps.Greater,
  RuleOps.GreaterOrEqual,
]);

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

/** One parameter of a template. */
export const TemplateParamSpecSchema = Type.Object(
  {
    type: literals(Object.values(TemplateParamTypes)),
    description: Type.Optional(Type.String({ maxLength: TemplateLimits.paramDescriptionMaxLength })),
    /** Smallest allowed value (numbers), inclusive. */
    min: Type.Optional(Type.Number()),
    /** Largest allowed value (numbers), inclusive. */
    max: Type.Optional(Type.Number()),
    /** The only values allowed (numbers or strings). */
    enum: Type.Optional(Type.Array(ParamValueSchema, { minItems: 1, maxItems: TemplateLimits.enumMax })),
    /** Used when the caller gives no value. */
    default: Type.Optional(ParamValueSchema),
    /** The caller must give a value (so no default). */
    required: Type.Optional(Type.Boolean()),
    /**
     * A risk parameter (a stop-loss, a position cap): every instance has a value,
     * the caller's or the default, and the template bounds it with `min` and `max`.
     */
    risk: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type TemplateParamSpec = Static<typeof TemplateParamSpecSchema>;

/**
 * A best-practice rule: `params[param] <op> value`, or `params[param] <op> params[other]`
 * (exactly one of `value` and `other`). `message` says why, in the template author's words.
 */
export const TemplateRuleSchema = Type.Object(
  {
    param: Type.String({ minLength: 1, maxLength: TemplateLimits.paramNameMaxLength }),
    op: literals(Object.values(RuleOps)),
    value: Type.Optional(ParamValueSchema),
    other: Type.Optional(Type.String({ minLength: 1, maxLength: TemplateLimits.paramNameMaxLength })),
    message: Type.String({ minLength: 1, maxLength: TemplateLimits.ruleMessageMaxLength }),
  },
  { additionalProperties: false },
);
export type TemplateRule = Static<typeof TemplateRuleSchema>;

const Label = Type.String({ minLength: 1, maxLength: Limits.labelMaxLength });

/** What an operator puts: a template definition. Each put of an id stores its next version. */
export const TemplateInputSchema = Type.Object(
  {
    id: TemplateIdSchema,
    name: Type.String({ minLength: 1, maxLength: Limits.nameMaxLength }),
    description: Type.Optional(Type.String({ maxLength: Limits.descriptionMaxLength })),
    /** The family of instances that name none. */
    family: Type.Optional(Label),
    /** The tags of instances that give none. */
    tags: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: Limits.tagMaxLength }), { maxItems: Limits.tagsMax }),
    ),
    // Names are checked by checkTemplate (INVALID_FIELD naming the parameter), not by the key pattern
    // (which TypeBox would report as an unknown field).
    params: Type.Record(Type.String({ pattern: "^[\\s\\S]{1,64}$" }), TemplateParamSpecSchema, {
      minProperties: 1,
      maxProperties: TemplateLimits.paramsMax,
      additionalProperties: false,
    }),
    rules: Type.Optional(Type.Array(TemplateRuleSchema, { maxItems: TemplateLimits.rulesMax })),
  },
  { additionalProperties: false },
);
export type TemplateInput = Static<typeof TemplateInputSchema>;

/** A stored template version: the definition as put, and what the registry added. */
export interface Template extends TemplateInput {
  /** 1 for the first put of the id, then 2, 3, …; a version never changes. */
  version: number;
  /** When it was stored, ms since the Unix epoch (the storing shard's clock). */
  createdAt: number;
  /** Who put it (the operator's name), when the put said. */
  createdBy?: string;
}

/** One template in a list: its latest version, without the parameter specs. */
export interface TemplateSummary {
  id: string;
  /** The latest version. */
  version: number;
  name: string;
  description: string;
  family: string | null;
  tags: string[];
  /** The parameter names, in the template's order. */
  params: string[];
  /** The names of the risk parameters. */
  riskParams: string[];
  createdAt: number;
  createdBy: string | null;
}

/** The summary of a template version, for lists. */
export function templateSummary(template: Template): TemplateSummary {
  const names = Object.keys(template.params);
  return {
    id: template.id,
    version: template.version,
    name: template.name,
    description: template.description ?? "",
    family: template.family ?? null,
    tags: template.tags ?? [],
    params: names,
    riskParams: names.filter((name) => template.params[name]?.risk === true),
    createdAt: template.createdAt,
    createdBy: template.createdBy ?? null,
  };
}

/** Operations any registry shard answers: `<cluster>.templates.<op>` (queue group). */
export const TemplateOps = {
  /** A page of templates, the latest version of each. */
  List: "list",
  /** One template, its latest version or a given one. */
  Get: "get",
  /** Check parameters against a template version and register the strategy. */
  Instantiate: "instantiate",
} as const;
export type TemplateOp = (typeof TemplateOps)[keyof typeof TemplateOps];

/** Operations only operators may send: `<cluster>.control.templates.<op>`. */
export const TemplateControlOps = {
  /** Store the next version of a template. */
  Put: "put",
} as const;
export type TemplateControlOp = (typeof TemplateControlOps)[keyof typeof TemplateControlOps];

/** The strategy fields an instantiation takes from the caller; the rest come from the template. */
export const InstanceStrategySchema = Type.Object(
  {
    id: StrategyIdSchema,
    name: Type.String({ minLength: 1, maxLength: Limits.nameMaxLength }),
    owner: Label,
    description: Type.Optional(Type.String({ maxLength: Limits.descriptionMaxLength })),
    /** Default: the template's tags. */
    tags: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: Limits.tagMaxLength }), { maxItems: Limits.tagsMax }),
    ),
    /** Default: the template's family; nil for none. */
    family: Type.Optional(Type.Union([Label, Type.Null()])),
  },
  { additionalProperties: false },
);
export type InstanceStrategy = Static<typeof InstanceStrategySchema>;

/** Parameter values an instantiation gives (names are checked against the template, not here). */
export const InstanceParamsSchema = Type.Record(Type.String({ pattern: "^[\\s\\S]{1,64}$" }), ParamValueSchema, {
  maxProperties: Limits.paramsMax,
  additionalProperties: false,
});

/** Request bodies of the template operations any shard answers. */
export const TemplateRequestBodies = {
  [TemplateOps.List]: Type.Object(
    {
      /** The id after which the page starts (ids in code-unit order). */
      cursor: Type.Optional(Type.Union([TemplateIdSchema, Type.Null()])),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: TemplateLimits.listMax })),
    },
    { additionalProperties: false },
  ),
  [TemplateOps.Get]: Type.Object(
    { id: TemplateIdSchema, version: Type.Optional(Type.Integer({ minimum: 1 })) },
    { additionalProperties: false },
  ),
  [TemplateOps.Instantiate]: Type.Object(
    {
      template: TemplateIdSchema,
      /** Default: the latest version. */
      version: Type.Optional(Type.Integer({ minimum: 1 })),
      strategy: InstanceStrategySchema,
      params: Type.Optional(InstanceParamsSchema),
    },
    { additionalProperties: false },
  ),
} as const;

/** Request bodies of the operators' template operations. */
export const TemplateControlBodies = {
  [TemplateControlOps.Put]: Type.Object(
    {
      template: TemplateInputSchema,
      /** The latest version the writer saw (0: the id must be new); CONFLICT if another put came first. */
      expectedVersion: Type.Optional(Type.Integer({ minimum: 0 })),
      /** Who puts it (recorded as `createdBy`). */
      by: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    },
    { additionalProperties: false },
  ),
} as const;

export type TemplateListRequest = Static<(typeof TemplateRequestBodies)[typeof TemplateOps.List]>;
export type TemplateGetRequest = Static<(typeof TemplateRequestBodies)[typeof TemplateOps.Get]>;
export type InstantiateRequest = Static<(typeof TemplateRequestBodies)[typeof TemplateOps.Instantiate]>;
export type TemplatePutRequest = Static<(typeof TemplateControlBodies)[typeof TemplateControlOps.Put]>;

/** What `list` answers. */
export interface TemplateListReply {
  templates: TemplateSummary[];
  /** Where the next page starts; nil on the last page. */
  nextCursor: string | null;
}

/** What `get` and `put` answer. */
export interface TemplateReply {
  template: Template;
}

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
