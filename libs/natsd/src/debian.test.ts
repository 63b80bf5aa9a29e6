import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { debianArch, fetchDebianPackage, findDebianPackage, packagesIndexUrl, packagesParagraphs } from "./debian.js";

const SHA_A = "6d913ac987b78734c08537c2adeb1526cf735f216173a9170d94b185fcfe6f8a";
const SHA_B = "31ef4ceaa84e8248d449e508472e3770c17c3695cb5cb0ee96e03912724ea884";

/** Shaped like trixie's index: neighbours, multi-line fields, more than one nats-server. */
const INDEX = `Package: nats
Version: 1.0-1
Architecture: amd64
Filename: pool/main/n/nats/nats_1.0-1_amd64.deb
Size: 10
SHA256: ${SHA_A}

Package: nats-server
Source: nats-server (2.10.27-1)
Version: 2.10.27-1+b2
Architecture: amd64
Description: High-Performance server for NATS.io (program)
 A second line of the description.
 .
 Package: not-a-package
Filename: pool/main/n/nats-server/nats-server_2.10.27-1+b2_amd64.deb
Size: 4502708
SHA256: ${SHA_A.toUpperCase()}

Package: nats-server
Version: 2.9.25-1
Architecture: amd64
Filename: pool/main/n/nats-server/nats-server_2.9.25-1_amd64.deb
Size: 4000000
SHA256: ${SHA_B}

Package: nats-server
Version: 2.99.0-1
Architecture: amd64
Filename: pool/main/n/nats-server/nats-server_2.99.0-1_amd64.deb
Size: 4000000

Package: nats-server-docs
Version: 3.0.0-1
Filename: pool/main/n/nats-server/nats-server-docs_3.0.0-1_all.deb
Size: 1
SHA256: ${SHA_B}
`;

describe("packagesParagraphs", () => {
  it("splits paragraphs and joins continuation lines to their field", async () => {
    const paragraphs = [];
    for await (const p of packagesParagraphs(INDEX.split("\n"))) paragraphs.push(p);
    expect(paragraphs.map((p) => p.get("Package"))).toEqual([
      "nats",
      "nats-server",
      "nats-server",
      "nats-server",
      "nats-server-docs",
    ]);
    expect(paragraphs[1]?.get("Description")).toBe(
      "High-Performance server for NATS.io (program)\nA second line of the description.\n.\nPackage: not-a-package",
    );
  });

  it("reads CRLF lines and a last paragraph without a trailing blank line", async () => {
    const lines = "Package: a\r\nVersion: 1\r\n\r\nPackage: b\r\nVersion: 2".split("\n");
    const paragraphs = [];
    for await (const p of packagesParagraphs(lines)) paragraphs.push(Object.fromEntries(p));
    expect(paragraphs).toEqual([
      { Package: "a", Version: "1" },
      { Package: "b", Version: "2" },
    ]);
  });
});

describe("findDebianPackage", () => {
  it("returns the newest complete entry of that exact name", async () => {
    // 2.99.0 has no SHA256, so it could not be checked: it is ignored.
    expect(await findDebianPackage(INDEX.split("\n"), "nats-server")).toEqual({
      name: "nats-server",
      version: "2.10.27-1+b2",
      upstreamVersion: "2.10.27",
      architecture: "amd64",
      filename: "pool/main/n/nats-server/nats-server_2.10.27-1+b2_amd64.deb",
      sha256: SHA_A,
      size: 4502708,
    });
  });

  it("returns undefined when the index has no such package", async () => {
    expect(await findDebianPackage(INDEX.split("\n"), "not-a-package")).toBeUndefined();
    expect(await findDebianPackage([], "nats-server")).toBeUndefined();
  });

  it("reads a gzipped index as it streams in", async () => {
    const urls: string[] = [];
    const entry = await fetchDebianPackage({
      name: "nats-server",
      suite: "trixie",
      arch: "amd64",
      mirror: "https://mirror.example/debian",
      fetch: async (url) => {
        urls.push(url);
        return new Response(gzipSync(INDEX));
      },
    });
    expect(urls).toEqual(["https://mirror.example/debian/dists/trixie/main/binary-amd64/Packages.gz"]);
    expect(entry?.upstreamVersion).toBe("2.10.27");
  });

  it("says which URL failed", async () => {
    const failing = fetchDebianPackage({
      name: "nats-server",
      suite: "nowhere",
      arch: "amd64",
      fetch: async () => new Response("gone", { status: 404, statusText: "Not Found" }),
    });
    await expect(failing).rejects.toThrow("dists/nowhere/main/binary-amd64/Packages.gz: HTTP 404 Not Found");
    const garbled = fetchDebianPackage({
      name: "nats-server",
      suite: "trixie",
      arch: "amd64",
      fetch: async () => new Response("not gzip"),
    });
    await expect(garbled).rejects.toThrow(/cannot read .*Packages\.gz/);
  });
});

describe("debianArch", () => {
  it("maps Node's architectures to Debian's", () => {
    expect(debianArch("x64")).toBe("amd64");
    expect(debianArch("arm64")).toBe("arm64");
    expect(debianArch("ia32")).toBeUndefined();
    expect(packagesIndexUrl("https://deb.debian.org/debian", "sid", "arm64")).toBe(
      "https://deb.debian.org/debian/dists/sid/main/binary-arm64/Packages.gz",
    );
  });
});
