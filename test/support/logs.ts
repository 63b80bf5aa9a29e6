/** Test support: every message of a fenced log (the risk guard's, the graph's), in order, with its sequence. */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { readSubject } from "@stratreg/fencing";

/** Every message on `subject` in `stream`, decoded by `decode`, up to the stream's last sequence now. */
export async function readLog<T>(
  nc: NatsConnection,
  stream: string,
  subject: string,
  decode: (data: Uint8Array) => T,
): Promise<Array<{ seq: number; entry: T }>> {
  const last = (await (await jetstreamManager(nc)).streams.info(stream)).state.last_seq;
  const out: Array<{ seq: number; entry: T }> = [];
  if (last === 0) return out;
  const read = await readSubject(
    jetstream(nc),
    stream,
    subject,
    1,
    last,
    (data, seq) => {
      out.push({ seq, entry: decode(data) });
    },
    10_000,
  );
  if (read.seq < last) throw new Error(`the read of ${stream} stopped at ${read.seq} of ${last}`);
  return out;
}
