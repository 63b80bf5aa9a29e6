/**
 * The template endpoints every shard serves in a queue group (any shard answers):
 * `<cluster>.templates.{list,get,instantiate}` for anyone, and
 * `<cluster>.control.templates.put` for operators (the server's permissions keep
 * everyone else off control subjects). Requests are validated at the edge like
 * every stratreg request; a bad one is an error reply and the shard serves on.
 *
 * Instantiation checks the parameters against the template version, then sends
 * the ordinary register request to the partition that owns the strategy id,
 * with the caller's command id and issue time: the partition de-duplicates it,
 * so a retried instantiation registers once and answers the first reply.
 */
import type { Service } from "@nats-io/services";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import type { TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { StratregClient } from "@stratreg/client";
import { type Replies, replies } from "@stratreg/process";
import {
  type ClusterSubjects,
  checkTemplate,
  DEADLINE_MS_MAX,
  ErrorCodes,
  encode,
  errorFromWire,
  type InstantiateRequest,
  PROTOCOL_VERSION,
  parseWith,
  requestEnvelopeSchema,
  type Strategy,
  type StrategyInput,
  StratregError,
  TemplateControlBodies,
  type TemplateControlOp,
  TemplateControlOps,
  type TemplateGetRequest,
  type TemplateListReply,
  type TemplateListRequest,
  type TemplateOp,
  TemplateOps,
  type TemplatePutRequest,
  type TemplateReply,
  TemplateRequestBodies,
  templateParamViolations,
  templateSummary,
  templateViolationError,
  UnavailableError,
} from "@stratreg/protocol";
import type { Logger } from "pino";
import type { TemplateStore } from "./store.js";

/** Template requests a shard works on at once; past it, OVERLOADED at once. */
export const TEMPLATE_REQUESTS_IN_FLIGHT = 64;
/** How long an instantiation waits for the partition when the caller did not say (its `deadlineMs`). */
const DEFAULT_REGISTER_MS = 5000;
/** Bytes of a list reply kept for the envelope around the summaries. */
const LIST_REPLY_ALLOWANCE = 4096;

type Op = TemplateOp | TemplateControlOp;

/** A validated request. */
interface TemplateRequest<B> {
  v: number;
  cid?: string;
  issued?: number;
  deadlineMs?: number;
  body: B;
}

const BODIES: Record<Op, TSchema> = { ...TemplateRequestBodies, ...TemplateControlBodies };
/** Instantiation registers a strategy: like register, it needs `cid` and `issued`. */
const WRITES: ReadonlySet<Op> = new Set<Op>([TemplateOps.Instantiate]);
const checks = new Map<Op, TypeCheck<TSchema>>();

function checkFor(op: Op): TypeCheck<TSchema> {
  let check = checks.get(op);
  if (check === undefined) {
    check = TypeCompiler.Compile(requestEnvelopeSchema(BODIES[op], WRITES.has(op)));
    checks.set(op, check);
  }
  return check;
}

/** What the template endpoints need. */
export interface TemplateEndpointsOptions {
  nc: NatsConnection;
  subjects: ClusterSubjects;
  store: TemplateStore;
  /** The cluster's partition count, to route an instance's registration. */
  partitions: number;
  logger: Logger;
}

/** Template requests and their failures, for the shard's logs and tests. */
export class TemplateCounters {
  readonly requests: Partial<Record<Op, number>> = {};
  errors = 0;
  overloaded = 0;
  internalErrors = 0;
}

/** Answers the template operations. */
export class TemplateEndpoints {
  readonly counters = new TemplateCounters();
  private inFlight = 0;
  private readonly registry: StratregClient;
  private readonly maxReplyBytes: number;
  private readonly replies: Replies;

  private constructor(
    private readonly options: TemplateEndpointsOptions,
    registry: StratregClient,
  ) {
    this.registry = registry;
    this.replies = replies(options.logger, this.counters);
    this.maxReplyBytes = (options.nc.info?.max_payload ?? 1024 * 1024) - LIST_REPLY_ALLOWANCE;
    for (const op of Object.keys(BODIES) as Op[]) checkFor(op);
  }

  /** The endpoints of a shard of a cluster of `partitions` partitions. */
  static async create(options: TemplateEndpointsOptions): Promise<TemplateEndpoints> {
    const registry = await StratregClient.connect(options.nc, {
      cluster: options.subjects.cluster,
      partitions: options.partitions,
    });
    return new TemplateEndpoints(options, registry);
  }

  /** Adds the endpoints to the shard's service (queue group `q`, as `cluster-info`). */
  addTo(service: Service): void {
    const { subjects } = this.options;
    const add = (name: string, subject: string, op: Op) =>
      service.addEndpoint(name, {
        subject,
        queue: "q",
        handler: (err, msg) => {
          if (err === null) this.handle(op, msg);
        },
      });
    for (const op of Object.values(TemplateOps)) add(`templates-${op}`, subjects.templates(op), op);
    for (const op of Object.values(TemplateControlOps)) {
      add(`control-templates-${op}`, subjects.templatesControl(op), op);
    }
  }

  /** Validates and answers one request; never throws. */
  handle(op: Op, msg: Msg): void {
    const receivedAt = performance.now();
    const { respond, fail } = this.replies;
    this.counters.requests[op] = (this.counters.requests[op] ?? 0) + 1;
    if (this.inFlight >= TEMPLATE_REQUESTS_IN_FLIGHT) {
      fail(
        msg,
        op,
        new UnavailableError(ErrorCodes.Overloaded, "too many template requests at this shard; retry shortly", {
          details: { retryAfterMs: 50 },
        }),
      );
      return;
    }
    let work: Promise<unknown>;
    try {
      const request = parseWith<TemplateRequest<unknown>>(checkFor(op), msg.data);
      work = this.answer(op, request, receivedAt);
    } catch (err) {
      fail(msg, op, err);
      return;
    }
    this.inFlight++;
    work
      .then(
        (body) => respond(msg, encode({ v: PROTOCOL_VERSION, ok: true, body })),
        (err: unknown) => fail(msg, op, err),
      )
      .finally(() => {
        this.inFlight--;
      });
  }

  private answer(op: Op, request: TemplateRequest<unknown>, receivedAt: number): Promise<unknown> {
    switch (op) {
      case TemplateOps.List:
        return this.list(request.body as TemplateListRequest);
      case TemplateOps.Get:
        return this.get(request.body as TemplateGetRequest);
      case TemplateOps.Instantiate:
        return this.instantiate(request as TemplateRequest<InstantiateRequest>, receivedAt);
      case TemplateControlOps.Put:
        return this.put(request as TemplateRequest<TemplatePutRequest>);
    }
  }

  private async list(body: TemplateListRequest): Promise<TemplateListReply> {
    const page = await this.options.store.list({
      cursor: body.cursor,
      limit: body.limit,
      maxBytes: this.maxReplyBytes,
      size: (template) => encode(templateSummary(template)).length,
    });
    return { templates: page.templates.map(templateSummary), nextCursor: page.nextCursor };
  }

  private async get(body: TemplateGetRequest): Promise<TemplateReply> {
    return {
      template: await this.options.store
        .get(body.id, body.version)
        .catch(inBody({ id: "body.id", version: "body.version" })),
    };
  }

  private async put(request: TemplateRequest<TemplatePutRequest>): Promise<TemplateReply> {
    const { template: input, expectedVersion, by } = request.body;
    const problems = checkTemplate(input);
    if (problems.length > 0) {
      throw templateViolationError(problems, `template ${input.id} is unsound`, "body.template.");
    }
    const template = await this.options.store
      .put(input, { by, cid: request.cid, expectedVersion })
      .catch(inBody({ template: "body.template", expectedVersion: "body.expectedVersion" }));
    this.options.logger.info({ template: template.id, version: template.version, by }, "template stored");
    return { template };
  }

  private async instantiate(
    request: TemplateRequest<InstantiateRequest>,
    receivedAt: number,
  ): Promise<{
    strategy: Strategy;
  }> {
    const body = request.body;
    const template = await this.options.store
      .get(body.template, body.version)
      .catch(inBody({ id: "body.template", version: "body.version" }));
    const { params, violations } = templateParamViolations(template, body.params ?? {});
    if (violations.length > 0) {
      throw templateViolationError(
        violations,
        `parameters break template ${template.id} v${template.version}`,
        "body.",
        {
          template: template.id,
          version: template.version,
        },
      );
    }
    const { strategy } = body;
    const input: StrategyInput = {
      id: strategy.id,
      name: strategy.name,
      owner: strategy.owner,
      template: { id: template.id, version: template.version, params },
    };
    if (strategy.description !== undefined) input.description = strategy.description;
    const tags = strategy.tags ?? template.tags;
    if (tags !== undefined) input.tags = tags;
    const family = strategy.family !== undefined ? strategy.family : template.family;
    if (family !== undefined) input.family = family;
    // The caller's deadline, less what was spent here; the partition's reply, or its error, is the answer.
    const waited = performance.now() - receivedAt;
    const timeoutMs = Math.max(1, Math.min(request.deadlineMs ?? DEFAULT_REGISTER_MS, DEADLINE_MS_MAX) - waited);
    const registered = await this.registry.register(input, { cid: request.cid, issued: request.issued, timeoutMs });
    return { strategy: registered };
  }
}

/**
 * Rethrows the store's error naming the request's field: the store says `id`, `version`,
 * `expectedVersion`; the reply says where that is in the request (`body.template`).
 */
function inBody(fields: Record<string, string>): (err: unknown) => never {
  return (err) => {
    if (!(err instanceof StratregError) || err.field === undefined || !Object.hasOwn(fields, err.field)) throw err;
    throw errorFromWire({ ...err.toWire(), field: fields[err.field] });
  };
}
