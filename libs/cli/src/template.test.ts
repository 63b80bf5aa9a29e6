/**
 * `stratreg template list | show | put | instantiate` end to end: the built CLI
 * against real shards on a real nats-server. Quick deployment is one command from
 * a template to a registered candidate; bad parameters are named one per line and
 * nothing is registered; an unsound template file is refused before it is sent.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Strategy, Template, TemplateSummary } from "@stratreg/client";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runCli, startCluster, type TestCluster } from "./testing/cli.js";

let cluster: TestCluster;
let dir: string;

const MEAN_REVERSION = {
  id: "mean-reversion",
  name: "Mean reversion",
  family: "reversion",
  tags: ["fx"],
  params: {
    lookback: { type: "integer", min: 5, max: 250, default: 20, description: "bars in the mean" },
    side: { type: "string", enum: ["long", "short", "both"], default: "both" },
    venue: { type: "string", required: true },
    hedged: { type: "boolean", default: false },
    stopLoss: { type: "number", min: 0.001, max: 0.2, risk: true },
    takeProfit: { type: "number", min: 0.001, max: 1, default: 0.05 },
  },
  rules: [{ param: "stopLoss", op: "<", other: "takeProfit", message: "keep the stop inside the target" }],
};

const cli = (args: string[], stdin?: string) => runCli(args, cluster.env, stdin);

beforeAll(async () => {
  cluster = await startCluster(inject("natsUrl"), uniqueClusterName("cli-tpl"), 2, 8);
  dir = await mkdtemp(join(tmpdir(), "stratreg-cli-tpl-"));
});

afterAll(async () => {
  await cluster?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("stratreg template", () => {
  it("list: no templates yet", async () => {
    const run = await cli(["template", "list"]);
    expect(run).toMatchObject({ code: 0, stdout: "no templates\n", stderr: "" });
  });

  it("put: from stdin, then from a file at the expected version; a stale one is CONFLICT", async () => {
    const first = await cli(
      ["template", "put", "-", "--by", "alice", "--expected-version", "0"],
      JSON.stringify(MEAN_REVERSION),
    );
    expect(first).toMatchObject({ code: 0, stderr: "", stdout: "template mean-reversion version 1 stored by alice\n" });

    const file = join(dir, "mean-reversion.json");
    await writeFile(file, JSON.stringify({ ...MEAN_REVERSION, description: "second take" }));
    const second = await cli(["template", "put", file, "--by", "bob", "--expected-version", "1", "--json"]);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ id: "mean-reversion", version: 2, createdBy: "bob" });

    const stale = await cli(["template", "put", file, "--by", "carol", "--expected-version", "1"]);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toBe("");
    expect(stale.stderr).toBe(
      "error CONFLICT: template mean-reversion is at version 2, not 1: someone put a version since you looked. See it with `stratreg template show`, then put yours with --expected-version 2 (field body.expectedVersion)\n",
    );
  });

  it("put: an unsound template is refused before it is sent, every problem on its own line", async () => {
    const unsound = {
      id: "unsound",
      name: "Unsound",
      params: { window: { type: "integer", min: 50, max: 10 }, stop: { type: "number", risk: true } },
      rules: [{ param: "ghost", op: "<", value: 1, message: "m" }],
    };
    const run = await cli(["template", "put", "-", "--by", "alice"], JSON.stringify(unsound));
    expect(run.code).toBe(1);
    expect(run.stderr.split("\n")).toEqual([
      "error INVALID_FIELD: stdin: unsound template: params.window.min (50) is above max (10) (and 2 more: params.stop.risk, rules[0].param) (field params.window.min)",
      "  params.window.min: INVALID_FIELD params.window.min (50) is above max (10)",
      "  params.stop.risk: INVALID_FIELD params.stop.risk needs a range: a risk parameter has both min and max",
      '  rules[0].param: INVALID_FIELD rules[0].param names no parameter of the template ("ghost")',
      "",
    ]);
    const shape = await cli(["template", "put", "-", "--by", "alice"], JSON.stringify({ ...unsound, colour: 1 }));
    expect(shape).toMatchObject({
      code: 1,
      stderr: "error UNKNOWN_FIELD: stdin: colour is not a known field (field colour)\n",
    });
    const notJson = await cli(["template", "put", "-"], "{");
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/^error: stdin is not valid JSON/);
    expect((await cli(["template", "show", "unsound"])).code).toBe(1);
  });

  it("list: the latest version of each, risk parameters marked; --json gives the summaries", async () => {
    const run = await cli(["template", "list"]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID +VERSION +NAME +FAMILY +PARAMS \(! risk\) +CREATED$/);
    expect(lines[1]).toMatch(
      /^mean-reversion +2 +Mean reversion +reversion +lookback, side, venue, hedged, stopLoss!, takeProfit +\S+ by bob$/,
    );
    expect(lines).toHaveLength(2);
    const json = JSON.parse((await cli(["template", "list", "--json"])).stdout) as TemplateSummary[];
    expect(json.map((t) => [t.id, t.version, t.riskParams])).toEqual([["mean-reversion", 2, ["stopLoss"]]]);
  });

  it("show: the latest version, or id@version; a missing one is NOT_FOUND naming the field", async () => {
    const run = await cli(["template", "show", "mean-reversion"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^version: +2$/m);
    expect(run.stdout).toMatch(/^description: +second take$/m);
    expect(run.stdout).toMatch(/^ {2}stopLoss +number +- +0\.001 to 0\.2 +- +risk +-$/m);
    expect(run.stdout).toMatch(/^ {2}venue +string +- +- +- +required +-$/m);
    expect(run.stdout).toMatch(/^ {2}stopLoss < takeProfit: keep the stop inside the target$/m);

    const v1 = JSON.parse((await cli(["template", "show", "mean-reversion@1", "--json"])).stdout) as Template;
    expect(v1).toMatchObject({ version: 1, createdBy: "alice" });
    expect(v1.description).toBeUndefined();

    const missing = await cli(["template", "show", "mean-reversion@7"]);
    expect(missing).toMatchObject({
      code: 1,
      stderr: "error NOT_FOUND: template mean-reversion has no version 7 (the latest is 2) (field body.version)\n",
    });
    const none = await cli(["template", "show", "nope"]);
    expect(none).toMatchObject({ code: 1, stderr: "error NOT_FOUND: no template nope (field body.id)\n" });
    const bad = await cli(["template", "show", "mean-reversion@v2"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/is not a template: use <id> or <id>@<version>/);
  });

  it("instantiate: one command from a template to a registered candidate, parameters typed by the template", async () => {
    const run = await cli([
      "template",
      "instantiate",
      "mean-reversion",
      "--id",
      "mr-eurusd-1",
      "--name",
      "MR EURUSD",
      "--owner",
      "fx-desk",
      "--param",
      "venue=lmax",
      "--param",
      "stopLoss=0.01",
      "--param",
      "lookback=40",
      "--param",
      "hedged=true",
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^id: +mr-eurusd-1$/m);
    expect(run.stdout).toMatch(/^state: +candidate$/m);
    expect(run.stdout).toMatch(/^family: +reversion$/m);
    expect(run.stdout).toMatch(
      /^template: +mean-reversion v2 \{lookback: 40, side: "both", venue: "lmax", hedged: true, stopLoss: 0\.01, takeProfit: 0\.05\}$/m,
    );
    const got = JSON.parse((await cli(["get", "mr-eurusd-1", "--json"])).stdout) as Strategy;
    expect(got.template).toEqual({
      id: "mean-reversion",
      version: 2,
      params: { lookback: 40, side: "both", venue: "lmax", hedged: true, stopLoss: 0.01, takeProfit: 0.05 },
    });
  });

  it("instantiate: an older version, the strategy's own family and tags, JSON out", async () => {
    const run = await cli([
      "template",
      "instantiate",
      "mean-reversion@1",
      "--id",
      "mr-gbpusd-1",
      "--name",
      "MR GBPUSD",
      "--owner",
      "fx-desk",
      "--family",
      "cable",
      "--tag",
      "gbp",
      "--tag",
      "live-soon",
      "--description",
      "cable reversion",
      "--param",
      "venue=ebs",
      "--param",
      "stopLoss=0.02",
      "--json",
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      id: "mr-gbpusd-1",
      family: "cable",
      tags: ["gbp", "live-soon"],
      description: "cable reversion",
      template: { id: "mean-reversion", version: 1 },
    });
  });

  it("instantiate: every bad parameter on its own line, exit 1, nothing registered", async () => {
    const run = await cli([
      "template",
      "instantiate",
      "mean-reversion",
      "--id",
      "mr-bad",
      "--name",
      "bad",
      "--owner",
      "fx-desk",
      "--param",
      "lookback=ten",
      "--param",
      "side=sideways",
      "--param",
      "stopLoss=0.5",
      "--param",
      "colour=red",
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.split("\n")).toEqual([
      'error INVALID_FIELD: parameters break template mean-reversion v2: params.lookback must be an integer (got string "ten") (and 4 more: body.params.side, body.params.venue, body.params.stopLoss, body.params.colour) (field body.params.lookback)',
      '  body.params.lookback: INVALID_FIELD params.lookback must be an integer (got string "ten")',
      '  body.params.side: INVALID_FIELD params.side must be one of "long", "short", "both" (got "sideways")',
      "  body.params.venue: MISSING_FIELD params.venue is required",
      "  body.params.stopLoss: INVALID_FIELD params.stopLoss must be at most 0.2 (got 0.5)",
      "  body.params.colour: UNKNOWN_FIELD params.colour is not a parameter of the template",
      "",
    ]);
    const get = await cli(["get", "mr-bad"]);
    expect(get).toMatchObject({ code: 1, stderr: "not found: mr-bad\n" });

    const malformed = await cli([
      "template",
      "instantiate",
      "mean-reversion",
      "--id",
      "x",
      "--name",
      "x",
      "--owner",
      "o",
      "--param",
      "venue",
    ]);
    expect(malformed).toMatchObject({ code: 1, stderr: 'error: --param needs name=value (got "venue")\n' });
  });

  it("says so when no shard of the cluster answers", async () => {
    // Long enough that, on a loaded machine, some attempt inside it meets "no responders".
    const run = await runCli(["template", "list", "--timeout", "3000"], {
      ...cluster.env,
      STRATREG_CLUSTER: "nobody-here",
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error TIMEOUT: no shard of cluster "nobody-here" is answering template requests at nats:\/\/\S+ \(waited 3000 ms; is a shard running, and is --cluster right\?\)\n$/,
    );
  });

  it("instantiate: a strategy id already taken is ALREADY_EXISTS", async () => {
    const run = await cli([
      "template",
      "instantiate",
      "mean-reversion",
      "--id",
      "mr-eurusd-1",
      "--name",
      "again",
      "--owner",
      "fx-desk",
      "--param",
      "venue=lmax",
      "--param",
      "stopLoss=0.01",
    ]);
    expect(run).toMatchObject({
      code: 1,
      stderr: "error ALREADY_EXISTS: strategy mr-eurusd-1 is already registered\n",
    });
  });
});
