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

/** `{ v, ok: true, body: { strategy } }` around stored strategy bytes. */
export function strategyReply(stored: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(STRATEGY_REPLY_PREFIX.length + stored.length);
  STRATEGY_REPLY_PREFIX.copy(out, 0);
  out.set(stored, STRATEGY_REPLY_PREFIX.length);
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
