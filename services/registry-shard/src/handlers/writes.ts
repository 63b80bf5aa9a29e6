/**
 * register, register-batch, update and retire. Each validates at the edge, then
 * runs in the partition's write queue: check state, append one fenced log entry,
 * apply it, reply. A retried command id gets the reply of the original entry.
 */

import { performance } from "node:perf_hooks";
import {
  acceptedStrategies,
  acceptsBytes,
  arrayHeader,
  type BatchRejection,
  ConflictError,
  decode,
  decodeStrategy,
  type Encoding,
  Encodings,
  type EntryItems,
  ErrorCodes,
  encode,
  encodeEntry,
  encodeLogEntry,
  encodeStrategy,
  encodeWithoutUndefined,
  envelopeFields,
  type GatesReply,
  idOf,
  LifecycleEvents,
  LifecycleStates,
  Limits,
  LOG_FORMAT_VERSION,
  type LogEntry,
  type LogEntryHead,
  type LogEntryLayout,
  type LogMove,
  LogOps,
  lifecycleOf,
  type MapLayouts,
  NewStrategyItems,
  NotFoundError,
  nextLifecycle,
  type PartitionOp,
  PartitionOps,
  parseRequest,
  patchStrategy,
  type RequestBody,
  recordAt,
  STRATEGY_LAYOUT_FIELDS,
  type StoredLifecycle,
  type Strategy,
  stateOfValue,
  TransitionActions,
  ValidationError,
  valueName,
} from "@stratreg/protocol";
import type { Partition } from "../partition.js";
import { checkNoDependents } from "./lifecycle.js";
import { reportReplyFromEntry } from "./performance.js";
import { checkPartition } from "./reads.js";
import { errorReply, okReply, strategyReply } from "./reply.js";

/** The reply a command got when its log entry was written, rebuilt from the entry. */
export function replyFromEntry(entry: LogEntry): Uint8Array {
  if (entry.op === LogOps.Report) return okReply({ ...reportReplyFromEntry(entry) });
  if (entry.lc?.event === LifecycleEvents.RecordGates) return errorReply(gatesFailed(entry.lc.gates as GatesReply));
  if (entry.op === LogOps.RegisterBatch) {
    return okReply({ registered: entry.ids.length, rejected: entry.rejected ?? [] });
  }
  const record = entry.recs[0];
  if (record === undefined) throw new Error(`log entry for ${entry.op} carries no record`);
  return strategyReply(record);
}

/** A log entry being put together by a command. */
export interface PendingEntry {
  head: LogEntryHead;
  ids: string[];
  recs: Uint8Array[];
  /** The strategies as items written straight into the entry (registration), instead of `ids` and `recs`. */
  items?: EntryItems;
  /** The records as values, when the command has them decoded: applying the entry then decodes nothing. */
  values?: unknown[];
}

export function entryOf(
  partition: Partition,
  op: LogEntryHead["op"],
  cid: string | undefined,
  at: number,
): PendingEntry {
  const head: LogEntryHead = {
    v: LOG_FORMAT_VERSION,
    op,
    at,
    member: partition.context.member,
    epoch: partition.epoch,
  };
  if (cid !== undefined) head.cid = cid;
  return { head, ids: [], recs: [] };
}

/** Appends `entry` and answers with `reply`, or with the original reply if the command id was already logged. */
export async function commit(
  partition: Partition,
  entry: PendingEntry,
  reply: (layout: LogEntryLayout) => Uint8Array,
): Promise<Uint8Array> {
  const layout =
    entry.items === undefined
      ? encodeLogEntry(entry.head, entry.ids, entry.recs)
      : encodeEntry(entry.head, entry.items);
  if (entry.values !== undefined) layout.values = entry.values;
  layout.head = entry.head;
  const size = layout.bytes.length;
  if (size > partition.context.maxEntryBytes) {
    throw new ValidationError(
      ErrorCodes.PayloadTooLarge,
      `the log entry would be ${size} bytes, over the ${partition.context.maxEntryBytes} the server accepts; send fewer strategies per batch`,
      { details: { size, limit: partition.context.maxEntryBytes } },
    );
  }
  const appended = await partition.append(layout);
  if (appended.duplicate) return replyFromEntry(await partition.context.log.entryAt(appended.seq));
  return reply(layout);
}

/** The envelope fields every write carries besides its body. */
export interface CommandEnvelope {
  cid?: string | undefined;
  /** When the client first issued the command (ms since the Unix epoch, the client's clock). */
  issued?: number | undefined;
  /** How long the caller waits for the reply, from when it sent the request (ms). */
  deadlineMs?: number | undefined;
}

/** Refuses a command issued too long ago to be told apart from a new one, or implausibly far ahead. */
function checkIssued(partition: Partition, issued: number | undefined): void {
  if (issued === undefined) return;
  const { commandWindowMs, maxClockSkewMs } = partition.context.settings;
  const now = Date.now();
  if (now - issued > commandWindowMs) {
    throw new ConflictError(
      ErrorCodes.CommandExpired,
      `the command was issued ${Math.round((now - issued) / 1000)} s ago, longer than the ${Math.round(commandWindowMs / 1000)} s in which a retry is recognised; it was not applied now (check whether the first attempt was, then send a new command)`,
      { details: { issued, windowMs: commandWindowMs } },
    );
  }
  if (issued - now > maxClockSkewMs) {
    throw new ValidationError(
      ErrorCodes.InvalidField,
      `issued is ${Math.round((issued - now) / 1000)} s ahead of the shard's clock (at most ${Math.round(maxClockSkewMs / 1000)} s allowed)`,
      { field: "issued", details: { issued, now } },
    );
  }
}

/**
 * Runs `command` in the partition's write queue, unless the partition has already
 * logged command id `cid`: then the reply is the one that entry got. Work whose
 * caller has given up by its turn is dropped.
 */
export function writeOnce(
  partition: Partition,
  envelope: CommandEnvelope,
  command: () => Promise<Uint8Array>,
): Promise<Uint8Array> {
  const deadline =
    envelope.deadlineMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + envelope.deadlineMs;
  return partition.write(async () => {
    for (const seq of partition.commandSeqs(envelope.cid)) {
      // A command remembered only by its hash may be another's: the entry's own cid decides.
      const entry = await partition.context.log.entryAt(seq).catch(() => undefined);
      if (entry !== undefined && entry.cid === envelope.cid) return replyFromEntry(entry);
    }
    checkIssued(partition, envelope.issued);
    return command();
  }, deadline);
}

/** Dependencies are edges of one graph, changed only through the graph service, which keeps it acyclic. */
function dependenciesThroughGraph(field: string): ValidationError {
  return new ValidationError(
    ErrorCodes.InvalidField,
    `${field}: dependencies are added through the graph service, which refuses edges that would close a cycle (stratreg deps add, or the SDK's link); register or update the strategy without them`,
    { field },
  );
}

function alreadyExists(id: string): ConflictError {
  return new ConflictError(ErrorCodes.AlreadyExists, `strategy ${id} is already registered`, { details: { id } });
}

/** The strategies of a register or register-batch request, ready to be checked against state and logged. */
interface NewStrategies {
  envelope: CommandEnvelope;
  ids: string[];
  /** The strategies `chosen` (indexes into `ids`), registered at `now`, as log entry items. */
  items(chosen: number[], now: number): EntryItems;
}

/**
 * Reads the strategies of a request. A standard-msgpack request is stored as the
 * client sent it, so it must pass the bytes check (the same schema, on the bytes:
 * string keys only, no key repeated at any depth, no extension types); it is
 * never decoded, and the check records where each strategy and its fields are,
 * so nothing walks the bytes again. When the check refuses it, the request is
 * decoded and TypeBox names the problem; if TypeBox finds none, the encoding
 * itself is at fault (MALFORMED).
 *
 * A record-encoded request is decoded and encoded again as standard msgpack, once
 * for the whole request (a map entry whose value is `undefined` left out, as if not
 * sent), and takes the same path when those bytes pass the check. When they do not,
 * the decoded request is validated to name the problem, as for a standard one.
 */
function newStrategies(
  partition: Partition,
  op: typeof PartitionOps.Register | typeof PartitionOps.RegisterBatch,
  payload: Uint8Array,
  records: boolean,
): NewStrategies {
  if (records) {
    // The size limit is the request's as sent: its standard form may be larger.
    const value = payload.length <= Limits.payloadMaxBytes ? decodedOrUndefined(payload) : undefined;
    // Packed as it is first; entries left out only if it holds an undefined (msgpackr's skipping costs ~10 %).
    for (const pack of value === undefined ? [] : [encode, encodeWithoutUndefined]) {
      const standard = standardBytesOf(value, pack);
      const layouts = standard === undefined ? undefined : checkedLayouts(op, standard, Number.POSITIVE_INFINITY);
      if (standard !== undefined && layouts !== undefined) return splicedStrategies(partition, op, standard, layouts);
    }
    return refused(op, payload, Encodings.Records);
  }
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const layouts = checkedLayouts(op, bytes);
  if (layouts === undefined) return refused(op, payload, Encodings.Msgpack);
  return splicedStrategies(partition, op, bytes, layouts);
}

/** Where the bytes check found each strategy of `bytes`, or undefined when it refused them. */
function checkedLayouts(op: PartitionOp, bytes: Buffer, limit?: number): MapLayouts | undefined {
  return acceptsBytes(op, bytes, limit) ? acceptedStrategies(bytes) : undefined;
}

/** Throws the error naming what is wrong with a request the bytes check refused: TypeBox's, else MALFORMED. */
function refused(op: PartitionOp, payload: Uint8Array, encoding: Encoding): never {
  parseRequest(op, payload, encoding);
  throw new ValidationError(
    ErrorCodes.Malformed,
    "strategies must be plain standard msgpack: string map keys, no key repeated in any map, no extension types, valid UTF-8",
    { field: op === PartitionOps.Register ? "body.strategy" : "body.strategies" },
  );
}

function decodedOrUndefined(payload: Uint8Array): unknown {
  try {
    return decode(payload);
  } catch {
    return undefined;
  }
}

/** A decoded request packed as standard msgpack (an owned copy); undefined when it does not encode. */
function standardBytesOf(value: unknown, pack: (value: unknown) => Uint8Array): Buffer | undefined {
  try {
    return Buffer.from(pack(value));
  } catch {
    return undefined;
  }
}

const idField = (op: PartitionOp, i: number) =>
  op === PartitionOps.Register ? "body.strategy.id" : `body.strategies[${i}].id`;
const dependenciesField = (op: PartitionOp, i: number) =>
  op === PartitionOps.Register ? "body.strategy.dependencies" : `body.strategies[${i}].dependencies`;

/** Strategies of checked standard-msgpack bytes, stored as spliced from them. */
function splicedStrategies(partition: Partition, op: PartitionOp, bytes: Buffer, layouts: MapLayouts): NewStrategies {
  const ids: string[] = new Array(layouts.count);
  for (let i = 0; i < layouts.count; i++) {
    const id = idOf(bytes, layouts, i);
    checkPartition(partition, id, () => idField(op, i));
    const dependencies = layouts.valueAt(i, DEPENDENCIES_FIELD);
    // An empty array, in whatever width, holds no edge.
    if (dependencies >= 0 && arrayHeader(bytes, dependencies) > 0)
      throw dependenciesThroughGraph(dependenciesField(op, i));
    ids[i] = id;
  }
  const { cid, issued, deadlineMs } = envelopeFields(bytes);
  // The table is the bytes check's, reused by the next request: keep this request's part.
  const table = layouts.copy();
  return {
    envelope: { cid, issued, deadlineMs },
    ids,
    items: (chosen, now) =>
      new NewStrategyItems(
        bytes,
        table,
        chosen,
        chosen.map((i) => ids[i] as string),
        now,
      ),
  };
}

const DEPENDENCIES_FIELD = STRATEGY_LAYOUT_FIELDS.indexOf("dependencies");

export function register(partition: Partition, payload: Uint8Array): Promise<Uint8Array> {
  const request = newStrategies(partition, PartitionOps.Register, payload, false);
  const id = request.ids[0] as string;
  return writeOnce(partition, request.envelope, async () => {
    if (partition.store.has(id)) throw alreadyExists(id);
    const now = Date.now();
    const entry = entryOf(partition, LogOps.Register, request.envelope.cid, now);
    entry.items = request.items([0], now);
    return commit(partition, entry, (layout) => strategyReply(recordAt(layout, 0)));
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
  const request = newStrategies(partition, PartitionOps.RegisterBatch, payload, records);
  return writeOnce(partition, request.envelope, async () => {
    const now = Date.now();
    const entry = entryOf(partition, LogOps.RegisterBatch, request.envelope.cid, now);
    const rejected: BatchRejection[] = [];
    const taken = new Set<string>();
    const chosen: number[] = [];
    request.ids.forEach((id, index) => {
      if (partition.store.has(id) || taken.has(id)) {
        rejected.push({ index, id, error: alreadyExists(id).toWire() });
        return;
      }
      taken.add(id);
      chosen.push(index);
    });
    if (rejected.length > 0) entry.head.rejected = rejected;
    const reply = () => okReply({ registered: chosen.length, rejected });
    if (chosen.length === 0) return reply();
    entry.items = request.items(chosen, now);
    return commit(partition, entry, reply);
  });
}

export function stored(partition: Partition, id: string): Strategy {
  const bytes = partition.store.get(id);
  if (bytes === undefined) throw new NotFoundError(`no strategy ${id}`, { details: { id } });
  return decodeStrategy(bytes);
}

export function checkVersion(current: Strategy, expected: number | undefined): void {
  if (expected !== undefined && current.version !== expected) {
    throw new ConflictError(
      ErrorCodes.Conflict,
      `strategy ${current.id} is at version ${current.version}, not ${expected}`,
      { details: { id: current.id, expected, actual: current.version } },
    );
  }
}

/** Logs one strategy's new stored form (with the lifecycle move that made it, if one did) and answers with it. */
export async function commitChange(
  partition: Partition,
  op: typeof LogOps.Update | typeof LogOps.Retire | typeof LogOps.Transition | typeof LogOps.AttachEvidence,
  cid: string | undefined,
  next: Strategy,
  note?: string,
  move?: LogMove,
): Promise<Uint8Array> {
  const record = encodeStrategy(next);
  const entry = entryOf(partition, op, cid, next.updatedAt);
  entry.ids.push(next.id);
  entry.recs.push(record);
  // The event publisher reads the new version from it instead of decoding the record again.
  entry.values = [next];
  if (note !== undefined) entry.head.note = note;
  if (move !== undefined) entry.head.lc = move;
  return commit(partition, entry, () => strategyReply(record));
}

/** `current` after a lifecycle move to `lifecycle`: a new version. */
export function moved(current: Strategy, lifecycle: StoredLifecycle, now: number): Strategy {
  return {
    ...current,
    state: stateOfValue(lifecycle.value),
    lifecycle,
    version: current.version + 1,
    updatedAt: now,
  };
}

/** The GATES_FAILED error of a refused validation or activation, listing every gate. */
export function gatesFailed(evaluation: GatesReply): ConflictError {
  const failing = evaluation.gates.filter((gate) => !gate.passed).map((gate) => gate.gate);
  return new ConflictError(
    ErrorCodes.GatesFailed,
    `strategy ${evaluation.id} did not pass the quality gates: ${failing.join(", ")} failed`,
    { details: evaluation as unknown as Record<string, unknown> },
  );
}

/**
 * The common path of update and retire: validate, then in the write queue find
 * the strategy, check the expected version, and log what `change` makes of it.
 */
function changeStrategy<Op extends typeof PartitionOps.Update | typeof PartitionOps.Retire>(
  partition: Partition,
  op: Op,
  payload: Uint8Array,
  change: (current: Strategy, body: RequestBody<Op>) => { next: Strategy; note?: string; move?: LogMove },
): Promise<Uint8Array> {
  const request = parseRequest(op, payload);
  const body = request.body as RequestBody<Op> & { id: string; expectedVersion?: number };
  checkPartition(partition, body.id, "body.id");
  return writeOnce(partition, request, async () => {
    const current = stored(partition, body.id);
    checkVersion(current, body.expectedVersion);
    const { next, note, move } = change(current, body);
    return commitChange(partition, op, request.cid, next, note, move);
  });
}

/** Fields whose change alters what a strategy does: a validated one must be tested again, a live one cannot take it. */
const BEHAVIOUR_FIELDS = ["template", "venues", "dependencies"] as const;

export function update(partition: Partition, payload: Uint8Array): Promise<Uint8Array> {
  return changeStrategy(partition, PartitionOps.Update, payload, (current, { patch }) => {
    if (patch.dependencies !== undefined) throw dependenciesThroughGraph("body.patch.dependencies");
    const behaviour = BEHAVIOUR_FIELDS.some((field) => patch[field] !== undefined);
    const lifecycle = lifecycleOf(current);
    const state = stateOfValue(lifecycle.value);
    if (behaviour && (state === LifecycleStates.Active || state === LifecycleStates.Suspended)) {
      throw new ConflictError(
        ErrorCodes.InvalidTransition,
        `strategy ${current.id} is ${state}: its ${BEHAVIOUR_FIELDS.join(", ")} cannot change; retire it and register the changed strategy`,
        { details: { state, event: LifecycleEvents.Update, fields: BEHAVIOUR_FIELDS } },
      );
    }
    const next = nextLifecycle(lifecycle, { type: LifecycleEvents.Update, behaviour });
    return { next: { ...patchStrategy(current, patch, Date.now()), state: stateOfValue(next.value), lifecycle: next } };
  });
}

export function retire(partition: Partition, payload: Uint8Array): Promise<Uint8Array> {
  return changeStrategy(partition, PartitionOps.Retire, payload, (current, { reason, by }) => {
    checkNoDependents(current, TransitionActions.Retire);
    const now = Date.now();
    const actor = by ?? current.owner;
    const from = lifecycleOf(current);
    const lifecycle = nextLifecycle(from, { type: LifecycleEvents.Retire, reason }, { at: now, by: actor, reason });
    const move: LogMove = {
      event: LifecycleEvents.Retire,
      from: valueName(from.value),
      to: valueName(lifecycle.value),
      by: actor,
    };
    if (reason !== undefined) move.reason = reason;
    return { next: moved(current, lifecycle, now), note: reason, move };
  });
}
