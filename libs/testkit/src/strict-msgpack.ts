/**
 * A strict standard msgpack decoder, the kind of peer the wire contract is written for: tests
 * read replies and stored strategies with it to prove that a client in another language can.
 */

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes standard msgpack as a strict decoder in another language would: it throws
 * on extension types, invalid UTF-8, non-string or repeated map keys and trailing bytes.
 */
export function strictDecode(bytes: Uint8Array): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const take = (n: number): number => {
    if (pos + n > bytes.length) throw new Error(`truncated at ${pos}`);
    pos += n;
    return pos - n;
  };
  const str = (n: number) => {
    const at = take(n);
    return utf8.decode(bytes.subarray(at, at + n));
  };
  const array = (n: number) => Array.from({ length: n }, () => value());
  const map = (n: number) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const key = value();
      if (typeof key !== "string") throw new Error(`a map key is not a string: ${String(key)}`);
      if (Object.hasOwn(out, key)) throw new Error(`key ${key} repeated`);
      Object.defineProperty(out, key, { value: value(), enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  const int64 = (big: bigint) => {
    if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error("unsafe int");
    return Number(big);
  };
  const value = (): unknown => {
    const t = view.getUint8(take(1));
    if (t <= 0x7f) return t;
    if (t >= 0xe0) return t - 0x100;
    if (t <= 0x8f) return map(t & 0x0f);
    if (t <= 0x9f) return array(t & 0x0f);
    if (t <= 0xbf) return str(t & 0x1f);
    switch (t) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return bytes.slice(take(view.getUint8(take(1))), pos);
      case 0xc5:
        return bytes.slice(take(view.getUint16(take(2))), pos);
      case 0xc6:
        return bytes.slice(take(view.getUint32(take(4))), pos);
      case 0xca:
        return view.getFloat32(take(4));
      case 0xcb:
        return view.getFloat64(take(8));
      case 0xcc:
        return view.getUint8(take(1));
      case 0xcd:
        return view.getUint16(take(2));
      case 0xce:
        return view.getUint32(take(4));
      case 0xcf:
        return int64(view.getBigUint64(take(8)));
      case 0xd0:
        return view.getInt8(take(1));
      case 0xd1:
        return view.getInt16(take(2));
      case 0xd2:
        return view.getInt32(take(4));
      case 0xd3:
        return int64(view.getBigInt64(take(8)));
      case 0xd9:
        return str(view.getUint8(take(1)));
      case 0xda:
        return str(view.getUint16(take(2)));
      case 0xdb:
        return str(view.getUint32(take(4)));
      case 0xdc:
        return array(view.getUint16(take(2)));
      case 0xdd:
        return array(view.getUint32(take(4)));
      case 0xde:
        return map(view.getUint16(take(2)));
      case 0xdf:
        return map(view.getUint32(take(4)));
      default:
        throw new Error(`unknown ext id / type 0x${t.toString(16)} at ${pos - 1}`);
    }
  };
  const out = value();
  if (pos !== bytes.length) throw new Error(`${bytes.length - pos} bytes after the value`);
  return out;
}
