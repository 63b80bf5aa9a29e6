import { randomBytes } from "node:crypto";

/** What a stratreg cluster name must look like. */
export const CLUSTER_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

const SUFFIX_LENGTH = 10;

/**
 * A fresh, valid cluster name `<prefix>-<10 random chars>` (matching
 * {@link CLUSTER_NAME_PATTERN}), so test files sharing one NATS server never see each
 * other's buckets, streams or subjects.
 */
export function uniqueClusterName(prefix = "t"): string {
  const maxPrefix = 32 - SUFFIX_LENGTH - 1;
  if (!/^[a-z][a-z0-9_-]*$/.test(prefix) || prefix.length > maxPrefix) {
    throw new RangeError(
      `cluster name prefix must match ^[a-z][a-z0-9_-]* and be at most ${maxPrefix} chars: ${prefix}`,
    );
  }
  // base36 digits keep the name lower-case; 10 of them make a collision across a run negligible.
  const bytes = randomBytes(SUFFIX_LENGTH);
  let suffix = "";
  for (const byte of bytes) suffix += (byte % 36).toString(36);
  return `${prefix}-${suffix}`;
}
