/** Encoding of reply envelopes, with stored strategies spliced in unchanged. */
import {
  encode,
  encodeWithRaw,
  PROTOCOL_VERSION,
  RawMsgpack,
  type StratregError,
  toStratregError,
} from "@stratreg/protocol";

/** Bytes of `{ v, ok: true, body: { strategy: ` — a stored strategy completes the message. */
const STRATEGY_REPLY_PREFIX = Buffer.from(
  encodeWithRaw({ v: PROTOCOL_VERSION, ok: true, body: { strategy: new RawMsgpack(new Uint8Array(0)) } }),
);

/**
 * Bytes of `{ v, ok: true, body: { seq: <uint 32>, strategy: `, the seq a placeholder
 * written per reply at {@link SEQ_AT} (a uint 32 always: fixed width, standard msgpack).
 */
const SEQ_REPLY_PREFIX = Buffer.from(
  encodeWithRaw({
    v: PROTOCOL_VERSION,
    ok: true,
    body: { seq: 0xffffffff, strategy: new RawMsgpack(new Uint8Array(0)) },
  }),
);
const SEQ_AT = SEQ_REPLY_PREFIX.indexOf(Buffer.from([0xce, 0xff, 0xff, 0xff, 0xff])) + 1;

/**
 * `{ v, ok: true, body: { strategy } }` around stored strategy bytes; with `seq`,
 * the partition's last applied log sequence too (`body.seq`), which a near-cache
 * compares with how far it has followed the log.
 */
export function strategyReply(stored: Uint8Array, seq?: number): Uint8Array {
  const prefix = seq === undefined || seq > 0xffffffff ? STRATEGY_REPLY_PREFIX : SEQ_REPLY_PREFIX;
  const out = Buffer.allocUnsafe(prefix.length + stored.length);
  prefix.copy(out, 0);
  if (prefix === SEQ_REPLY_PREFIX) out.writeUInt32BE(seq as number, SEQ_AT);
  out.set(stored, prefix.length);
  return out;
}

/** `{ v, ok: true, body }`; `body` may hold {@link RawMsgpack} stored strategies. */
export function okReply(body: Record<string, unknown>): Uint8Array {
  return encodeWithRaw({ v: PROTOCOL_VERSION, ok: true, body });
}

/** `{ v, ok: false, error }` for anything thrown. */
export function errorReply(err: unknown): Uint8Array {
  const error: StratregError = toStratregError(err);
  return Buffer.from(encode({ v: PROTOCOL_VERSION, ok: false, error: error.toWire() }));
}

/** Wraps stored strategies for splicing into a reply. */
export function raw(records: Uint8Array[]): RawMsgpack[] {
  return records.map((record) => new RawMsgpack(record));
}
