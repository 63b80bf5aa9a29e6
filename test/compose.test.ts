/**
 * `npm run check:compose` is how CI knows docker-compose.yml is right without a Docker engine. It must
 * pass on the real files and fail, naming the problem, on copies that would break a deployment.
 * Needs the built dist files (`npm test` runs `tsc -b` first): the check proves the entry point is built.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Document, parseDocument } from "yaml";

const ROOT = resolve(fileURLToPath(import.meta.url), "../..");
const SCRIPT = join(ROOT, "scripts/check-compose.mjs");
const COMPOSE = readFileSync(join(ROOT, "docker-compose.yml"), "utf8");
const DOCKERFILE = readFileSync(join(ROOT, "Dockerfile"), "utf8");

interface CheckOptions {
  root?: string;
  composeFile?: string;
  files?: Record<string, string | null>;
}
interface CheckResult {
  ok: boolean;
  checked: string[];
  problems: string[];
}
// The script is plain JavaScript (npm runs it without a build) and the test tsconfig has no allowJs,
// so its types are stated here; a non-literal specifier keeps tsc from looking for a declaration file.
const { checkCompose } = (await import(pathToFileURL(SCRIPT).href)) as {
  checkCompose: (options?: CheckOptions) => CheckResult;
};

/** docker-compose.yml with `edit` applied (anchors and comments kept). */
function composeWith(edit: (doc: Document) => void): string {
  const doc = parseDocument(COMPOSE, { merge: true });
  edit(doc);
  return doc.toString();
}

/** The problems the check finds with `files` laid over the repository. */
function problemsWith(files: Record<string, string | null>): string[] {
  const result = checkCompose({ files });
  expect(result.ok).toBe(false);
  return result.problems;
}

describe("check-compose", () => {
  it("passes on the real docker-compose.yml, Dockerfile and config", () => {
    const { ok, checked, problems } = checkCompose();
    expect(problems).toEqual([]);
    expect(ok).toBe(true);
    for (const shard of ["shard-1", "shard-2", "shard-3"]) {
      expect(checked).toContain(
        `service ${shard}: runs /app/services/registry-shard/dist/main.js, which \`tsc -b\` builds from services/registry-shard/src/main.ts`,
      );
      expect(checked).toContain(`service ${shard}: logs in to nats as shard with SHARD_PASSWORD`);
      expect(checked).toContain(`service ${shard}: depends on nats (service_healthy)`);
    }
    expect(checked).toContain("service nats: mounts config/nats-server.conf at /etc/nats/nats-server.conf");
  });

  it("fails on an environment variable the shard does not read, naming it", () => {
    const problems = problemsWith({
      "docker-compose.yml": composeWith((doc) => {
        doc.setIn(["services", "shard-2", "environment", "STRATREG_SHARDS"], "3");
        // Read by the test kit, not by the shard or the libraries it uses.
        doc.setIn(["services", "shard-3", "environment", "NATS_TEST_MODE"], "container");
      }),
    });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^service shard-2: environment variable STRATREG_SHARDS is not read by/);
    expect(problems[1]).toMatch(/^service shard-3: environment variable NATS_TEST_MODE is not read by/);
  });

  it("fails on a command whose entry point the build does not make", () => {
    const problems = problemsWith({
      "docker-compose.yml": composeWith((doc) => {
        doc.setIn(["services", "shard-1", "command"], ["node", "services/registry-shard/dist/server.js"]);
      }),
    });
    expect(problems).toEqual([
      "service shard-1: runs /app/services/registry-shard/dist/server.js, which would be built from services/registry-shard/src/server.ts, which does not exist",
    ]);
  });

  it("fails when the entry point has not been built here", () => {
    const problems = problemsWith({ "services/registry-shard/dist/main.js": null });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/shard-1: .*`npx tsc -b` did not make services\/registry-shard\/dist\/main\.js/);
  });

  it("fails on a Dockerfile that does not build the entry point, or deletes it, or runs as root", () => {
    const unbuilt = problemsWith({ Dockerfile: DOCKERFILE.replace("RUN npm run build", "") });
    expect(unbuilt[0]).toMatch(/dist\/main\.js is not in the build context and no RUN builds it/);
    const deleted = problemsWith({ Dockerfile: DOCKERFILE.replace("services/*/src", "services/*/dist") });
    expect(deleted[0]).toMatch(/`rm -rf .*services\/\*\/dist.*` deletes it during the build/);
    const root = problemsWith({ Dockerfile: DOCKERFILE.replace(/^USER node$/m, "") });
    expect(root[0]).toMatch(/the image runs as root/);
  });

  it("fails on a missing mounted file", () => {
    const problems = problemsWith({ "config/nats-server.conf": null });
    expect(problems).toContain("service nats: mounted file config/nats-server.conf does not exist");
  });

  it("fails when nats-server would lack a password variable, or a shard would use another password", () => {
    const problems = problemsWith({
      "docker-compose.yml": composeWith((doc) => {
        doc.deleteIn(["services", "nats", "environment", "OPERATOR_PASSWORD"]);
        doc.setIn(["services", "shard-1", "environment", "NATS_PASSWORD"], "$TRADER_PASSWORD");
      }),
    });
    expect(problems).toContain(
      "service nats: config/nats-server.conf references $OPERATOR_PASSWORD, which its environment does not set",
    );
    expect(
      problems.some((p) => p.startsWith("service shard-1: NATS_PASSWORD must be what nats gets as SHARD_PASSWORD")),
    ).toBe(true);
  });

  it("fails on depends_on naming a service that does not exist", () => {
    const problems = problemsWith({
      "docker-compose.yml": composeWith((doc) => {
        doc.setIn(["services", "shard-1", "depends_on"], { nats: { condition: "service_healthy" }, redis: {} });
      }),
    });
    expect(problems).toEqual(["service shard-1: depends_on names redis, which is not a service"]);
  });

  describe("as a command", () => {
    const run = promisify(execFile);
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "check-compose-"));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("exits 0 on the real files", async () => {
      const { stdout } = await run(process.execPath, [SCRIPT], { cwd: ROOT });
      expect(stdout).toMatch(/docker-compose\.yml: \d+ checks passed/);
    });

    it("exits 1 naming the problem", async () => {
      // Bind mounts resolve against the compose file's folder, where there is no config/.
      const file = join(dir, "docker-compose.yml");
      await writeFile(file, COMPOSE);
      const failed = await run(process.execPath, [SCRIPT, file], { cwd: ROOT }).catch(
        (e: unknown) => e as { code: number; stderr: string },
      );
      expect(failed).toMatchObject({ code: 1 });
      expect((failed as { stderr: string }).stderr).toContain(
        `FAIL  service nats: mounted file ${join(dir, "config/nats-server.conf")} does not exist`,
      );
    });
  });
});
