/**
 * Reads a range of one subject of a stream in order, with an ordered consumer
 * bounded by bytes in flight and a watchdog that ends a read that stalls: what
 * the shards' partition replay, the history reads, the replicas' catch-up and
 * the risk guard's log replay all use.
 */
import { DeliverPolicy, type JetStreamClient, type JsMsg } from "@nats-io/jetstream";

/** Bytes of log entries a read keeps in flight (at least one entry of max_payload fits). */
const READ_WINDOW_BYTES = 4 * 1024 * 1024;

/**
 * Reads `subject` of `stream` from sequence `fromSeq` up to `target` with an
 * ordered consumer, handing each message to `onMessage` (awaited when it
 * returns a promise; `msg` carries the headers). Stops early when `signal`
 * aborts or delivery stalls for `idleMs` (then `stalled`); returns the last
 * sequence read.
 */
export async function readSubject(
  js: JetStreamClient,
  stream: string,
  subject: string,
  fromSeq: number,
  target: number,
  onMessage: (data: Buffer, seq: number, timestampMs: number, msg: JsMsg) => void | Promise<void>,
  idleMs: number,
  signal?: AbortSignal,
): Promise<{ seq: number; stalled: boolean }> {
  const consumer = await js.consumers.get(stream, {
    filter_subjects: subject,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: fromSeq,
  });
  let last = fromSeq - 1;
  // Bounded by bytes, not count: a few large batch entries in flight, or hundreds of small
  // updates (a count of 8 made replaying thousands of small entries a round trip per 8).
  const messages = await consumer.consume({ max_bytes: READ_WINDOW_BYTES });
  // A read that stops making progress (the entry vanished, delivery stalled) must end, so the
  // caller can retry instead of waiting forever.
  let stalled = false;
  let watchdog: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      stalled = true;
      void messages.close();
    }, idleMs);
  };
  arm();
  const abort = () => void messages.close();
  signal?.addEventListener("abort", abort);
  try {
    for await (const msg of messages) {
      if (signal?.aborted) break;
      const data = msg.data;
      const applied = onMessage(
        Buffer.from(data.buffer, data.byteOffset, data.byteLength),
        msg.seq,
        msg.info.timestampNanos / 1e6,
        msg,
      );
      if (applied !== undefined) await applied;
      last = msg.seq;
      if (msg.seq >= target) break;
      arm();
    }
  } finally {
    clearTimeout(watchdog);
    signal?.removeEventListener("abort", abort);
    await messages.close();
  }
  return { seq: last, stalled };
}
