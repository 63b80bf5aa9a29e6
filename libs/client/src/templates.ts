/**
 * Strategy templates from the SDK: list and read them, instantiate one (check the
 * parameters against a template version and register the strategy in one call),
 * and, for operators, put a new version. Any shard answers (a queue group), so
 * no partition count is needed, only the cluster name. Every call is retried with
 * the same payload until its deadline: an instantiation and a put carry a command
 * id, so a retry registers or stores once and answers the first reply.
 */
import { performance } from "node:perf_hooks";
import { type NatsConnection, nuid } from "@nats-io/transport-node";
import {
  type ClusterSubjects,
  clusterSubjects,
  DEADLINE_MS_MAX,
  DEFAULT_CLUSTER,
  encode,
  type InstanceStrategy,
  type ParamValue,
  PROTOCOL_VERSION,
  type Strategy,
  type Template,
  TemplateControlOps,
  type TemplateInput,
  type TemplateListReply,
  TemplateOps,
  type TemplateReply,
  type TemplateSummary,
} from "@stratreg/protocol";
import { callWithRetry, DEFAULT_RETRY, type RetryPolicy } from "./call.js";

/** Options of a {@link TemplatesClient}. */
export interface TemplatesClientOptions {
  /** Cluster name (the subject prefix). Default `stratreg`. */
  cluster?: string;
  /** Default deadline of a call, ms (5000). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

/** Options of one template call. */
export interface TemplateCallOptions {
  /** Deadline of this call, ms from now. */
  timeoutMs?: number;
}

/** Options of {@link TemplatesClient.put}. */
export interface PutTemplateOptions extends TemplateCallOptions {
  /** The latest version you saw (0: the id must be new): CONFLICT if another put came first. */
  expectedVersion?: number;
  /** Who puts it, recorded as `createdBy`. */
  by?: string;
  /** Command id; a fresh one when omitted. Send a put again with its id and it is stored once. */
  cid?: string;
}

/** What {@link TemplatesClient.instantiate} registers. */
export interface InstantiateOptions extends TemplateCallOptions {
  /** The template version; the latest when omitted. */
  version?: number;
  /** Command id; a fresh one when omitted. Reuse it (with `issued`) to retry by hand: it registers once. */
  cid?: string;
  /** When the command was first issued (ms since the Unix epoch); now when omitted. */
  issued?: number;
}

/** The template operations of a cluster. */
export class TemplatesClient {
  readonly subjects: ClusterSubjects;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;

  constructor(
    readonly nc: NatsConnection,
    options: TemplatesClientOptions = {},
  ) {
    this.subjects = clusterSubjects(options.cluster ?? DEFAULT_CLUSTER);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
  }

  private call<B>(
    subject: string,
    body: unknown,
    timeoutMs = this.timeoutMs,
    write?: { cid: string; issued?: number },
  ) {
    const envelope: Record<string, unknown> = { v: PROTOCOL_VERSION, body };
    if (write !== undefined) {
      envelope.cid = write.cid;
      if (write.issued !== undefined) envelope.issued = write.issued;
    }
    return callWithRetry<B>(
      this.nc,
      subject,
      (attemptMs) => {
        envelope.deadlineMs = Math.min(Math.max(1, Math.ceil(attemptMs)), DEADLINE_MS_MAX);
        return encode(envelope);
      },
      performance.now() + timeoutMs,
      this.retry,
    );
  }

  /** One page of templates in id order (the latest version of each), after `cursor`. */
  list(options: TemplateCallOptions & { cursor?: string | null; limit?: number } = {}): Promise<TemplateListReply> {
    const body: Record<string, unknown> = {};
    if (options.cursor != null) body.cursor = options.cursor;
    if (options.limit !== undefined) body.limit = options.limit;
    return this.call(this.subjects.templates(TemplateOps.List), body, options.timeoutMs);
  }

  /** Every template (the latest version of each), in id order. */
  async *listAll(options: TemplateCallOptions & { pageSize?: number } = {}): AsyncGenerator<TemplateSummary> {
    let cursor: string | null = null;
    do {
      const page: TemplateListReply = await this.list({ ...options, cursor, limit: options.pageSize ?? 500 });
      yield* page.templates;
      cursor = page.nextCursor;
    } while (cursor !== null);
  }

  /** The template `id`, its latest version or `version`; NotFoundError when there is none. */
  async get(id: string, version?: number, options: TemplateCallOptions = {}): Promise<Template> {
    const body: Record<string, unknown> = { id };
    if (version !== undefined) body.version = version;
    const reply = await this.call<TemplateReply>(this.subjects.templates(TemplateOps.Get), body, options.timeoutMs);
    return reply.template;
  }

  /**
   * Operators: stores the next version of `template.id` and returns it. ValidationError
   * (every problem in `details.violations`) for an unsound template; ConflictError when
   * `expectedVersion` is not the latest any more (`details.actual`).
   */
  async put(template: TemplateInput, options: PutTemplateOptions = {}): Promise<Template> {
    const body: Record<string, unknown> = { template };
    if (options.expectedVersion !== undefined) body.expectedVersion = options.expectedVersion;
    if (options.by !== undefined) body.by = options.by;
    const reply = await this.call<TemplateReply>(
      this.subjects.templatesControl(TemplateControlOps.Put),
      body,
      options.timeoutMs,
      { cid: options.cid ?? nuid.next() },
    );
    return reply.template;
  }

  /**
   * Checks `params` against the template (its latest version, or `options.version`) and
   * registers `strategy` as a candidate linked to it: `template: { id, version, params }` with the
   * defaults filled in, the template's family and tags unless the strategy names its own.
   * A ValidationError names the first bad parameter (`body.params.<name>`) and lists every
   * one in `details.violations`; nothing is registered then.
   */
  instantiate(
    template: string,
    strategy: InstanceStrategy,
    params: Record<string, ParamValue> = {},
    options: InstantiateOptions = {},
  ): Promise<Strategy> {
    const body: Record<string, unknown> = { template, strategy, params };
    if (options.version !== undefined) body.version = options.version;
    return this.call<{ strategy: Strategy }>(
      this.subjects.templates(TemplateOps.Instantiate),
      body,
      options.timeoutMs,
      { cid: options.cid ?? nuid.next(), issued: options.issued ?? Date.now() },
    ).then((reply) => reply.strategy);
  }
}
