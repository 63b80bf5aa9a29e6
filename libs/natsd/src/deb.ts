/**
 * Unpacking a `.deb`: with `dpkg-deb -x` where it exists (Debian, Ubuntu), else by reading
 * the `ar` archive here and handing its `data.tar.*` to the `tar` command, which undoes
 * xz, zstd or gzip itself.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** One member of an `ar` archive. */
export interface ArMember {
  name: string;
  data: Buffer;
}

const AR_MAGIC = "!<arch>\n";
const HEADER_SIZE = 60;

/**
 * Reads the members of an `ar` archive (the container of a `.deb`): an 8-byte magic, then
 * per member a 60-byte header (name 16, mtime 12, uid 6, gid 6, mode 8, size 10, "`\n")
 * and its data, padded to an even offset. Throws on anything else.
 */
export function readArMembers(archive: Buffer): ArMember[] {
  if (archive.subarray(0, AR_MAGIC.length).toString("latin1") !== AR_MAGIC) {
    throw new Error("not an ar archive (a .deb starts with !<arch>)");
  }
  const members: ArMember[] = [];
  let offset = AR_MAGIC.length;
  while (offset + HEADER_SIZE <= archive.length) {
    const header = archive.subarray(offset, offset + HEADER_SIZE).toString("latin1");
    if (header.slice(58, 60) !== "`\n") throw new Error(`bad ar member header at byte ${offset}`);
    // GNU ar ends names with "/"; dpkg writes them bare. Both are space-padded.
    const name = header.slice(0, 16).trimEnd().replace(/\/$/, "");
    const size = Number(header.slice(48, 58).trim());
    const start = offset + HEADER_SIZE;
    if (!Number.isSafeInteger(size) || size < 0 || start + size > archive.length) {
      throw new Error(`ar member ${JSON.stringify(name)} claims ${header.slice(48, 58).trim()} bytes past the end`);
    }
    members.push({ name, data: archive.subarray(start, start + size) });
    offset = start + size + (size % 2);
  }
  return members;
}

/** How {@link unpackDeb} unpacks: `auto` tries `dpkg-deb` first. */
export type DebUnpacker = "auto" | "dpkg-deb" | "ar+tar";

/**
 * Unpacks the files of the `.deb` at `debPath` (its `data.tar.*`) into `destDir`, as
 * `dpkg-deb -x` does; returns which way it went. Maintainer scripts are never run.
 */
export async function unpackDeb(
  debPath: string,
  destDir: string,
  unpacker: DebUnpacker = "auto",
): Promise<"dpkg-deb" | "ar+tar"> {
  await mkdir(destDir, { recursive: true });
  if (unpacker !== "ar+tar") {
    try {
      await execFileAsync("dpkg-deb", ["-x", debPath, destDir], { timeout: 120_000 });
      return "dpkg-deb";
    } catch (error) {
      // Only a missing dpkg-deb means "try the other way"; a bad package is an error either way.
      if (unpacker === "dpkg-deb" || (error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  const members = readArMembers(await readFile(debPath));
  const data = members.find((m) => /^data\.tar(\.(xz|zst|gz|bz2))?$/.test(m.name));
  if (data === undefined) {
    throw new Error(`${debPath} has no data.tar member (members: ${members.map((m) => m.name).join(", ")})`);
  }
  // Written beside destDir, not inside it, so the unpacked tree holds only the package's files.
  const tarball = `${destDir}.${data.name}`;
  await writeFile(tarball, data.data);
  try {
    await execFileAsync("tar", ["-xf", tarball, "-C", destDir], { timeout: 120_000 });
  } finally {
    await rm(tarball, { force: true });
  }
  return "ar+tar";
}

/** Where a Debian package puts a program: `usr/sbin/<name>` (nats-server) or `usr/bin/<name>`. */
export function programIn(unpackedDir: string, name: string): string[] {
  return [join(unpackedDir, "usr", "sbin", name), join(unpackedDir, "usr", "bin", name)];
}
