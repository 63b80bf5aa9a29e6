/**
 * The lifecycle commands end to end: the built CLI against a real registry shard
 * and a real risk guard. Evidence goes in from stdin, the gates' dry run prints
 * every gate and exits 1 when one fails, moves print the strategy, a refusal by
 * the gates prints every gate before its error, and an operator's thresholds
 * for a family are in force for the next evaluation.
 */
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { RiskClient, StratregClient } from "@stratreg/client";
import { goodEvidence, type ServiceProcess, spawnService, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runCli, startCluster, type TestCluster } from "./testing/cli.js";

const GUARD_ENTRY = fileURLToPath(new URL("../../../services/risk-guard/dist/main.js", import.meta.url));

let name: string;
let cluster: TestCluster;
let guard: ServiceProcess;
let nc: NatsConnection;
let client: StratregClient;

const cli = (args: string[], stdin?: string) => runCli(args, { ...cluster.env, STRATREG_OPERATOR: "quant-7" }, stdin);

beforeAll(async () => {
  const natsUrl = inject("natsUrl");
  name = uniqueClusterName("cli-life");
  cluster = await startCluster(natsUrl, name, 1, 8);
  guard = spawnService({
    entry: GUARD_ENTRY,
    name: "cli-life-guard",
    env: { NATS_URL: natsUrl, STRATREG_CLUSTER: name, STRATREG_RISK_GUARD_ID: "cli-life-guard", LOG_LEVEL: "warn" },
  });
  nc = await connect({ servers: natsUrl });
  client = await StratregClient.connect(nc, { cluster: name, timeoutMs: 15_000 });
  const risk = new RiskClient(nc, { cluster: name, timeoutMs: 20_000 });
  await waitFor(async () => (await risk.state().catch(() => undefined))?.state === "ACTIVE", { timeoutMs: 30_000 });
  await client.registerMany([
    { id: "cli-life-a", name: "A", owner: "desk", family: "trend" },
    { id: "cli-life-b", name: "B", owner: "desk", family: "carry" },
  ]);
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await guard?.stop();
  await cluster?.stop();
});

describe("stratreg lifecycle commands", () => {
  it("attaches evidence from stdin, dry-runs the gates, validates and activates, and shows the moves", async () => {
    const attached = await cli(["evidence", "attach", "cli-life-a", "-"], JSON.stringify(goodEvidence()));
    expect(attached.code).toBe(0);
    expect(attached.stdout).toMatch(/^cli-life-a v2: backtesting$/m);
    expect(attached.stdout).toMatch(/^evidence: 1260 returns, 1200 trades, Sharpe \d\.\d{3}, max drawdown 0\.\d{4}$/m);

    const gates = await cli(["gates", "cli-life-a"]);
    expect(gates.code).toBe(0);
    expect(gates.stdout).toMatch(/^GATE +VALUE +NEEDS +RESULT +DETAIL$/m);
    expect(gates.stdout).toMatch(/^trades +1200 +>= 1000 +pass/m);
    expect(gates.stdout).toMatch(/^every gate passes$/m);

    const validated = await cli(["move", "validate", "cli-life-a", "--reason", "backtests done"]);
    expect(validated.code).toBe(0);
    expect(validated.stdout).toMatch(/^state: +validated$/m);
    const active = await cli(["move", "activate", "cli-life-a", "--reason", "approved", "--by", "pm-2"]);
    expect(active.code).toBe(0);
    expect(active.stdout).toMatch(/^state: +active$/m);

    const history = await cli(["lifecycle", "cli-life-a"]);
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/^cli-life-a v4: active\.birth$/m);
    expect(history.stdout).toMatch(/ATTACH_EVIDENCE +candidate +backtesting +quant-7/);
    expect(history.stdout).toMatch(/ACTIVATE +validated +active\.birth +pm-2 +approved$/m);

    const shown = await cli(["evidence", "show", "cli-life-a"]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: "cli-life-a", by: "quant-7", evidence: { oosStart: 840 } });
  });

  it("refuses a move the state does not allow, naming the allowed ones", async () => {
    const run = await cli(["move", "activate", "cli-life-b", "--reason", "eager"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /error INVALID_TRANSITION: a candidate strategy cannot take ACTIVATE; it can take ATTACH_EVIDENCE, RETIRE, START_BACKTEST, UPDATE/,
    );
  });

  it("holds a family to an operator's thresholds: the dry run fails and so does validation, printing every gate", async () => {
    const set = await cli(["thresholds", "set", "--family", "carry", "minTrades=5000", "--note", "longer records"]);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/^minTrades +5000 +5000$/m);
    expect(set.stdout).toMatch(/^set by quant-7 at .+ \(revision \d+\): longer records$/m);

    await cli(["evidence", "attach", "cli-life-b", "-"], JSON.stringify(goodEvidence()));
    const gates = await cli(["gates", "cli-life-b"]);
    expect(gates.code).toBe(1);
    expect(gates.stdout).toMatch(/^trades +1200 +>= 5000 +FAIL/m);
    expect(gates.stdout).toMatch(/^1 of 9 gates fail$/m);

    const refused = await cli(["move", "validate", "cli-life-b", "--reason", "try"]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^trades +1200 +>= 5000 +FAIL/m);
    expect(refused.stderr).toMatch(
      /error GATES_FAILED: strategy cli-life-b did not pass the quality gates: trades failed/,
    );

    const shown = await cli(["thresholds", "show", "--family", "carry", "--json"]);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      inForce: { minTrades: 5000, minSharpe: 1 },
      sources: ["family:carry"],
    });
    const defaults = await cli(["thresholds", "show"]);
    expect(defaults.stdout).toMatch(/^minTrades +1000 *$/m);
    expect(defaults.stdout).toMatch(/^from: the seed defaults$/m);
  });

  it("answers scripts in JSON: evidence, gates, a refusal's gates, moves, the lifecycle and a template's thresholds", async () => {
    await client.register({ id: "cli-life-c", name: "C", owner: "desk", template: { id: "cli-life-tpl", params: {} } });
    const attached = await cli(["evidence", "attach", "cli-life-c", "-", "--json"], JSON.stringify(goodEvidence()));
    expect(attached.code).toBe(0);
    expect(JSON.parse(attached.stdout)).toMatchObject({ id: "cli-life-c", version: 2, state: "backtesting" });

    const set = await cli(["thresholds", "set", "--template", "cli-life-tpl", "minSharpe=9", "--json"]);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      inForce: { minSharpe: 9 },
      sources: ["template:cli-life-tpl"],
    });
    expect(set.stderr).toBe("");

    const gates = await cli(["gates", "cli-life-c", "--json"]);
    expect(gates.code).toBe(1);
    expect(JSON.parse(gates.stdout)).toMatchObject({ id: "cli-life-c", passed: false });

    const refused = await cli(["move", "validate", "cli-life-c", "--reason", "try", "--json"]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ id: "cli-life-c", passed: false });
    expect(refused.stderr).toMatch(/error GATES_FAILED: strategy cli-life-c did not pass the quality gates: sharpe/);

    const stale = await cli(["move", "retire", "cli-life-c", "--reason", "old news", "--expected-version", "1"]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toBe("error CONFLICT: strategy cli-life-c is at version 3, not 1\n");
    const retired = await cli([
      "move",
      "retire",
      "cli-life-c",
      "--reason",
      "done",
      "--expected-version",
      "3",
      "--json",
    ]);
    expect(retired.code, retired.stderr).toBe(0);
    expect(JSON.parse(retired.stdout)).toMatchObject({ id: "cli-life-c", state: "retired", version: 4 });

    const lifecycle = await cli(["lifecycle", "cli-life-c", "--json"]);
    const moves = (JSON.parse(lifecycle.stdout) as { value: string; context: { history: Array<{ event: string }> } })
      .context.history;
    expect(moves.map((move) => move.event)).toEqual(["ATTACH_EVIDENCE", "RECORD_GATES", "RETIRE"]);
  });

  it("explains bad input before sending anything", async () => {
    const bad = await cli(["thresholds", "set", "minTrades=lots"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/"minTrades=lots" is not name=number/);
    const both = await cli(["thresholds", "show", "--family", "f", "--template", "t"]);
    expect(both.code).not.toBe(0);
    const notJson = await cli(["evidence", "attach", "cli-life-b", "-"], "returns: 1");
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/- is not JSON/);
    const badField = await cli(
      ["evidence", "attach", "cli-life-b", "-"],
      JSON.stringify({ returns: [0.1, 0.2], oosStart: 7 }),
    );
    expect(badField.code).toBe(1);
    expect(badField.stderr).toMatch(/error INVALID_FIELD: body\.evidence\.oosStart/);
  });
});
