/**
 * The trading state's broadcast. The active guard publishes the status on
 * `<cluster>.trading.state` with a reply subject of its own; every follower
 * (shards, rankers, discovery, trading services through the SDK) answers with
 * an acknowledgement naming itself and the version it now holds. Acks of the
 * periodic re-broadcast keep a roster of who follows; a change waits until
 * every follower on the roster has acknowledged it, or the wait runs out, and
 * says who did and how fast.
 */
import { performance } from "node:perf_hooks";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { createInbox } from "@nats-io/transport-node";
import { decode, encode, type TradingCommandReply, type TradingStateAck, type TradingStatus } from "@stratreg/protocol";
import type { Logger } from "pino";

interface Follower {
  kind: string;
  /** Last heard from, monotonic ms. */
  seenAt: number;
  version: number;
}

interface Wait {
  version: number;
  sentAt: number;
  acks: Map<string, { kind: string; ms: number }>;
  expected: Set<string>;
  done: () => void;
}

/** How long a follower stays on the roster without acknowledging a broadcast. */
const ROSTER_TTL_MS = 5000;

export class StateBroadcast {
  private readonly inbox = createInbox();
  private sub: Subscription | undefined;
  private readonly roster = new Map<string, Follower>();
  private readonly waits = new Set<Wait>();
  private sentAt = 0;
  private sentVersion = -1;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.sub = this.nc.subscribe(this.inbox, {
      callback: (err, msg) => {
        if (err === null) this.ack(msg.data);
      },
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
    for (const wait of this.waits) wait.done();
    this.waits.clear();
  }

  /** Followers heard from within the roster's life. */
  followers(now = performance.now()): Array<{ member: string; kind: string; version: number; ageMs: number }> {
    const out = [];
    for (const [member, f] of this.roster) {
      if (now - f.seenAt > ROSTER_TTL_MS) this.roster.delete(member);
      else out.push({ member, kind: f.kind, version: f.version, ageMs: Math.round(now - f.seenAt) });
    }
    return out;
  }

  /** Publishes `status` (again); acknowledgements come back to the guard's inbox. */
  publish(status: TradingStatus): void {
    this.sentAt = performance.now();
    this.sentVersion = status.version;
    this.nc.publish(this.subject, encode(status), { reply: this.inbox });
  }

  /**
   * Publishes `status` and waits until every follower on the roster
   * acknowledged its version, or `timeoutMs` passed.
   */
  async publishAndWait(
    status: TradingStatus,
    timeoutMs: number,
  ): Promise<Omit<TradingCommandReply, "status" | "awaitingConfirmation">> {
    const expected = new Set(this.followers().map((f) => f.member));
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const wait: Wait = { version: status.version, sentAt: 0, acks: new Map(), expected, done };
    this.waits.add(wait);
    this.publish(status);
    wait.sentAt = this.sentAt;
    if (expected.size === 0) done();
    const timer = setTimeout(done, timeoutMs);
    await finished;
    clearTimeout(timer);
    this.waits.delete(wait);
    const acks = [...wait.acks].map(([member, a]) => ({ member, kind: a.kind, ms: a.ms }));
    const missing = [...expected].filter((m) => !wait.acks.has(m));
    const lastAckMs = acks.length === 0 ? null : Math.max(...acks.map((a) => a.ms));
    if (missing.length > 0)
      this.logger.warn({ version: status.version, missing }, "followers did not acknowledge the trading state in time");
    return { acks, missing, lastAckMs };
  }

  /** A follower named itself (asking for the state at start): it is expected from now on. */
  hello(member: string, kind: string): void {
    const known = this.roster.get(member);
    this.roster.set(member, { kind, seenAt: performance.now(), version: known?.version ?? -1 });
  }

  private ack(data: Uint8Array): void {
    let ack: TradingStateAck;
    try {
      ack = decode(data) as TradingStateAck;
    } catch {
      return;
    }
    if (ack === null || typeof ack !== "object" || typeof ack.member !== "string" || typeof ack.version !== "number")
      return;
    const now = performance.now();
    this.roster.set(ack.member, { kind: String(ack.kind ?? ""), seenAt: now, version: ack.version });
    for (const wait of this.waits) {
      if (ack.version < wait.version || wait.acks.has(ack.member)) continue;
      wait.acks.set(ack.member, { kind: String(ack.kind ?? ""), ms: Math.round((now - wait.sentAt) * 100) / 100 });
      if ([...wait.expected].every((m) => wait.acks.has(m))) wait.done();
    }
  }

  /** The version last published and when (for status). */
  get last(): { version: number; sentAt: number } {
    return { version: this.sentVersion, sentAt: this.sentAt };
  }
}
