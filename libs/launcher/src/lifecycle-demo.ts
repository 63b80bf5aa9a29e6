/**
 * The lifecycle part of the demo: one strategy earns live trading in front of
 * the newcomer. Its backtest evidence comes from the synthetic market's
 * generators (five years of daily returns with a Sharpe ratio near 2); the
 * gates are shown, then it is validated and activated once the risk guard
 * reports trading ACTIVE.
 */
import type { StratregClient } from "@stratreg/client";
import { ErrorCodes, type GatesReply, StratregError } from "@stratreg/protocol";
import { sampleEvidence } from "./sample.js";

/** How long the demo waits for a risk guard to announce the trading state before it gives up activating. */
const GUARD_WAIT_MS = 20_000;

function gateLine(gate: GatesReply["gates"][number]): string {
  const value = gate.value === null ? "–" : Number(gate.value.toPrecision(4)).toString();
  const threshold = gate.threshold === null ? "–" : Number(gate.threshold.toPrecision(4)).toString();
  return `    ${gate.passed ? "pass" : "FAIL"}  ${gate.gate.padEnd(19)} ${value.padStart(8)} ${gate.comparison} ${threshold}`;
}

/** Takes `id` from candidate to active, printing each step; returns the state it reached. */
export async function runLifecycleDemo(
  client: StratregClient,
  id: string,
  say: (line: string) => void,
): Promise<string> {
  const by = "demo";
  await client.register({ id, name: "Demo breakout", owner: "demo-desk", family: "demo" });
  const testing = await client.attachEvidence(id, sampleEvidence(), { by });
  say(`lifecycle of ${id}: registered as a candidate, evidence attached → ${testing.state}`);
  const gates = await client.gates(id);
  say(`  quality gates (${gates.passed ? "every gate passes" : "some gates fail"}):`);
  for (const gate of gates.gates) say(gateLine(gate));
  const valid = await client.transition(id, "validate", { by, reason: "backtests done" });
  say(`  validated → ${valid.state}`);
  const until = performance.now() + GUARD_WAIT_MS;
  for (;;) {
    try {
      const live = await client.transition(id, "activate", { by, reason: "demo" });
      say(`  activated → ${live.state} (phase ${JSON.stringify(live.lifecycle?.value)})`);
      return live.state;
    } catch (err) {
      // Until a guard has announced ACTIVE, the shard refuses: nothing goes live without the risk guard.
      if (!(err instanceof StratregError) || err.code !== ErrorCodes.TradingHalted || performance.now() > until) {
        throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
