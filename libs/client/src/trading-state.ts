/**
 * Following the trading state: what every service (shards, rankers, discovery,
 * trading services) runs to know at once when trading is halted. It listens to
 * the guard's broadcast, keeps the highest version, and acknowledges every
 * broadcast with its name (the guard waits for those acknowledgements before it
 * tells the operator the halt reached everyone). A late joiner asks the active
 * guard for the state, naming itself (so the guard waits for it from then on),
 * and keeps asking once a second until one answers.
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import {
  clusterSubjects,
  DEFAULT_CLUSTER,
  decode,
  encode,
  PROTOCOL_VERSION,
  type Reply,
  RiskOps,
  type TradingStateAck,
  type TradingStatus,
} from "@stratreg/protocol";

/** Options of {@link followTradingState}. */
export interface FollowOptions {
  cluster?: string;
  /** This follower's name, as the guard lists it among those who acknowledged. */
  member: string;
  /** What kind of process it is (`shard`, `ranker`, `trader`, …). */
  kind: string;
  /** Called with every newer status. */
  onChange?: (status: TradingStatus) => void;
  /** How often to ask while no guard has answered yet, ms (1000). */
  askEveryMs?: number;
  /**
   * Runs before a broadcast is acknowledged: a follower that must finish
   * something first (a shard settling the activations in flight when a halt
   * arrives) acknowledges only once it has, so the guard's "everyone has it"
   * means everyone has acted on it.
   */
  beforeAck?: (status: TradingStatus) => Promise<void> | void;
}

/** A running follower. */
export interface TradingStateFollower {
  /** The latest status known, undefined until a guard answered or broadcast. */
  readonly current: TradingStatus | undefined;
  stop(): void;
}

function isStatus(value: unknown): value is TradingStatus {
  const s = value as TradingStatus | null;
  return s !== null && typeof s === "object" && typeof s.state === "string" && typeof s.version === "number";
}

/** Starts following the trading state of a cluster over `nc`. */
export function followTradingState(nc: NatsConnection, options: FollowOptions): TradingStateFollower {
  const subjects = clusterSubjects(options.cluster ?? DEFAULT_CLUSTER);
  let current: TradingStatus | undefined;
  let stopped = false;
  const take = (status: TradingStatus) => {
    if (current !== undefined && status.version <= current.version && status.at <= current.at) return;
    // A lower version from a later time is a log that was started afresh: believe the guard.
    current = status;
    options.onChange?.(status);
  };
  const sub: Subscription = nc.subscribe(subjects.tradingState, {
    callback: (err, msg) => {
      if (err !== null) return;
      let status: unknown;
      try {
        status = decode(msg.data);
      } catch {
        return;
      }
      if (!isStatus(status)) return;
      take(status);
      if (msg.reply === undefined || msg.reply === "") return;
      const respond = () => {
        const ack: TradingStateAck = {
          member: options.member,
          kind: options.kind,
          version: current?.version ?? status.version,
        };
        try {
          msg.respond(encode(ack));
        } catch {
          // The connection is closing: the guard will list this follower as missing.
        }
      };
      if (options.beforeAck === undefined) respond();
      else
        Promise.resolve()
          .then(() => options.beforeAck?.(status))
          .then(respond, respond);
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const ask = async () => {
    if (stopped || current !== undefined) return;
    try {
      const msg = await nc.request(
        subjects.risk(RiskOps.State),
        encode({ v: PROTOCOL_VERSION, body: { follower: { member: options.member, kind: options.kind } } }),
        {
          timeout: 1000,
        },
      );
      const reply = decode(msg.data) as Reply<TradingStatus>;
      if (reply.ok && isStatus(reply.body)) take(reply.body);
    } catch {
      // No guard yet: the next attempt, or its first broadcast, tells.
    }
    if (!stopped && current === undefined) {
      timer = setTimeout(() => void ask(), options.askEveryMs ?? 1000);
      timer.unref();
    }
  };
  void ask();
  return {
    get current() {
      return current;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      sub.unsubscribe();
    },
  };
}
