/** get, get-batch and list: answered from memory, never waiting for writes. */
import {
  acceptedBody,
  acceptsBytes,
  ErrorCodes,
  idOf,
  Limits,
  NotFoundError,
  PartitionOps,
  parseRequest,
  partitionOf,
  ValidationError,
} from "@stratreg/protocol";
import type { Partition } from "../partition.js";
import { okReply, raw, strategyReply } from "./reply.js";

const DEFAULT_LIST_LIMIT = 100;
/** Envelope bytes per strategy in a reply (array slot, bin or map header slack). */
const REPLY_OVERHEAD_PER_ITEM = 8;

/**
 * Throws WRONG_PARTITION unless `id` hashes to `partition`. `field` names where
 * the id is; a function is called only to say so (a batch builds no name per item).
 */
export function checkPartition(partition: Partition, id: string, field: string | (() => string)): void {
  const owner = partitionOf(id, partition.context.partitions);
  if (owner !== partition.id) {
    throw new ValidationError(ErrorCodes.WrongPartition, `${id} belongs to partition ${owner}, not ${partition.id}`, {
      field: typeof field === "string" ? field : field(),
      details: { id, partition: owner },
    });
  }
}

/** Reads the id straight from the bytes once their check accepts them; otherwise parseRequest names the problem. */
export function get(partition: Partition, payload: Uint8Array): Uint8Array {
  const bytes = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const body = acceptsBytes(PartitionOps.Get, bytes) ? acceptedBody(PartitionOps.Get, bytes) : undefined;
  const id = body === undefined ? parseRequest(PartitionOps.Get, payload).body.id : idOf(bytes, body, 0);
  checkPartition(partition, id, "body.id");
  const stored = partition.store.get(id);
  if (stored === undefined) throw new NotFoundError(`no strategy ${id}`, { details: { id } });
  return strategyReply(stored, partition.lastSeq);
}

export function getBatch(partition: Partition, payload: Uint8Array): Uint8Array {
  const { ids } = parseRequest(PartitionOps.GetBatch, payload).body;
  ids.forEach((id, i) => {
    checkPartition(partition, id, () => `body.ids[${i}]`);
  });
  const found: Uint8Array[] = [];
  const missing: string[] = [];
  let size = 0;
  for (const id of ids) {
    const stored = partition.store.get(id);
    if (stored === undefined) missing.push(id);
    else {
      found.push(stored);
      size += stored.length + REPLY_OVERHEAD_PER_ITEM;
    }
  }
  if (size > partition.context.maxReplyBytes) {
    throw new ValidationError(
      ErrorCodes.PayloadTooLarge,
      `the ${found.length} strategies asked for take ${size} bytes, over the ${partition.context.maxReplyBytes} a reply may carry; ask for fewer ids at once`,
      { details: { size, limit: partition.context.maxReplyBytes } },
    );
  }
  return okReply({ strategies: raw(found), missing });
}

export function list(partition: Partition, payload: Uint8Array): Uint8Array {
  const { cursor, limit } = parseRequest(PartitionOps.List, payload).body;
  const page = partition.store.page(cursor, Math.min(limit ?? DEFAULT_LIST_LIMIT, Limits.listMax));
  // A page ends early rather than outgrow a NATS message; the cursor carries on from there.
  let size = 0;
  let count = 0;
  while (count < page.records.length) {
    size += (page.records[count] as Uint8Array).length + REPLY_OVERHEAD_PER_ITEM;
    if (size > partition.context.maxReplyBytes && count > 0) break;
    count++;
  }
  const more = page.more || count < page.records.length;
  const nextCursor = more ? (page.ids[count - 1] ?? null) : null;
  return okReply({ strategies: raw(page.records.slice(0, count)), nextCursor });
}
