/**
 * Pre-encoded register-batch requests: 1000 sample strategies of one partition
 * each, encoded before the clock starts (as the raw baseline's bytes are).
 */
import { nuid } from "@nats-io/transport-node";
import { sampleId, sampleStrategy } from "@stratreg/launcher";
import { encode, encodeRecords, PROTOCOL_VERSION, partitionOf } from "@stratreg/protocol";

export interface EncodedBatch {
  partition: number;
  count: number;
  payload: Uint8Array;
}

/**
 * Groups sample strategy indexes `from…` by partition and returns the first
 * `batches` full batches of `batchSize`, encoded as maps or records.
 */
export function encodedBatches(
  prefix: string,
  partitions: number,
  batches: number,
  batchSize: number,
  records: boolean,
): EncodedBatch[] {
  const groups = new Map<number, number[]>();
  const out: EncodedBatch[] = [];
  for (let i = 0; out.length < batches; i++) {
    const p = partitionOf(sampleId(prefix, i), partitions);
    let group = groups.get(p);
    if (group === undefined) {
      group = [];
      groups.set(p, group);
    }
    group.push(i);
    if (group.length === batchSize) {
      groups.delete(p);
      const strategies = group.map((n) => sampleStrategy(prefix, n));
      const envelope = { v: PROTOCOL_VERSION, cid: nuid.next(), issued: Date.now(), body: { strategies } };
      out.push({
        partition: p,
        count: group.length,
        payload: Buffer.from(records ? encodeRecords(envelope) : encode(envelope)),
      });
    }
  }
  return out;
}
