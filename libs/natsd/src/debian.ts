/**
 * Reading Debian's archive: the `Packages` index of a suite, and one package's `.deb`,
 * checked against the SHA256 the index gives for it. Nothing here runs what it downloads.
 */
import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { createGunzip } from "node:zlib";
import { compareVersions, debianUpstreamVersion } from "./version.js";

/** Debian's archive behind a CDN; HTTPS so that what the index says is what Debian published. */
export const DEBIAN_MIRROR = "https://deb.debian.org/debian";

/** One binary package as a `Packages` index describes it. */
export interface DebianPackage {
  /** `Package:`, e.g. `nats-server`. */
  name: string;
  /** `Version:`, Debian's form, e.g. `2.10.27-1+b2`. */
  version: string;
  /** The upstream version inside it, e.g. `2.10.27`. */
  upstreamVersion: string;
  /** `Architecture:`, e.g. `amd64`. */
  architecture: string;
  /** `Filename:`, relative to the mirror, e.g. `pool/main/n/nats-server/nats-server_2.10.27-1+b2_amd64.deb`. */
  filename: string;
  /** `SHA256:` of the `.deb`, lower-case hex. */
  sha256: string;
  /** `Size:` of the `.deb` in bytes. */
  size: number;
}

/** The `fetch` this module calls; injectable so tests can serve an archive without a network. */
export type FetchLike = (url: string, init?: { signal?: AbortSignal }) => Promise<Response>;

/** Debian's name for the CPU architecture Node reports, or undefined when Debian has no build we use. */
export function debianArch(nodeArch: string = process.arch): string | undefined {
  return ({ x64: "amd64", arm64: "arm64" } as Record<string, string>)[nodeArch];
}

/**
 * Splits an index into paragraphs (blank-line separated) of `Field: value` pairs. A line
 * starting with a space or tab continues the previous field (multi-line descriptions).
 */
export async function* packagesParagraphs(
  lines: AsyncIterable<string> | Iterable<string>,
): AsyncGenerator<Map<string, string>> {
  let fields = new Map<string, string>();
  let last: string | undefined;
  for await (const raw of lines) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") {
      if (fields.size > 0) yield fields;
      fields = new Map();
      last = undefined;
    } else if ((line.startsWith(" ") || line.startsWith("\t")) && last !== undefined) {
      fields.set(last, `${fields.get(last) ?? ""}\n${line.slice(1)}`);
    } else {
      const colon = line.indexOf(":");
      if (colon <= 0) continue; // Not a field; Debian's indexes have none, so skip rather than fail.
      last = line.slice(0, colon);
      fields.set(last, line.slice(colon + 1).trim());
    }
  }
  if (fields.size > 0) yield fields;
}

function toPackage(fields: Map<string, string>): DebianPackage | undefined {
  const name = fields.get("Package");
  const version = fields.get("Version");
  const filename = fields.get("Filename");
  const sha256 = fields.get("SHA256")?.toLowerCase();
  const size = Number(fields.get("Size"));
  if (!name || !version || !filename || !sha256 || !/^[0-9a-f]{64}$/.test(sha256) || !Number.isSafeInteger(size)) {
    return undefined;
  }
  let upstreamVersion: string;
  try {
    upstreamVersion = debianUpstreamVersion(version);
    compareVersions(upstreamVersion, upstreamVersion); // throws unless it is X.Y.Z[-pre]
  } catch {
    return undefined;
  }
  return { name, version, upstreamVersion, architecture: fields.get("Architecture") ?? "", filename, sha256, size };
}

/**
 * The newest complete entry for package `name` in a `Packages` index (its lines), or
 * undefined when the index has none. Entries missing `Filename`, `SHA256` or `Size`, or
 * whose version is not `X.Y.Z`, are ignored: they could not be fetched and checked.
 */
export async function findDebianPackage(
  lines: AsyncIterable<string> | Iterable<string>,
  name: string,
): Promise<DebianPackage | undefined> {
  let best: DebianPackage | undefined;
  for await (const fields of packagesParagraphs(lines)) {
    if (fields.get("Package") !== name) continue;
    const entry = toPackage(fields);
    if (
      entry !== undefined &&
      (best === undefined || compareVersions(entry.upstreamVersion, best.upstreamVersion) > 0)
    ) {
      best = entry;
    }
  }
  return best;
}

/** Where one suite's index for one architecture is, e.g. `…/dists/trixie/main/binary-amd64/Packages.gz`. */
export function packagesIndexUrl(mirror: string, suite: string, arch: string): string {
  // gzip, not xz: Node decompresses gzip itself.
  return `${mirror}/dists/${suite}/main/binary-${arch}/Packages.gz`;
}

async function fetchOk(fetchImpl: FetchLike, url: string, timeoutMs: number): Promise<Response> {
  const response = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok || response.body === null) {
    throw new Error(`GET ${url}: HTTP ${response.status} ${response.statusText}`.trim());
  }
  return response;
}

/**
 * Downloads a suite's `Packages.gz` and returns the newest entry for `name`, or undefined.
 * The index (~13 MB) is decompressed and read as it streams in, never held whole.
 */
export async function fetchDebianPackage(options: {
  name: string;
  suite: string;
  arch: string;
  mirror?: string;
  fetch?: FetchLike;
  timeoutMs?: number;
}): Promise<DebianPackage | undefined> {
  const url = packagesIndexUrl(options.mirror ?? DEBIAN_MIRROR, options.suite, options.arch);
  const response = await fetchOk(options.fetch ?? fetch, url, options.timeoutMs ?? 300_000);
  const body = Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>);
  const gunzip = createGunzip();
  body.on("error", (error) => gunzip.destroy(error));
  const lines = createInterface({ input: body.pipe(gunzip), crlfDelay: Number.POSITIVE_INFINITY });
  try {
    return await findDebianPackage(lines, options.name);
  } catch (error) {
    throw new Error(`cannot read ${url}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  } finally {
    body.destroy();
  }
}

/**
 * Downloads `entry`'s `.deb` and returns its bytes once their size and SHA256 match the
 * index; a mismatch (a truncated download, a stale mirror) throws.
 */
export async function downloadDebianPackage(
  entry: DebianPackage,
  options: { mirror?: string; fetch?: FetchLike; timeoutMs?: number } = {},
): Promise<Buffer> {
  const url = `${options.mirror ?? DEBIAN_MIRROR}/${entry.filename}`;
  const response = await fetchOk(options.fetch ?? fetch, url, options.timeoutMs ?? 300_000);
  const bytes = Buffer.from(await response.arrayBuffer());
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (bytes.length !== entry.size || sha256 !== entry.sha256) {
    throw new Error(
      `${url} does not match Debian's index: got ${bytes.length} bytes, SHA256 ${sha256}; ` +
        `expected ${entry.size} bytes, SHA256 ${entry.sha256}`,
    );
  }
  return bytes;
}
