/**
 * Following lifecycle events from the stream `<cluster>-lifecycle`: a consumer
 * that starts where it likes (only new events, all that are kept, or after the
 * last stream sequence it saw) and then receives each event as it is published,
 * so nobody polls the registry to learn that a strategy changed.
 */
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  clusterSubjects,
  DEFAULT_CLUSTER,
  decode,
  type LifecycleEventKind,
  type LifecycleEventMessage,
} from "@stratreg/protocol";

/** Options of {@link followLifecycleEvents}. */
export interface LifecycleEventsOptions {
  cluster?: string;
  /** Only these kinds (all when absent). */
  kinds?: LifecycleEventKind[];
  /** Where to start: `"new"` (default), `"all"` kept, or after this stream sequence (resuming). */
  from?: "new" | "all" | number;
}

/** A lifecycle event with its stream sequence (what a consumer resumes after). */
export type StreamedLifecycleEvent = LifecycleEventMessage & { streamSeq: number };

/** A running follower: iterate it; `stop()` ends the iteration. */
export interface LifecycleEventFollower extends AsyncIterable<StreamedLifecycleEvent> {
  stop(): Promise<void>;
}

/** Follows lifecycle events over `nc` (an ordered consumer: in stream order, re-created if it falls behind). */
export async function followLifecycleEvents(
  nc: NatsConnection,
  options: LifecycleEventsOptions = {},
): Promise<LifecycleEventFollower> {
  const subjects = clusterSubjects(options.cluster ?? DEFAULT_CLUSTER);
  const kinds = options.kinds === undefined || options.kinds.length === 0 ? undefined : new Set<string>(options.kinds);
  // One kind is one server-side filter; several would need nats-server 2.10's filter_subjects, so they
  // are filtered here instead (lifecycle events are few; reports never make one).
  const filter = kinds?.size === 1 ? `${subjects.cluster}.lifecycle.${[...kinds][0]}.*` : subjects.lifecycleAll;
  const from = options.from ?? "new";
  const start =
    typeof from === "number"
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from + 1 }
      : { deliver_policy: from === "all" ? DeliverPolicy.All : DeliverPolicy.New };
  const consumer = await jetstream(nc).consumers.get(subjects.lifecycleStream, {
    filter_subjects: filter,
    ...start,
  });
  const messages = await consumer.consume();
  async function* events(): AsyncGenerator<StreamedLifecycleEvent> {
    for await (const msg of messages) {
      let event: unknown;
      try {
        event = decode(msg.data);
      } catch {
        continue;
      }
      if (
        event !== null &&
        typeof event === "object" &&
        (kinds === undefined || kinds.has((event as LifecycleEventMessage).kind))
      ) {
        yield { ...(event as LifecycleEventMessage), streamSeq: msg.seq };
      }
    }
  }
  const iterator = events();
  return {
    [Symbol.asyncIterator]: () => iterator,
    stop: async () => {
      await messages.close();
    },
  };
}
