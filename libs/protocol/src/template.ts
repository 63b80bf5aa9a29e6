/**
 * Strategy templates: reusable, versioned strategy patterns with a parameter
 * schema (types, ranges, enums, defaults, required and risk parameters) and
 * best-practice rules between parameters. Instantiating a template checks the
 * caller's parameters against the version used and registers a strategy whose
 * `template` is `{ id, version, params }` with the defaults filled in.
 *
 * The schemas here check shape (types, lengths, unknown fields) at the edge;
 * template-check.ts checks what a schema cannot (a default outside its range, a
 * rule naming an unknown parameter) and an instance's parameters, naming every
 * violation.
 */
import { type Static, Type } from "@sinclair/typebox";
import { Limits, ParamValueSchema, StrategyIdSchema } from "./strategy.js";

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
