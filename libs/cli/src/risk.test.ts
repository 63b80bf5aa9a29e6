/**
 * `stratreg risk`, `limits`, `limits set`, `halt`, `reduce` and `resume` end to
 * end: the built CLI against a real registry shard and two real risk guard
 * processes (one leads, one stands by, as they are deployed), with resume
 * needing a second operator. Exposure comes from the SDK as a trading service
 * sends it; a follower of the trading state is played here so the test decides
 * when it stops acknowledging.
 */
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { RiskClient, StratregClient } from "@stratreg/client";
import { decode, type ExposureReply, encode, type LimitsReply, type TradingCommandReply } from "@stratreg/protocol";
import { type ServiceProcess, spawnService, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { scopeTable } from "./risk/format.js";
import { runCli, startCluster, type TestCluster } from "./testing/cli.js";

const GUARD_ENTRY = fileURLToPath(new URL("../../../services/risk-guard/dist/main.js", import.meta.url));
const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 0, 5);

const MR = "cli-risk-mr";
const MOM = "cli-risk-mom";
const CARRY = "cli-risk-carry";

let natsUrl: string;
let name: string;
let cluster: TestCluster;
const guards: ServiceProcess[] = [];
let nc: NatsConnection;
let risk: RiskClient;
/**
 * The played follower acknowledges every broadcast with the version it holds:
 * the latest, or this one once it is stuck (still heard from, so the guard
 * waits for it, but never taking a change).
 */
let stuckAt: number | undefined;

const LIMITS_V1 = {
  total: { gross: 5_000_000, net: 2_000_000 },
  symbols: { EURUSD: { gross: 400_000, net: 500_000 } },
  strategies: { [CARRY]: { gross: 1_000_000, orderNotional: 250_000 } },
  reservationTtlMs: 600_000,
};
const LIMITS_V2 = {
  ...LIMITS_V1,
  total: { gross: 6_000_000, net: 2_000_000 },
  drawdown: { reduce: 1_000_000, halt: 2_000_000 },
};

function startGuard(member: string): ServiceProcess {
  const guard = spawnService({
    entry: GUARD_ENTRY,
    name: member,
    env: {
      NATS_URL: natsUrl,
      STRATREG_CLUSTER: name,
      STRATREG_RISK_GUARD_ID: member,
      STRATREG_RISK_LEASE_MS: "1000",
      STRATREG_RISK_RESUME_CONFIRMATIONS: "2",
      STRATREG_RISK_INTERVAL_MS: "300",
      LOG_LEVEL: "info",
    },
  });
  guards.push(guard);
  return guard;
}

/**
 * Resolves once the leading guard has heard from the shard and the trader
 * lately: only followers it has heard from are waited for, and a guard that
 * just took over has heard from nobody yet.
 */
async function followersHeard(): Promise<void> {
  await waitFor(
    async () => {
      const status = await risk.status(undefined, { timeoutMs: 2000 }).catch(() => undefined);
      const followers = (status?.followers ?? []) as Array<{ member: string; ageMs: number }>;
      return ["shard-0", "desk-7"].every((m) => followers.some((f) => f.member === m && f.ageMs < 2000));
    },
    { timeoutMs: 30_000, intervalMs: 200, message: "the shard and the trader following the trading state" },
  );
}

function guardLogs(): string {
  return guards.map((g) => `--- ${g.name}\n${g.logs().slice(-25).join("\n")}`).join("\n");
}

beforeAll(async () => {
  natsUrl = inject("natsUrl");
  name = uniqueClusterName("cli-risk");
  cluster = await startCluster(natsUrl, name, 1, 8);
  // Two guards, started one after the other, as they are deployed. A first guard alone was seen to
  // stay in taking-over (it waits for its log follower, aborted before it was set up, to see an
  // entry); the second takes over once the first's unrenewed lease lapses, and its epoch marker
  // wakes the first. The tests reach whichever leads; the SDK retries through the takeovers.
  const first = startGuard("guard-a");
  await first.waitForLog((_line, json) => json?.msg === "risk guard taking-over", 30_000);
  startGuard("guard-b");

  nc = await connect({ servers: natsUrl });
  // A trading service following the trading state.
  nc.subscribe(`${name}.trading.state`, {
    callback: (err, msg) => {
      if (err !== null) return;
      const status = decode(msg.data) as { version: number };
      msg.respond(encode({ member: "desk-7", kind: "trader", version: stuckAt ?? status.version }));
    },
  });
  const client = await StratregClient.connect(nc, { cluster: name, timeoutMs: 15_000 });
  await client.registerMany([
    { id: MR, name: "Mean reversion", owner: "desk", family: "reversion" },
    { id: MOM, name: "Momentum", owner: "desk", family: "momentum" },
    { id: CARRY, name: "Carry", owner: "desk", family: "carry" },
  ]);
  // Forty daily returns each, so the guard has the 20 common periods VaR needs.
  const reports = [MR, MOM, CARRY].map((id, i) => {
    const returns = Array.from({ length: 40 }, (_, t) => Math.sin(t * (i + 1) * 0.7) * 0.01 + (i - 1) * 0.001);
    return { id, seq: 1, returns, times: returns.map((_, t) => START + t * DAY_MS) };
  });
  expect(await client.report(reports)).toMatchObject({ accepted: 3, rejected: [] });

  risk = new RiskClient(nc, { cluster: name, timeoutMs: 20_000 });
  try {
    // A write that changes no exposure: it returns once a guard leads and its appends are accepted.
    await risk.position({ strategy: MR, venue: "lmax", symbol: "EURUSD", quantity: 0, price: 1.08 });
    await followersHeard();
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${guardLogs()}`, { cause: err });
  }
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await Promise.all(guards.map((g) => g.stop()));
  await cluster?.stop();
});

const cli = (args: string[], env: NodeJS.ProcessEnv = {}, stdin?: string) =>
  runCli(args, { ...cluster.env, ...env }, stdin);

describe("stratreg risk, limits, halt, reduce and resume against a real risk guard", () => {
  it("risk: the initial trading state, and nothing exposed yet", async () => {
    const run = await cli(["risk"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("trading ACTIVE by risk-guard: initial state (state version 0)");
    expect(lines[1]).toBe("limits version 0, 0 open orders");
    expect(lines).toContain("no exposure and no limits");
    expect(lines).toContain("P&L: equity 0.00, peak 0.00, drawdown 0.00");
    expect(lines.at(-1)).toMatch(/^VaR\/ES: not computed yet/);
  });

  it("limits set: reads the file, sends it at the expected version and prints what changed", async () => {
    const run = await cli(
      ["limits", "set", "--file", "-", "--expect-version", "0", "--note", "first limits", "--by", "alice"],
      {},
      JSON.stringify(LIMITS_V1),
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split("\n")).toEqual([
      "limits set: version 1 by alice: first limits",
      "  total.gross: – → 5,000,000",
      "  total.net: – → 2,000,000",
      "  symbols.EURUSD.gross: – → 400,000",
      "  symbols.EURUSD.net: – → 500,000",
      `  strategies.${CARRY}.gross: – → 1,000,000`,
      `  strategies.${CARRY}.orderNotional: – → 250,000`,
      "  reservationTtlMs: – → 600,000",
    ]);
  });

  it("risk: scopes against their limits with headroom bars, P&L, then VaR, ES and contributions", async () => {
    await risk.position({ strategy: MR, venue: "lmax", symbol: "EURUSD", quantity: 400_000, price: 1.08 });
    await risk.position({ strategy: MOM, venue: "cme", symbol: "ES", quantity: -20, price: 5000 });
    await risk.position({ strategy: CARRY, venue: "lmax", symbol: "USDJPY", quantity: 300_000, price: 1 });
    const check = await risk.check({
      orderId: "cli-risk-1",
      strategy: CARRY,
      venue: "lmax",
      symbol: "USDJPY",
      side: "buy",
      quantity: 100_000,
      price: 1,
    });
    expect(check).toMatchObject({ allowed: true, reason: null });
    // VaR once the guard has computed it with these exposures.
    let reply: ExposureReply | undefined;
    await waitFor(
      async () => {
        const json = await cli(["risk", "--json"]);
        reply = JSON.parse(json.stdout) as ExposureReply;
        return reply.risk !== null && reply.risk.contributions.length === 3;
      },
      { timeoutMs: 30_000, intervalMs: 300, message: "VaR computed over the three strategies" },
    );
    const run = await cli(["risk"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[1]).toBe("limits version 1, 1 open order");
    const table = scopeTable((reply as ExposureReply).scopes);
    expect(lines.slice(3, 3 + table.length)).toEqual(table);
    // EURUSD is over its gross limit: a full bar and a !.
    expect(lines).toContainEqual(
      expect.stringMatching(/^symbol +EURUSD +432,000 +400,000 +█{20}! +108% +432,000 +500,000 +86% +0$/),
    );
    // The total: 932,000 gross of which 100,000 is the open order; the order is counted as a buy in net.
    expect(lines).toContainEqual(
      expect.stringMatching(/^total +932,000 +5,000,000 +█{4}░{16} {2,}19% +732,000 +2,000,000 +37% +100,000$/),
    );
    expect(lines).toContain("P&L: equity 0.00, peak 0.00, drawdown 0.00");
    const at = lines.findIndex((l) => l.startsWith("VaR/ES of one period's P&L"));
    expect(lines[at]).toMatch(
      /^VaR\/ES of one period's P&L, losses positive \(\d+ periods of returns, computed .+ ago\):$/,
    );
    expect(lines[at + 1]).toMatch(/^ +VAR 95 +VAR 99 +ES 95 +ES 99$/);
    expect(lines[at + 2]).toMatch(/^ {2}historical( +[\d,]+\.\d\d){4}$/);
    expect(lines[at + 3]).toMatch(/^ {2}parametric( +[\d,]+\.\d\d){4}$/);
    expect(lines[at + 4]).toBe("contributions to the parametric VaR 99:");
    expect(lines[at + 5]).toMatch(/^ {2}STRATEGY +EXPOSURE +COMPONENT +SHARE +MARGINAL$/);
    expect(lines.slice(at + 6).map((l) => l.trim().split(/ +/)[0])).toEqual(
      [...((reply as ExposureReply).risk?.contributions ?? [])]
        .sort((a, b) => b.component - a.component)
        .map((c) => c.strategy),
    );

    const one = await cli(["risk", "--strategy", MOM]);
    expect(one.code).toBe(0);
    const rows = one.stdout.split("\n").filter((l) => /^(symbol|venue|family|strategy|total) /.test(l));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(new RegExp(`^strategy +${MOM} +100,000 +– +-100,000 +– +0$`));
  });

  it("halt: the new state, who, why and when, and the followers' acknowledgements", async () => {
    await followersHeard();
    // The operator's name from the environment.
    const run = await cli(["halt", "--reason", "fat finger on desk 7"], { STRATREG_OPERATOR: "alice" });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      /^trading HALTED since \d{4}-\d\d-\d\dT[\d:.]+Z \(\d+\.\d s ago\) by alice: fat finger on desk 7 \(state version 1\)$/,
    );
    expect(lines[1]).toMatch(/^acknowledged by 2 followers \(1 shard, 1 trader\), slowest \d+\.\d ms$/);
    expect(lines).toHaveLength(2);

    const state = JSON.parse((await cli(["risk", "--json"])).stdout) as ExposureReply;
    expect(state.status).toMatchObject({ state: "HALTED", by: "alice", reason: "fat finger on desk 7", version: 1 });
    expect((await cli(["risk"])).stdout.split("\n")[0]).toMatch(
      /^trading HALTED since \S+Z \(\d+\.\d s ago\) by alice: fat finger on desk 7 \(state version 1\)$/,
    );
  });

  it("reduce while halted changes nothing and says why; --json prints the guard's reply", async () => {
    const run = await cli(["reduce", "--reason", "calm down", "--by", "carol"]);
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")[1]).toBe(
      "nothing changed: trading is HALTED, which is stricter than REDUCING (resume it first, then reduce)",
    );
    await followersHeard();
    const json = await cli(["reduce", "--reason", "calm down", "--by", "carol", "--json"]);
    expect(json.code).toBe(0);
    const reply = JSON.parse(json.stdout) as TradingCommandReply;
    expect(reply.status).toMatchObject({ state: "HALTED", by: "alice" });
    expect(reply.acks.map((a) => a.member).sort()).toEqual(["desk-7", "shard-0"]);
    expect(reply).toMatchObject({ missing: [], awaitingConfirmation: false });
  });

  it("resume: the first operator's waits for a second; the second's resumes, and a follower that did not acknowledge fails it with exit 3", async () => {
    await followersHeard();
    const first = await cli(["resume", "--by", "alice", "--reason", "checked the book"]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const lines = first.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      /^trading HALTED since .* by alice: fat finger on desk 7 \(state version 2\); resume asked by alice \d+\.\d s ago, waiting for a second operator$/,
    );
    expect(lines[1]).toBe(
      "resume recorded: a second operator must confirm it before trading resumes (stratreg resume --by <another operator>)",
    );
    expect(lines[2]).toMatch(/^acknowledged by 2 followers/);

    // The trader gets stuck at this version: it keeps answering, but never takes the resume.
    stuckAt = 2;
    await followersHeard();
    try {
      const second = await cli(["resume", "--by", "bob", "--reason", "confirmed"]);
      expect(second.code).toBe(3);
      expect(second.stdout.trimEnd().split("\n")).toEqual([
        expect.stringMatching(/^trading ACTIVE since .* by bob: confirmed \(state version 3\)$/),
        expect.stringMatching(/^acknowledged by 1 follower \(1 shard\), slowest \d+\.\d ms$/),
      ]);
      expect(second.stderr).toBe(
        "warning: 1 follower did not acknowledge in time: desk-7 (they may still act on the old state until they hear the next broadcast)\n",
      );
    } finally {
      stuckAt = undefined;
    }
    const state = JSON.parse((await cli(["risk", "--json"])).stdout) as ExposureReply;
    expect(state.status).toMatchObject({ state: "ACTIVE", by: "bob", reason: "confirmed", pendingResume: null });
  });

  it("limits set: a stale --expect-version is refused and explained; the current one goes through", async () => {
    const stale = await cli(
      ["limits", "set", "--file", "-", "--expect-version", "0", "--by", "bob"],
      {},
      JSON.stringify(LIMITS_V2),
    );
    expect(stale.code).toBe(1);
    expect(stale.stdout).toBe("");
    expect(stale.stderr).toBe(
      "error CONFLICT: the limits are at version 1, not 0: someone changed them since you looked. See what changed with `stratreg limits`, then set yours again with --expect-version 1\n",
    );
    const run = await cli(
      ["limits", "set", "--file", "-", "--expect-version", "1", "--note", "more room, drawdown levels", "--by", "bob"],
      {},
      JSON.stringify(LIMITS_V2),
    );
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split("\n")).toEqual([
      "limits set: version 2 by bob: more room, drawdown levels",
      "  total.gross: 5,000,000 → 6,000,000",
      "  drawdown.reduce: – → 1,000,000",
      "  drawdown.halt: – → 2,000,000",
    ]);
  });

  it("limits: the version, the limits as a table and the audit trail with short diffs", async () => {
    const run = await cli(["limits"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^limits version 2 \(set \d{4}-\d\d-\d\dT[\d:.]+Z by bob\)$/);
    expect(lines.slice(1, 5)).toEqual([
      "  SCOPE     KEY                 GROSS        NET  ORDER NOTIONAL  ORDERS/S  OPEN ORDERS",
      "  total                     6,000,000  2,000,000               –         –            –",
      "  symbol    EURUSD            400,000    500,000               –         –            –",
      `  strategy  ${CARRY}  1,000,000          –         250,000         –            –`,
    ]);
    expect(lines).toContain("  drawdown from peak equity: REDUCING at 1,000,000, HALTED at 2,000,000");
    expect(lines).toContain("  reservations expire after 10 min 0 s unless filled or cancelled");
    const audit = lines.slice(lines.indexOf("changes, newest first:") + 1);
    expect(audit[0]).toMatch(/^ {2}v2 {2}\S+Z {2}bob {4}more room, drawdown levels$/);
    expect(audit[1]).toBe("        total.gross: 5,000,000 → 6,000,000");
    const v1 = audit.findIndex((l) => /^ {2}v1 {2}\S+Z {2}alice {2}first limits$/.test(l));
    expect(v1).toBeGreaterThan(0);
    expect(audit.slice(v1 + 1)).toEqual([
      "        total.gross: – → 5,000,000",
      "        total.net: – → 2,000,000",
      "        symbols.EURUSD.gross: – → 400,000",
      "        symbols.EURUSD.net: – → 500,000",
      `        strategies.${CARRY}.gross: – → 1,000,000`,
      `        strategies.${CARRY}.orderNotional: – → 250,000`,
      "        … and 1 more change",
    ]);
    const json = JSON.parse((await cli(["limits", "--json", "--audit", "1"])).stdout) as LimitsReply;
    expect(json).toMatchObject({ version: 2, limits: LIMITS_V2 });
    expect(json.audit.map((c) => [c.version, c.by, c.note])).toEqual([[2, "bob", "more room, drawdown levels"]]);
  });

  it("a bad limits file is named with its problem, and nothing is sent", async () => {
    const run = await cli(["limits", "set", "--file", "-"], {}, '{"symbols": {"EURUSD": {"grss": 5}}}');
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe("error: stdin: symbols.EURUSD.grss is not a known field\n");
    const missing = await cli(["halt"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/required option '--reason <text>' not specified/);
    expect(JSON.parse((await cli(["limits", "--json"])).stdout)).toMatchObject({ version: 2 });
  });

  it("a cluster without a risk guard is named", async () => {
    const nobody = uniqueClusterName("cli-norisk");
    const run = await cli(["risk", "--cluster", nobody, "--timeout", "1000"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      `error TIMEOUT: no risk guard is answering on cluster "${nobody}" at ${natsUrl} (waited 1000 ms; is a risk guard running, and is --cluster right?)\n`,
    );
    const halt = await cli(["halt", "--reason", "x", "--cluster", nobody, "--timeout", "1000"]);
    expect(halt.code).toBe(1);
    expect(halt.stderr).toMatch(new RegExp(`^error TIMEOUT: no risk guard is answering on cluster "${nobody}"`));
  });
});
