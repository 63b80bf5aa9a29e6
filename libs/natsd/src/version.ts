/**
 * The nats-server versions stratreg depends on, and how to compare them. nats-server
 * versions are `major.minor.patch` with an optional `-prerelease`; Debian wraps them as
 * `[epoch:]upstream-revision` (`2.10.27-1+b2`).
 */

/** The oldest nats-server stratreg runs on as a single server (what Debian 12 ships). */
export const MIN_NATS_SERVER_VERSION = "2.9.10";

/**
 * The oldest nats-server for replicated (R3) streams and KV. 2.9 does not serialise
 * `Nats-Expected-Last-Subject-Sequence` on replicated streams (nats-server#4320), which
 * breaks the fencing of partition logs; 2.10.27 is the first release Debian ships (trixie).
 */
export const REPLICATED_NATS_SERVER_VERSION = "2.10.27";

/** The oldest nats-server with `jetstream { sync_interval: always }` (2.9 refuses the field). */
export const SYNC_ALWAYS_NATS_SERVER_VERSION = "2.10.0";

const VERSION = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;

/**
 * Compares two nats-server versions: negative when `a` is older, 0 when equal, positive
 * when newer. A prerelease (`2.10.0-beta.1`) is older than its release. Throws on text
 * that is not `X.Y.Z[-pre]`, so a bad version never passes a check by accident.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < 3; i++) {
    const d = (pa.numbers[i] ?? 0) - (pb.numbers[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (pa.pre === pb.pre) return 0;
  if (pa.pre === undefined) return 1;
  if (pb.pre === undefined) return -1;
  return pa.pre < pb.pre ? -1 : 1;
}

/** Whether `version` is `min` or newer. */
export function isAtLeast(version: string, min: string): boolean {
  return compareVersions(version, min) >= 0;
}

function parts(version: string): { numbers: number[]; pre: string | undefined } {
  const m = VERSION.exec(version);
  if (m === null) throw new RangeError(`not a nats-server version (X.Y.Z): ${JSON.stringify(version)}`);
  return { numbers: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] };
}

/**
 * The upstream part of a Debian package version: `2.10.27-1+b2` → `2.10.27`,
 * `1:2.15.1-1` → `2.15.1`. Debian's `~` (sorts before the release) becomes a prerelease.
 */
export function debianUpstreamVersion(debianVersion: string): string {
  const withoutEpoch = debianVersion.replace(/^\d+:/, "");
  const dash = withoutEpoch.lastIndexOf("-");
  const upstream = dash < 0 ? withoutEpoch : withoutEpoch.slice(0, dash);
  // Repacks (`+ds`, `+dfsg`) do not change the version nats-server reports.
  return upstream.replace(/\+.*$/, "").replace("~", "-");
}
