/**
 * Where discovery's findings go: each surviving pattern is registered as a
 * strategy in the `candidate` state (an instance of the template
 * `discovered-pattern`, version 1, which discovery stores if it is missing),
 * then published on `<cluster>.discovery.events.candidate` with its validation
 * report and kept in the stream `<cluster>-candidates`.
 *
 * A candidate's id is derived from its traded series and expression, so the
 * same pattern found again is the same strategy: its registration answers
 * ALREADY_EXISTS and nothing is published twice. Every process keeps the
 * latest candidates in memory, following the stream.
 */
import {
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  StorageType,
} from "@nats-io/jetstream";
import type { StratregClient, TemplatesClient } from "@stratreg/client";
import { ensureStream } from "@stratreg/fencing";
import {
  type CandidateMessage,
  type ClusterSubjects,
  DISCOVERY_OWNER,
  DISCOVERY_TEMPLATE_ID,
  decode,
  ErrorCodes,
  encode,
  hashString,
  type StrategyInput,
  StratregError,
  type TemplateInput,
} from "@stratreg/protocol";
import type { Logger } from "pino";

/** How long after a refused template put discovery looks for the template again, ms. */
const TEMPLATE_RETRY_MS = 60_000;

/** Candidates each process keeps in memory for `candidates`. */
export const RECENT_CANDIDATES = 200;

/** The template discovered strategies instantiate. */
export const DISCOVERED_PATTERN_TEMPLATE: TemplateInput = {
  id: DISCOVERY_TEMPLATE_ID,
  name: "Discovered pattern",
  description:
    "A pattern found by stratreg discovery: a position expression in the pattern language (libs/alpha), " +
    "evaluated at each bar's close and held over the next bar on the traded series.",
  family: "discovered",
  tags: ["discovered"],
  params: {
    expression: { type: "string", required: true, description: "The pattern's canonical text." },
    target: { type: "string", required: true, description: "The traded series, symbol@venue." },
    origin: { type: "string", enum: ["mined", "synthesised"], default: "mined" },
    runId: { type: "string", description: "The discovery run that found it." },
  },
};

/** The strategy id of a pattern: `disc-` and 64 bits of hash of its traded series and text. */
export function candidateId(target: string, expression: string): string {
  const key = `${target}|${expression}`;
  const a = hashString(key).toString(16).padStart(8, "0");
  const b = hashString(`${key}|2`).toString(16).padStart(8, "0");
  return `disc-${a}${b}`;
}

/** What the registry needs to know of a candidate, beyond its report. */
export interface CandidateDraft {
  runId: string;
  origin: CandidateMessage["origin"];
  expression: string;
  target: string;
  family: string;
  parents: string[];
  report: CandidateMessage["report"];
  /** A one-line summary for the strategy's description. */
  summary: string;
}

/** The candidates stream and the registration of candidates. */
export class CandidateRegistry {
  private readonly recent: CandidateMessage[] = [];
  private messages: ConsumerMessages | undefined;
  private following: Promise<void> | undefined;
  private templateVersion: number | undefined;
  /** When storing the template was last refused (it is tried again a minute later). */
  private templateRefusedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly client: StratregClient,
    private readonly templates: TemplatesClient,
    private readonly js: JetStreamClient,
    private readonly subjects: ClusterSubjects,
    private readonly logger: Logger,
  ) {}

  /** Creates the stream if needed and follows its latest candidates. */
  async open(jsm: JetStreamManager, replicas: number): Promise<void> {
    const info = await ensureStream(jsm, {
      name: this.subjects.candidateStream,
      subjects: [this.subjects.discoveryCandidates],
      storage: StorageType.File,
      num_replicas: replicas,
    });
    const last = info.state.last_seq;
    const consumer = await this.js.consumers.get(this.subjects.candidateStream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Math.max(1, last - RECENT_CANDIDATES + 1),
    });
    const messages = await consumer.consume();
    this.messages = messages;
    let caughtUp: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => {
      caughtUp = resolve;
    });
    if (info.state.messages === 0) caughtUp();
    this.following = (async () => {
      for await (const msg of messages) {
        try {
          this.remember(decode(msg.data) as CandidateMessage);
        } catch {
          this.logger.warn({ seq: msg.seq }, "skipped a candidate message this build cannot read");
        }
        if (msg.info.pending === 0) caughtUp();
      }
    })().catch((err: unknown) => this.logger.error({ err }, "candidate stream follower failed"));
    // A run started now knows every bet published before.
    await ready;
  }

  async close(): Promise<void> {
    await this.messages?.close();
    await this.following;
  }

  private remember(candidate: CandidateMessage): void {
    if (this.recent.some((c) => c.id === candidate.id)) return;
    this.recent.push(candidate);
    if (this.recent.length > RECENT_CANDIDATES) this.recent.shift();
  }

  /**
   * The latest candidates, newest first (of one run when named), their reports without the
   * backtest evidence (up to 300 KB each; the candidate stream keeps it), so a list fits a reply.
   */
  latest(limit: number, runId?: string): CandidateMessage[] {
    return this.recent
      .filter((c) => runId === undefined || c.runId === runId)
      .slice(-limit)
      .reverse()
      .map(({ report, ...rest }) => {
        const { evidence: _evidence, ...summary } = report;
        return { ...rest, report: summary as CandidateMessage["report"] };
      });
  }

  /** Every candidate held, oldest first, as it is now (synthesis combines them). */
  all(): CandidateMessage[] {
    return [...this.recent];
  }

  /**
   * The template version discovered strategies instantiate, stored now if it
   * is missing. Storing a template is an operator's right: where this process
   * runs as a service user it cannot, says so once, and registers its
   * candidates naming the template without a version until an operator has
   * stored it (`stratreg template put`); until then the template gate refuses
   * to validate them, as it should.
   */
  private async template(): Promise<number | undefined> {
    if (this.templateVersion !== undefined || Date.now() - this.templateRefusedAt < TEMPLATE_RETRY_MS) {
      return this.templateVersion;
    }
    try {
      this.templateVersion = (await this.templates.get(DISCOVERY_TEMPLATE_ID, undefined, { timeoutMs: 2000 })).version;
    } catch (err) {
      if (!(err instanceof StratregError && err.code === ErrorCodes.NotFound)) return undefined;
      try {
        const stored = await this.templates.put(DISCOVERED_PATTERN_TEMPLATE, {
          expectedVersion: 0,
          by: DISCOVERY_OWNER,
          timeoutMs: 2000,
        });
        this.templateVersion = stored.version;
      } catch (putErr) {
        if (putErr instanceof StratregError && putErr.code === ErrorCodes.Conflict) return this.template();
        this.templateRefusedAt = Date.now();
        this.logger.warn(
          { err: putErr, template: DISCOVERY_TEMPLATE_ID },
          "could not store the discovered-pattern template: an operator should (stratreg template put)",
        );
      }
    }
    return this.templateVersion;
  }

  /**
   * Registers `draft` as a candidate strategy and publishes it; resolves with
   * the message, or undefined when the registry holds that pattern already.
   */
  async register(draft: CandidateDraft): Promise<CandidateMessage | undefined> {
    const id = candidateId(draft.target, draft.expression);
    const [symbol, venue] = draft.target.split("@") as [string, string];
    const version = await this.template();
    const strategy: StrategyInput = {
      id,
      name: `${draft.origin === "mined" ? "Pattern" : "Ensemble"} on ${draft.target}`,
      owner: DISCOVERY_OWNER,
      description: `${draft.expression}\n\n${draft.summary}`.slice(0, 4000),
      tags: ["discovered", draft.origin, symbol],
      family: draft.family,
      parents: draft.parents,
      template: {
        id: DISCOVERY_TEMPLATE_ID,
        ...(version === undefined ? {} : { version }),
        params: { expression: draft.expression, target: draft.target, origin: draft.origin, runId: draft.runId },
      },
      venues: [{ venue, symbols: [symbol] }],
    };
    try {
      await this.client.register(strategy);
    } catch (err) {
      if (!(err instanceof StratregError && err.code === ErrorCodes.AlreadyExists)) throw err;
      // Registered before; published too, unless that publication was lost (the registry's reply
      // or the stream failed in between): then it is published now.
      if (this.recent.some((c) => c.id === id)) return undefined;
      const held = await this.client.get(id);
      if (held.owner !== DISCOVERY_OWNER) return undefined;
    }
    const message: CandidateMessage = {
      id,
      runId: draft.runId,
      origin: draft.origin,
      expression: draft.expression,
      target: draft.target,
      family: draft.family,
      parents: draft.parents,
      report: draft.report,
      at: Date.now(),
    };
    await this.js.publish(this.subjects.discoveryCandidates, encode(message), { msgID: id });
    this.remember(message);
    return message;
  }
}
