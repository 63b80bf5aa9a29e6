/**
 * register, register-batch, update and retire. Each validates at the edge, then
 * runs in the partition's write queue: check state, append one fenced log entry,
 * apply it, reply. A retried command id gets the reply of the original entry.
 */
import {
  type BatchRejection,
  ConflictError,
  checkStrategyMap,
  decodeStrategy,
  Encodings,
  ErrorCodes,
  encodeLogEntry,
  encodeStrategy,
  LifecycleEvents,
  LOG_FORMAT_VERSION,
  type LogEntry,
  LogOps,
  MsgpackScanError,
  MsgpackScanner,
  NotFoundError,
  newStrategy,
  nextLifecycleState,
  PartitionOps,
  parseRequest,
  patchStrategy,
  type Strategy,
  type StrategyInput,
  spliceNewStrategy,
  ValidationError,
} from "@stratreg/protocol";
import type { Partition } from "../partition.js";
import { checkPartition } from "./reads.js";
import { okReply, strategyReply } from "./reply.js";

/**
 * Byte ranges of the strategies inside a standard-msgpack request, found without
 * decoding them again; each must be a map that decoded to `inputs[i]`.
 */
function strategyRanges(
  payload: Uint8Array,
  path: "strategy" | "strategies",
  inputs: StrategyInput[],
): Array<[number, number, number]> {
  let ranges: Array<[number, number, number]>;
  try {
    const scanner = new MsgpackScanner(payload);
    const body = scanner.mapValue(0, "body");
    const at = body === undefined ? undefined : scanner.mapValue(body, path);
    if (at === undefined) throw new MsgpackScanError(`body.${path} not found`);
    ranges = path === "strategy" ? [[at, scanner.skip(at), scanner.mapEntries]] : scanner.arrayItems(at);
  } catch (err) {
    throw new ValidationError(ErrorCodes.Malformed, `strategies must be standard msgpack: ${(err as Error).message}`, {
      cause: err,
      field: `body.${path}`,
    });
  }
  ranges.forEach(([start, end, entries], i) => {
    checkStrategyMap(payload, start, end, inputs[i] as StrategyInput, entries);
  });
  return ranges;
}

/** The reply a command got when its log entry was written, rebuilt from the entry. */
export function replyFromEntry(entry: LogEntry): Uint8Array {
  if (entry.op === LogOps.RegisterBatch) {
    return okReply({ registered: entry.ids.length, rejected: entry.rejected ?? [] });
  }
  const record = entry.recs[0];
  if (record === undefined) throw new Error(`log entry for ${entry.op} carries no record`);
  return strategyReply(record);
}

function entryOf(partition: Partition, op: LogEntry["op"], cid: string | undefined, at: number): LogEntry {
  const entry: LogEntry = { v: LOG_FORMAT_VERSION, op, at, member: partition.context.member, ids: [], recs: [] };
  if (cid !== undefined) entry.cid = cid;
  return entry;
}

/** Appends `entry` and answers with `reply`, or with the original reply if the command id was already logged. */
async function commit(partition: Partition, entry: LogEntry, reply: () => Uint8Array): Promise<Uint8Array> {
  const bytes = encodeLogEntry(entry);
  if (bytes.length > partition.context.maxEntryBytes) {
    throw new ValidationError(
      ErrorCodes.PayloadTooLarge,
      `the log entry would be ${bytes.length} bytes, over the ${partition.context.maxEntryBytes} the server accepts; send fewer strategies per batch`,
      { details: { size: bytes.length, limit: partition.context.maxEntryBytes } },
    );
  }
  const appended = await partition.append(entry, bytes);
  if (appended.duplicate) return replyFromEntry(await partition.context.log.entryAt(appended.seq));
  return reply();
}

/** Answers a command id this partition has already logged, if it has. */
async function replayed(partition: Partition, cid: string | undefined): Promise<Uint8Array | undefined> {
  const seq = partition.commandSeq(cid);
  return seq === undefined ? undefined : replyFromEntry(await partition.context.log.entryAt(seq));
}

function alreadyExists(id: string): ConflictError {
  return new ConflictError(ErrorCodes.AlreadyExists, `strategy ${id} is already registered`, { details: { id } });
}

export function register(partition: Partition, payload: Uint8Array): Promise<Uint8Array> {
  const request = parseRequest(PartitionOps.Register, payload);
  const input = request.body.strategy;
  checkPartition(partition, input.id, "body.strategy.id");
  const [range] = strategyRanges(payload, "strategy", [input]);
  if (range === undefined) throw new ValidationError(ErrorCodes.Malformed, "body.strategy not found");
  return partition.write(async () => {
    const earlier = await replayed(partition, request.cid);
    if (earlier !== undefined) return earlier;
    if (partition.store.has(input.id)) throw alreadyExists(input.id);
    const now = Date.now();
    const record = spliceNewStrategy(payload, range[0], range[1], input, now, range[2]);
    const entry = entryOf(partition, LogOps.Register, request.cid, now);
    entry.ids.push(input.id);
    entry.recs.push(record);
    return commit(partition, entry, () => strategyReply(record));
  });
}

export function registerBatch(
  partition: Partition,
  payload: Uint8Array,
  encoding: string | undefined,
): Promise<Uint8Array> {
  const records = encoding === Encodings.Records;
  if (encoding !== undefined && !records && encoding !== Encodings.Msgpack) {
    throw new ValidationError(ErrorCodes.InvalidField, `unknown encoding ${JSON.stringify(encoding)}`, {
      field: "header.Stratreg-Encoding",
    });
  }
  const request = parseRequest(PartitionOps.RegisterBatch, payload);
  const inputs: StrategyInput[] = request.body.strategies;
  inputs.forEach((input, i) => {
    checkPartition(partition, input.id, `body.strategies[${i}].id`);
  });
  const ranges = records ? undefined : strategyRanges(payload, "strategies", inputs);
  return partition.write(async () => {
    const earlier = await replayed(partition, request.cid);
    if (earlier !== undefined) return earlier;
    const now = Date.now();
    const entry = entryOf(partition, LogOps.RegisterBatch, request.cid, now);
    const rejected: BatchRejection[] = [];
    const taken = new Set<string>();
    inputs.forEach((input, index) => {
      if (partition.store.has(input.id) || taken.has(input.id)) {
        rejected.push({ index, id: input.id, error: alreadyExists(input.id).toWire() });
        return;
      }
      taken.add(input.id);
      const range = ranges?.[index];
      entry.ids.push(input.id);
      entry.recs.push(
        range === undefined
          ? encodeStrategy(newStrategy(input, now))
          : spliceNewStrategy(payload, range[0], range[1], input, now, range[2]),
      );
    });
    if (rejected.length > 0) entry.rejected = rejected;
    const reply = () => okReply({ registered: entry.ids.length, rejected });
    if (entry.ids.length === 0) return reply();
    return commit(partition, entry, reply);
  });
}

function stored(partition: Partition, id: string): Strategy {
  const bytes = partition.store.get(id);
  if (bytes === undefined) throw new NotFoundError(`no strategy ${id}`, { details: { id } });
  return decodeStrategy(bytes);
}

function checkVersion(current: Strategy, expected: number | undefined): void {
  if (expected !== undefined && current.version !== expected) {
    throw new ConflictError(
      ErrorCodes.Conflict,
      `strategy ${current.id} is at version ${current.version}, not ${expected}`,
      { details: { id: current.id, expected, actual: current.version } },
    );
  }
}

async function commitChange(
  partition: Partition,
  op: typeof LogOps.Update | typeof LogOps.Retire,
  cid: string | undefined,
  next: Strategy,
  note?: string,
): Promise<Uint8Array> {
  const record = encodeStrategy(next);
  const entry = entryOf(partition, op, cid, next.updatedAt);
  entry.ids.push(next.id);
  entry.recs.push(record);
  if (note !== undefined) entry.note = note;
  return commit(partition, entry, () => strategyReply(record));
}

export function update(partition: Partition, payload: Uint8Array): Promise<Uint8Array> {
  const request = parseRequest(PartitionOps.Update, payload);
  const { id, expectedVersion, patch } = request.body;
  checkPartition(partition, id, "body.id");
  return partition.write(async () => {
    const earlier = await replayed(partition, request.cid);
    if (earlier !== undefined) return earlier;
    const current = stored(partition, id);
    checkVersion(current, expectedVersion);
    nextLifecycleState(current.state, { type: LifecycleEvents.Update });
    return commitChange(partition, LogOps.Update, request.cid, patchStrategy(current, patch, Date.now()));
  });
}

export function retire(partition: Partition, payload: Uint8Array): Promise<Uint8Array> {
  const request = parseRequest(PartitionOps.Retire, payload);
  const { id, expectedVersion, reason } = request.body;
  checkPartition(partition, id, "body.id");
  return partition.write(async () => {
    const earlier = await replayed(partition, request.cid);
    if (earlier !== undefined) return earlier;
    const current = stored(partition, id);
    checkVersion(current, expectedVersion);
    const state = nextLifecycleState(current.state, { type: LifecycleEvents.Retire, reason });
    const next: Strategy = { ...current, state, version: current.version + 1, updatedAt: Date.now() };
    return commitChange(partition, LogOps.Retire, request.cid, next, reason);
  });
}
