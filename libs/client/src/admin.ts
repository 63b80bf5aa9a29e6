/**
 * Cluster-wide views and actions for operators and tools. Views are built on the
 * NATS services framework: every shard answers `$SRV.STATS.stratreg-shard` with
 * its status. Actions are control messages on `<cluster>.control.>`, which only
 * operators may publish; ownership changes are followed on `<cluster>.events.ownership`.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type Msg,
  type NatsConnection,
  TimeoutError as NatsTimeoutError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
} from "@nats-io/transport-node";
import {
  type ClusterSubjects,
  clusterSubjects,
  decode,
  encode,
  errorFromWire,
  isValidMemberId,
  MEMBER_ID_PATTERN,
  type OwnershipEvent,
  PROTOCOL_VERSION,
  type Reply,
  SHARD_SERVICE_NAME,
  type ShardStatus,
} from "@stratreg/protocol";
import { StratregClient } from "./client.js";

/** The `$SRV.STATS` reply of one service instance (the fields stratreg reads). */
interface ServiceStats {
  name: string;
  id: string;
  metadata?: Record<string, string>;
  endpoints?: Array<{ subject: string; data?: unknown }>;
}

/** What every shard of a cluster reports, gathered in one sweep. */
export interface ClusterStatus {
  cluster: string;
  partitions: number;
  shards: ShardStatus[];
  /** Partitions that no shard serves. */
  unserved: number[];
  /** Partitions that more than one shard serves. */
  contested: number[];
  strategies: number;
}

/**
 * Asks every shard for its status and keeps the replies from `cluster`'s shards.
 * Collects replies for `maxWaitMs` (shards answer within a few ms).
 */
export async function shardStatuses(nc: NatsConnection, cluster: string, maxWaitMs = 500): Promise<ShardStatus[]> {
  const out: ShardStatus[] = [];
  try {
    const replies = await nc.requestMany(`$SRV.STATS.${SHARD_SERVICE_NAME}`, undefined, {
      strategy: "timer",
      maxWait: maxWaitMs,
    });
    for await (const msg of replies) collectStatus(msg, cluster, out);
  } catch (err) {
    // No shard is up (yet): an empty cluster, not a failure.
    if (!isNoResponders(err)) throw err;
  }
  return out.sort((a, b) => a.member.localeCompare(b.member));
}

function collectStatus(msg: Msg, cluster: string, out: ShardStatus[]): void {
  let stats: ServiceStats;
  try {
    stats = msg.json<ServiceStats>();
  } catch {
    return;
  }
  if (stats.metadata?.cluster !== cluster) return;
  const status = stats.endpoints?.find((e) => e.subject.endsWith(".status"))?.data as ShardStatus | undefined;
  if (status !== undefined && status !== null) out.push(status);
}

/** Which of `partitions` no shard serves, and which several do. */
function coverage(shards: ShardStatus[], partitions: number): { unserved: number[]; contested: number[] } {
  const servedBy = new Array<number>(partitions).fill(0);
  for (const shard of shards) for (const p of shard.serving) if (p < partitions) servedBy[p] = (servedBy[p] ?? 0) + 1;
  const unserved: number[] = [];
  const contested: number[] = [];
  servedBy.forEach((count, p) => {
    if (count === 0) unserved.push(p);
    else if (count > 1) contested.push(p);
  });
  return { unserved, contested };
}

/** The status of every shard of `cluster`, and which of its `partitions` are served by none or by several. */
export async function clusterStatus(
  nc: NatsConnection,
  cluster: string,
  partitions: number,
  maxWaitMs = 500,
): Promise<ClusterStatus> {
  const shards = await shardStatuses(nc, cluster, maxWaitMs);
  return {
    cluster,
    partitions,
    shards,
    ...coverage(shards, partitions),
    strategies: shards.reduce((n, s) => n + s.strategies, 0),
  };
}

/** Codes of {@link AdminError}: failures of operator actions, raised in the caller (never on the wire). */
export const AdminErrorCodes = {
  /** No shard of that member id answers in the cluster. */
  NoSuchShard: "NO_SUCH_SHARD",
  /** The shard runs but does not take drain requests (a shard from before drain existed). */
  NotDrainable: "NOT_DRAINABLE",
  /** The member is the cluster's only one: draining it would leave every partition unserved. */
  LastMember: "LAST_MEMBER",
  /** The NATS user may not send the control message or follow the events (both are for operators). */
  PermissionDenied: "PERMISSION_DENIED",
  /** The shard did not answer the control message in time. */
  NoReply: "NO_REPLY",
} as const;
export type AdminErrorCode = (typeof AdminErrorCodes)[keyof typeof AdminErrorCodes];

/** An operator action that could not be carried out; `code` is stable, the message says what to do. */
export class AdminError extends Error {
  override name = "AdminError";
  readonly code: AdminErrorCode;
  /** Whether trying again as it is may succeed (a slow shard), as opposed to a wrong member or user. */
  readonly retryable: boolean;

  constructor(code: AdminErrorCode, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * Member ids a shard accepts (services/registry-shard config). Checked here too so that an
 * operator's typo cannot become a wildcard or a multi-token subject.
 */

/** What a shard answers to a drain request before it starts handing off. */
export interface DrainReply {
  member: string;
  /** Partitions it was serving when asked (all of which it now hands off). */
  partitions: number;
}

/** Where a drain stands, from one sweep of the cluster's status. */
export interface DrainProgress {
  elapsedMs: number;
  /** Whether the drained member still answered the sweep. */
  present: boolean;
  /** Partitions the drained member still holds or is taking (0 once it is gone). */
  held: number;
  /** Members that answered the sweep, sorted. */
  members: string[];
  /** The cluster's partition count; undefined if no shard answered `<cluster>.cluster.info`. */
  partitions: number | undefined;
  /** Partitions no member serves; empty when the partition count is unknown. */
  unserved: number[];
  /** Partitions more than one member claims to serve. */
  contested: number[];
}

/** How a drain ended: the member left and every partition is served, the deadline passed, or the caller gave up. */
export type DrainOutcome = "drained" | "timed-out" | "aborted";

/** What {@link drainShard} did and saw. */
export interface DrainResult {
  cluster: string;
  member: string;
  outcome: DrainOutcome;
  /** The shard's answer; undefined when it was already draining (it no longer takes requests then). */
  reply: DrainReply | undefined;
  alreadyDraining: boolean;
  /** The cluster's partition count; undefined if no shard answered `<cluster>.cluster.info`. */
  partitions: number | undefined;
  elapsedMs: number;
  /** The last sweep. */
  last: DrainProgress;
}

/** Options of {@link drainShard}. */
export interface DrainOptions {
  /** How long to wait for the hand-off to finish, request included (default 60 000 ms). */
  timeoutMs?: number;
  /** Deadline of the drain request itself and of the partition-count lookup (default 5000 ms). */
  requestTimeoutMs?: number;
  /** How long each status sweep collects replies (default 300 ms). */
  sweepMs?: number;
  /** Pause between sweeps (default 200 ms). */
  pollMs?: number;
  /** The cluster's partition count, if known (otherwise asked of `<cluster>.cluster.info`). */
  partitions?: number;
  /** Called once the shard has accepted (reply undefined: it was already draining). */
  onAccepted?: (reply: DrainReply | undefined) => void;
  /** Called after every sweep. */
  onProgress?: (progress: DrainProgress) => void;
  /** Stops waiting (the shard carries on draining): the result's outcome is `aborted`. */
  signal?: AbortSignal;
}

/** Sweeps in a row that must miss the member before it counts as gone: one slow reply must not end the wait early. */
const ABSENT_SWEEPS = 2;

/**
 * Asks `member` of `cluster` to hand every partition off and stop (`<cluster>.control.drain.<member>`,
 * a subject only operators may publish), then watches the cluster's status until the member no
 * longer answers and every partition is served by someone else, or `timeoutMs` passes.
 *
 * Throws an {@link AdminError} when nothing was drained: no such member (NO_SUCH_SHARD), the
 * cluster's only member (LAST_MEMBER), a user without the right (PERMISSION_DENIED), no reply
 * (NO_REPLY); a malformed member id or cluster name throws a TypeError. Once the shard has
 * accepted, the outcome is in the result.
 */
export async function drainShard(
  nc: NatsConnection,
  cluster: string,
  member: string,
  options: DrainOptions = {},
): Promise<DrainResult> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const requestTimeoutMs = Math.min(options.requestTimeoutMs ?? 5000, timeoutMs);
  const sweepMs = options.sweepMs ?? 300;
  // Bad names are the caller's mistake, as in clusterSubjects: a TypeError naming them.
  if (!isValidMemberId(member)) {
    throw new TypeError(`${JSON.stringify(member)} is not a member id (${MEMBER_ID_PATTERN})`);
  }
  const subjects = clusterSubjects(cluster);
  const before = await shardStatuses(nc, cluster, sweepMs);
  const self = before.find((s) => s.member === member);
  if (self !== undefined && before.length === 1) {
    throw new AdminError(
      AdminErrorCodes.LastMember,
      `${member} is the only member of cluster ${cluster}: draining it would leave every partition unserved (start another shard first, or stop this one with SIGTERM)`,
    );
  }
  // Asked before the drain, while every shard is idle enough to answer at once. Unknown, the
  // wait can only watch the member leave (no shard answering this is reported by the drain request).
  const partitions =
    options.partitions ??
    (before.length === 0
      ? undefined
      : await StratregClient.connect(nc, { cluster, timeoutMs: requestTimeoutMs }).then(
          (client) => client.partitions,
          () => undefined,
        ));
  const { reply, alreadyDraining } = await requestDrain(nc, subjects, member, self, requestTimeoutMs);
  options.onAccepted?.(reply);

  const deadline = started + timeoutMs;
  let absent = 0;
  for (;;) {
    const last = progressOf(await shardStatuses(nc, cluster, sweepMs), member, partitions, started);
    options.onProgress?.(last);
    absent = last.present ? 0 : absent + 1;
    let outcome: DrainOutcome | undefined;
    if (absent >= ABSENT_SWEEPS && last.unserved.length === 0) outcome = "drained";
    else if (options.signal?.aborted) outcome = "aborted";
    else if (performance.now() + (options.pollMs ?? 200) + sweepMs > deadline) outcome = "timed-out";
    if (outcome !== undefined) {
      return { cluster, member, outcome, reply, alreadyDraining, partitions, elapsedMs: last.elapsedMs, last };
    }
    // An abort ends the pause early; the next turn reports it.
    await sleep(options.pollMs ?? 200, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

/** Sends the drain request; a member already draining has stopped listening, which is not a failure. */
async function requestDrain(
  nc: NatsConnection,
  subjects: ClusterSubjects,
  member: string,
  seen: ShardStatus | undefined,
  timeoutMs: number,
): Promise<{ reply: DrainReply | undefined; alreadyDraining: boolean }> {
  const subject = subjects.drain(member);
  try {
    const msg = await nc.request(subject, encode({ v: PROTOCOL_VERSION, body: {} }), { timeout: timeoutMs });
    const answer = decode(msg.data) as Reply<DrainReply>;
    if (!answer.ok) throw errorFromWire(answer.error);
    return { reply: answer.body, alreadyDraining: false };
  } catch (err) {
    // The server refuses the publish and says so; nats.js fails the request with it.
    if (isPermissionViolation(err)) {
      throw new AdminError(
        AdminErrorCodes.PermissionDenied,
        `not permitted to publish ${subject}: drain is for operators (connect as a NATS user allowed ${subjects.cluster}.control.>)`,
        { cause: err },
      );
    }
    if (isNoResponders(err)) {
      if (seen?.draining === true) return { reply: undefined, alreadyDraining: true };
      if (seen !== undefined) {
        throw new AdminError(
          AdminErrorCodes.NotDrainable,
          `shard ${member} is running but does not take drain requests (a shard older than drain?): stop it with SIGTERM`,
          { cause: err },
        );
      }
      throw new AdminError(AdminErrorCodes.NoSuchShard, `no shard ${member} in cluster ${subjects.cluster}`, {
        cause: err,
      });
    }
    if (err instanceof NatsTimeoutError || (err instanceof RequestError && err.cause instanceof NatsTimeoutError)) {
      throw new AdminError(
        AdminErrorCodes.NoReply,
        `shard ${member} did not answer the drain request within ${timeoutMs} ms`,
        { cause: err, retryable: true },
      );
    }
    throw err;
  }
}

function progressOf(
  shards: ShardStatus[],
  member: string,
  partitions: number | undefined,
  started: number,
): DrainProgress {
  const self = shards.find((s) => s.member === member);
  const { unserved, contested } = coverage(shards, partitions ?? 0);
  return {
    elapsedMs: Math.round(performance.now() - started),
    present: self !== undefined,
    held: self === undefined ? 0 : (self.partitions?.length ?? self.serving.length + self.loading.length),
    members: shards.map((s) => s.member),
    partitions,
    unserved,
    contested,
  };
}

/** Whether `err`, or what caused it, is the server refusing a publish or a subscription. */
function isPermissionViolation(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof PermissionViolationError) return true;
  return false;
}

function isNoResponders(err: unknown): boolean {
  return (err instanceof RequestError && err.isNoResponders()) || err instanceof NoRespondersError;
}

/** A live feed of ownership changes; iterate it, and `stop()` it to end the iteration. */
export interface OwnershipWatch extends AsyncIterable<OwnershipEvent> {
  /** The subject followed, `<cluster>.events.ownership`. */
  readonly subject: string;
  stop(): void;
}

function isOwnershipEvent(value: unknown): value is OwnershipEvent {
  const e = (value ?? {}) as Partial<Record<keyof OwnershipEvent, unknown>>;
  const numbers = [e.partition, e.epoch, e.at].every((n) => typeof n === "number");
  return numbers && typeof e.member === "string" && typeof e.change === "string";
}

/**
 * Follows `<cluster>.events.ownership`: every partition a shard acquires, releases or loses.
 * Resolves once the server has the subscription, so no event published afterwards is missed;
 * throws PERMISSION_DENIED if the server refused it. Messages that are not events are skipped.
 */
export async function watchOwnership(nc: NatsConnection, cluster: string): Promise<OwnershipWatch> {
  const subject = clusterSubjects(cluster).ownershipEvents;
  const denied = (cause: unknown) =>
    new AdminError(AdminErrorCodes.PermissionDenied, `not permitted to subscribe to ${subject}: it is for operators`, {
      cause,
    });
  const sub = nc.subscribe(subject);
  await nc.flush();
  // The server answers the flush after refusing the subscription, which nats.js has closed by then.
  if (sub.isClosed()) {
    const reason = await sub.closed;
    if (isPermissionViolation(reason)) throw denied(reason);
  }
  async function* events(): AsyncGenerator<OwnershipEvent> {
    try {
      for await (const msg of sub) {
        let event: unknown;
        try {
          event = decode(msg.data);
        } catch {
          continue;
        }
        if (isOwnershipEvent(event)) yield event;
      }
    } catch (err) {
      throw isPermissionViolation(err) ? denied(err) : err;
    }
  }
  return { subject, stop: () => sub.unsubscribe(), [Symbol.asyncIterator]: events };
}
