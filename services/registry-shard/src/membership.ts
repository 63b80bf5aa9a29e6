/**
 * Who is in the cluster, as this shard sees it. Every member publishes a
 * heartbeat each interval; a member unheard of for `memberTtlMs` by our own
 * monotonic clock is gone (never compare clocks of different machines). A
 * member that stops gracefully says so, and leaves at once. Only members that
 * say they are ready (past their join grace) count for ownership.
 */
import { performance } from "node:perf_hooks";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { type ClusterSubjects, decode, encode, type Heartbeat, type Leave, PROTOCOL_VERSION } from "@stratreg/protocol";
import type { Logger } from "pino";

export interface MembershipOptions {
  member: string;
  /** A random id of this process, to tell two processes that claim the same member id apart. */
  instance: string;
  heartbeatMs: number;
  memberTtlMs: number;
}

/** A heartbeat with the sender's process instance. */
interface InstanceHeartbeat extends Heartbeat {
  instance: string;
}

export class Membership {
  private readonly lastSeen = new Map<string, number>();
  private readonly ready = new Set<string>();
  private selfReady = false;
  private readonly subs: Subscription[] = [];
  private timer: NodeJS.Timeout | undefined;
  private view: string[];

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: ClusterSubjects,
    private readonly options: MembershipOptions,
    private readonly logger: Logger,
    /** What this member reports about itself in each heartbeat. */
    private readonly self: () => { serving: number[]; strategies: number },
    /** Called whenever the set of live members changes. */
    private readonly onChange: (members: string[]) => void,
    /** Called when another process heartbeats with our member id. */
    private readonly onDuplicate: (instance: string) => void,
  ) {
    this.view = [options.member];
  }

  /** Live, ready members, sorted, this one included. */
  get members(): string[] {
    return this.view;
  }

  /** Members heard from that are not ready yet (still in their join grace), sorted. */
  get joining(): string[] {
    return [...this.lastSeen.keys()].filter((m) => !this.ready.has(m)).sort();
  }

  /** Says in every heartbeat from now on that this member takes partitions, and says it at once. */
  markReady(): void {
    this.selfReady = true;
    this.beat();
  }

  start(): void {
    this.subs.push(
      this.nc.subscribe(this.subjects.heartbeat, {
        callback: (_err, msg) => this.heard(msg.data),
      }),
      this.nc.subscribe(this.subjects.leave, {
        callback: (_err, msg) => this.left(msg.data),
      }),
    );
    this.beat();
    this.timer = setInterval(() => {
      this.beat();
      this.sweep();
    }, this.options.heartbeatMs);
  }

  /** Stops heartbeating and listening; says goodbye unless `announce` is false. */
  async stop(announce = true): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const sub of this.subs) sub.unsubscribe();
    if (announce && !this.nc.isClosed()) {
      const leave: Leave = { v: PROTOCOL_VERSION, member: this.options.member };
      this.nc.publish(this.subjects.leave, encode(leave));
      await this.nc.flush().catch(() => undefined);
    }
  }

  private beat(): void {
    if (this.nc.isClosed()) return;
    const heartbeat: InstanceHeartbeat = {
      v: PROTOCOL_VERSION,
      member: this.options.member,
      instance: this.options.instance,
      ready: this.selfReady,
      ...this.self(),
    };
    this.nc.publish(this.subjects.heartbeat, encode(heartbeat));
  }

  private heard(data: Uint8Array): void {
    let heartbeat: Partial<InstanceHeartbeat>;
    try {
      heartbeat = decode(data) as Partial<InstanceHeartbeat>;
    } catch {
      return;
    }
    const member = heartbeat.member;
    if (typeof member !== "string") return;
    if (member === this.options.member) {
      if (heartbeat.instance !== this.options.instance) this.onDuplicate(String(heartbeat.instance));
      return;
    }
    const known = this.lastSeen.has(member);
    this.lastSeen.set(member, performance.now());
    const ready = heartbeat.ready !== false;
    const wasReady = this.ready.has(member);
    if (ready) this.ready.add(member);
    else this.ready.delete(member);
    if (!known) this.logger.info({ peer: member, ready }, "member joined");
    else if (ready && !wasReady) this.logger.info({ peer: member }, "member ready");
    if (!known || ready !== wasReady) this.changed();
  }

  private left(data: Uint8Array): void {
    let leave: Partial<Leave>;
    try {
      leave = decode(data) as Partial<Leave>;
    } catch {
      return;
    }
    if (typeof leave.member === "string" && this.lastSeen.delete(leave.member)) {
      this.ready.delete(leave.member);
      this.logger.info({ peer: leave.member }, "member left");
      this.changed();
    }
  }

  private sweep(): void {
    const now = performance.now();
    let gone = false;
    for (const [member, seen] of this.lastSeen) {
      if (now - seen > this.options.memberTtlMs) {
        this.lastSeen.delete(member);
        this.ready.delete(member);
        this.logger.warn({ peer: member, silentMs: Math.round(now - seen) }, "member timed out");
        gone = true;
      }
    }
    if (gone) this.changed();
  }

  private changed(): void {
    this.view = [this.options.member, ...this.ready].sort();
    this.onChange(this.view);
  }
}
