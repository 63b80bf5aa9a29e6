/**
 * The partition hash: MurmurHash3 x86 32-bit (seed 0) over the UTF-8 bytes of a
 * strategy id, reduced modulo the cluster's partition count. It is small, fast,
 * and implemented in every language's standard toolbox (Guava, mmh3, …), so any
 * client routes exactly as the shards do. Test vectors live in docs/protocol.md.
 */

const encoder = new TextEncoder();
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** MurmurHash3 x86 32-bit of `bytes` (its first `len`, at most its length), as an unsigned 32-bit integer. */
export function murmur3(bytes: Uint8Array, seed = 0, len = bytes.length): number {
  let h = seed >>> 0;
  const tail = len & ~3;
  for (let i = 0; i < tail; i += 4) {
    let k =
      (bytes[i] as number) |
      ((bytes[i + 1] as number) << 8) |
      ((bytes[i + 2] as number) << 16) |
      ((bytes[i + 3] as number) << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = len & 3;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= (bytes[tail + 2] as number) << 16;
    if (rest >= 2) k ^= (bytes[tail + 1] as number) << 8;
    k ^= bytes[tail] as number;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const scratch = new Uint8Array(256);

/** MurmurHash3 x86 32-bit (seed 0) of the UTF-8 encoding of `text`. */
export function hashString(text: string): number {
  // Ids are short ASCII: copy their bytes into a reused buffer instead of allocating one per call.
  if (text.length <= scratch.length) {
    let ascii = true;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) {
        ascii = false;
        break;
      }
      scratch[i] = c;
    }
    if (ascii) return murmur3(scratch, 0, text.length);
  }
  return murmur3(encoder.encode(text));
}

/** The partition a strategy id belongs to: `murmur3(utf8(id)) mod partitions`. */
export function partitionOf(id: string, partitions: number): number {
  return hashString(id) % partitions;
}
