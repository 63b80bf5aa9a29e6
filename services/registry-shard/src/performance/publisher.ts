/**
 * Publishes each served partition's top-k lists on `<cluster>.topk.<p>` every
 * tick in which they changed, stamped with the owner's epoch and the log
 * sequence they reflect; an unchanged partition still publishes once a second,
 * so that a ranker can tell a quiet partition from a missing one.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { type ClusterSubjects, encode } from "@stratreg/protocol";
import type { Logger } from "pino";
import type { Partition } from "../partition.js";

/** An unchanged partition publishes (an empty delta) this often. */
export const TOPK_HEARTBEAT_MS = 1000;
/**
 * Share of each tick a shard may spend publishing. Under a flood of reports
 * every partition changes every tick; past this budget the remaining
 * partitions publish on the next tick (taken in turn), so ranking never
 * starves the writes and freshness degrades gradually instead.
 */
export const TOPK_TICK_BUDGET = 0.3;

export class TopKPublisher {
  private readonly lastSent = new Map<number, number>();
  /** Where the next tick starts among the served partitions (they take turns when a tick runs out of time). */
  private cursor = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: ClusterSubjects,
    private readonly served: () => Partition[],
    private readonly logger: Logger,
    private readonly tickMs = 100,
  ) {}

  /** Publishes what changed in every served partition. */
  tick(): void {
    const now = performance.now();
    const served = this.served();
    const budget = this.tickMs * TOPK_TICK_BUDGET;
    for (let i = 0; i < served.length; i++) {
      if (i > 0 && performance.now() - now > budget) {
        this.cursor = (this.cursor + i) % served.length;
        return;
      }
      const partition = served[(this.cursor + i) % served.length] as Partition;
      if (!partition.answering()) continue;
      try {
        const heartbeat = now - (this.lastSent.get(partition.id) ?? 0) >= TOPK_HEARTBEAT_MS;
        const publication = partition.rankings.publish(
          partition.lease.epoch,
          partition.lastSeq,
          heartbeat,
          now + budget,
        );
        if (publication === undefined) continue;
        this.nc.publish(this.subjects.topk(partition.id), encode(publication));
        this.lastSent.set(partition.id, now);
      } catch (err) {
        this.logger.warn({ err, partition: partition.id }, "could not publish the partition's top-k");
      }
    }
  }
}
