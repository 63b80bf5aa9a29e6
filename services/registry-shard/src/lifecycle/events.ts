/**
 * Lifecycle events: what a partition's log entries mean to the strategies'
 * watchers (created, updated, state changed, gate failed, maturity changed),
 * published on `<cluster>.lifecycle.<kind>.<partition>` into the stream
 * `<cluster>-lifecycle`, so live subscribers get them at once and a late
 * consumer catches up from the stream instead of polling.
 *
 * An event is derived from the log entry after it is appended, and published
 * with the message id `<partition>:<seq>:<kind>`: the stream's duplicate window
 * drops a second copy. That is what lets a new owner publish again the events
 * of the recent entries it read while taking the partition: an owner that died
 * between its append and its publish loses no event, and one that did publish
 * gets no double.
 */
import { type JetStreamClient, type JetStreamManager, StorageType } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { ensureStream } from "@stratreg/fencing";
import {
  type ClusterSubjects,
  decodeStrategy,
  encode,
  type LifecycleEventKind,
  LifecycleEventKinds,
  type LifecycleEventMessage,
  LifecycleEvents,
  type LogEntryHead,
  type LogEntryLayout,
  LogOps,
  PROTOCOL_VERSION,
  recordAt,
  type Strategy,
} from "@stratreg/protocol";
import type { Logger } from "pino";

/** How long the stream remembers message ids: a new owner republishes entries younger than this. */
export const EVENT_DUPLICATE_WINDOW_MS = 120_000;
/** Events a partition keeps, while it is not serving, to publish again once it is. */
export const REPUBLISH_MAX = 1024;

/** A log entry as the event publisher reads it: its layout, and its head when known. */
export type AppliedEntry = LogEntryLayout & { head?: Partial<LogEntryHead> };

/** Creates the lifecycle stream if it is not there. */
export async function ensureLifecycleStream(
  jsm: JetStreamManager,
  subjects: ClusterSubjects,
  replicas: number,
  retentionMs: number,
): Promise<void> {
  await ensureStream(jsm, {
    name: subjects.lifecycleStream,
    subjects: [subjects.lifecycleAll],
    storage: StorageType.File,
    num_replicas: replicas,
    max_age: nanos(retentionMs),
    duplicate_window: nanos(EVENT_DUPLICATE_WINDOW_MS),
  });
}

/** The version an entry of one strategy wrote: from the value its writer had, else from its bytes (a replay). */
function versionOf(entry: AppliedEntry): number | undefined {
  if (entry.records.length !== 1) return undefined;
  const written = entry.values?.[0] as Strategy | undefined;
  return written?.version ?? decodeStrategy(recordAt(entry, 0)).version;
}

/** The events a log entry makes (none for reports, epoch markers and kinds this build does not know). */
export function eventsOf(partition: number, seq: number, entry: AppliedEntry): LifecycleEventMessage[] {
  const base = { v: PROTOCOL_VERSION, partition, seq, at: entry.at, ids: entry.ids };
  switch (entry.op) {
    case LogOps.Register:
    case LogOps.RegisterBatch:
      return [{ ...base, kind: LifecycleEventKinds.Created }];
    case LogOps.Update: {
      const version = versionOf(entry);
      return [{ ...base, kind: LifecycleEventKinds.Updated, ...(version === undefined ? {} : { version }) }];
    }
    case LogOps.Retire:
    case LogOps.Transition:
    case LogOps.AttachEvidence: {
      const move = entry.head?.lc;
      const version = versionOf(entry);
      const event: LifecycleEventMessage = {
        ...base,
        kind: LifecycleEventKinds.StateChanged,
        ...(version === undefined ? {} : { version }),
      };
      if (move !== undefined) {
        Object.assign(event, { event: move.event, from: move.from, to: move.to, by: move.by });
        if (move.reason !== undefined) event.reason = move.reason;
        if (move.event === LifecycleEvents.RecordGates) {
          event.kind = LifecycleEventKinds.GateFailed;
          event.gates = move.gates;
        } else if (move.event === LifecycleEvents.Maturity) {
          event.kind = LifecycleEventKinds.MaturityChanged;
        }
      } else if (entry.head?.note !== undefined) {
        event.reason = entry.head.note;
      }
      return [event];
    }
    default:
      return [];
  }
}

/** Publishes lifecycle events, in log order per partition, retrying a publish that failed. */
export class LifecycleEventPublisher {
  /** Publishes not yet acknowledged by the stream. */
  pending = 0;
  /** Events the stream did not take after every retry (logged). */
  failed = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly subjects: ClusterSubjects,
    private readonly logger: Logger,
    private readonly retries = 3,
  ) {}

  /** Publishes events (see {@link eventsOf}), in order. */
  publish(events: readonly LifecycleEventMessage[]): void {
    for (const event of events) this.send(event, 1);
  }

  private send(event: LifecycleEventMessage, attempt: number): void {
    const subject = this.subjects.lifecycleEvents(event.kind as LifecycleEventKind, event.partition);
    this.pending++;
    this.js
      .publish(subject, encode(event), { msgID: `${event.partition}:${event.seq}:${event.kind}`, timeout: 5000 })
      .then(
        () => {
          this.pending--;
        },
        (err: unknown) => {
          this.pending--;
          if (attempt < this.retries) {
            setTimeout(() => this.send(event, attempt + 1), 200 * attempt).unref();
            return;
          }
          this.failed++;
          this.logger.warn(
            { err, partition: event.partition, seq: event.seq, kind: event.kind },
            "lifecycle event not published; the next owner of the partition publishes recent ones again",
          );
        },
      );
  }
}
