/**
 * Freshness of the global rankings: while a synthetic market streams reports in
 * the background, one report at a time makes a new strategy of a family of the
 * bench's own the best of that family by Sharpe, and the time from that
 * report's acknowledgement until the ranker's `top` (k = 1 in that family,
 * asked again as soon as it answers) names it is taken.
 */
import { performance } from "node:perf_hooks";
import type { StratregClient } from "@stratreg/client";
import { type SyntheticMarket, uniform } from "@stratreg/launcher";
import type { PerformanceReport, TopQuery } from "@stratreg/protocol";

/** The family whose members only the freshness trials report for. */
export const PROBE_FAMILY = "bench-probe";
/** Longest a trial waits for its strategy to top the family. */
const TRIAL_TIMEOUT_MS = 10_000;
const PROBE_PERIODS = 20;
const PROBE_START = Date.UTC(2026, 0, 1);
const BACKGROUND_EVERY_MS = 100;

/** What the freshness trials measured. */
export interface FreshnessFigures {
  trials: number;
  /** Trials whose strategy `top` did not show within 10 s (not in the percentiles). */
  missed: number;
  /** From the report's acknowledgement to the first `top` reply naming its strategy (ms). */
  ackToTopP50Ms: number;
  ackToTopP99Ms: number;
  ackToTopMaxMs: number;
  /** The same from sending the report (ms). */
  sendToTopP50Ms: number;
  /** `top` requests sent while waiting, per trial. */
  pollsPerTrial: number;
  backgroundStrategies: number;
  /** Reports the background stream had applied per second, measured over the trials. */
  backgroundReportsPerSecond: number;
  backgroundRejected: number;
  /** Background `client.report` calls that failed (their reports are skipped). */
  backgroundFailures: number;
}

/** The ids of the probe strategies, one per trial. */
export function probeIds(trials: number): string[] {
  return Array.from({ length: trials }, (_, i) => `probe-${String(i).padStart(4, "0")}`);
}

/**
 * Sends `market`'s days `perSecond` reports a second (`seqOffset` added to
 * every report's number, for strategies that were reported before) until stopped.
 */
function backgroundStream(client: StratregClient, market: SyntheticMarket, seqOffset: number, perSecond: number) {
  const perSend = Math.max(1, Math.round((perSecond * BACKGROUND_EVERY_MS) / 1000));
  let running = true;
  let applied = 0;
  let rejected = 0;
  let failed = 0;
  const pending: PerformanceReport[] = [];
  const loop = (async () => {
    while (running) {
      const began = performance.now();
      if (pending.length < perSend) pending.push(...market.nextDay(1).map((r) => ({ ...r, seq: r.seq + seqOffset })));
      try {
        const result = await client.report(pending.splice(0, perSend), { timeoutMs: 10_000 });
        applied += result.accepted;
        rejected += result.rejected.length + result.late.length;
      } catch {
        // A request that failed (a starved or moving partition) must not stop the stream.
        failed++;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, BACKGROUND_EVERY_MS - (performance.now() - began))));
    }
  })();
  return {
    applied: () => applied,
    rejected: () => rejected,
    failed: () => failed,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/**
 * Trial `i`'s report: alternating returns around a mean that grows with `i`, so
 * each probe's Sharpe ratio is above every earlier probe's.
 */
function probeReport(id: string, i: number): PerformanceReport {
  const mean = 0.001 * (i + 1);
  const periods = Array.from({ length: PROBE_PERIODS }, (_, t) => t);
  return {
    id,
    seq: 1,
    times: periods.map((t) => PROBE_START + t * 86_400_000),
    returns: periods.map((t) => mean + (t % 2 === 0 ? 0.01 : -0.01)),
  };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/**
 * Runs one trial per probe id (registered in PROBE_FAMILY, never reported) with
 * `market`'s reports streaming in the background, 20–120 ms apart so the trials
 * fall anywhere in the shards' publication tick.
 */
export async function freshnessFigures(
  client: StratregClient,
  probes: string[],
  market: SyntheticMarket,
  seqOffset: number,
  backgroundPerSecond: number,
  say: (line: string) => void,
): Promise<FreshnessFigures> {
  const query: TopQuery = { metric: "sharpe", k: 1, scope: { family: PROBE_FAMILY } };
  const background = backgroundStream(client, market, seqOffset, backgroundPerSecond);
  const jitter = uniform(3);
  const fromAck: number[] = [];
  const fromSend: number[] = [];
  let missed = 0;
  let polls = 0;
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const appliedBefore = background.applied();
    const began = performance.now();
    for (const [i, id] of probes.entries()) {
      await new Promise((r) => setTimeout(r, 20 + jitter() * 100));
      const sent = performance.now();
      const result = await client.report([probeReport(id, i)], { timeoutMs: 10_000 });
      const acked = performance.now();
      if (result.accepted !== 1) throw new Error(`the report of ${id} was not applied: ${JSON.stringify(result)}`);
      for (;;) {
        polls++;
        const top = await client.top(query, { timeoutMs: 10_000 });
        const now = performance.now();
        if (top.entries[0]?.id === id) {
          fromAck.push(now - acked);
          fromSend.push(now - sent);
          break;
        }
        if (now - acked > TRIAL_TIMEOUT_MS) {
          missed++;
          say(`  freshness: ${id} not at the top after ${TRIAL_TIMEOUT_MS} ms (top: ${top.entries[0]?.id ?? "none"})`);
          break;
        }
      }
    }
    const seconds = (performance.now() - began) / 1000;
    fromAck.sort((a, b) => a - b);
    fromSend.sort((a, b) => a - b);
    return {
      trials: probes.length,
      missed,
      ackToTopP50Ms: quantile(fromAck, 0.5),
      ackToTopP99Ms: quantile(fromAck, 0.99),
      ackToTopMaxMs: fromAck[fromAck.length - 1] ?? Number.NaN,
      sendToTopP50Ms: quantile(fromSend, 0.5),
      pollsPerTrial: polls / probes.length,
      backgroundStrategies: market.size,
      backgroundReportsPerSecond: (background.applied() - appliedBefore) / seconds,
      backgroundRejected: background.rejected(),
      backgroundFailures: background.failed(),
    };
  } finally {
    await background.stop();
  }
}
