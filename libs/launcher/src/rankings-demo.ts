/**
 * The second half of the demo: a synthetic market streams daily performance
 * reports for the demo's strategies, and the ranker's top five by Sharpe is
 * printed every few seconds, so a newcomer sees the rankings move.
 */
import type { StratregClient } from "@stratreg/client";
import type { StrategyInput } from "@stratreg/protocol";
import { SyntheticMarket } from "./market.js";

/** A running report stream; `stop()` ends it after the report in flight. */
export interface ReportStream {
  stop(): Promise<void>;
  /** Reports sent so far. */
  readonly sent: number;
}

const fmt = (x: number | null) => (x === null ? "–" : x.toFixed(2));

/**
 * Streams a simulated day of reports for `strategies` every `dayMs`, and prints
 * the top five `printTimes` times, `printEveryMs` apart.
 */
export function streamReports(
  client: StratregClient,
  strategies: StrategyInput[],
  say: (line: string) => void,
  options: { dayMs?: number; printEveryMs?: number; printTimes?: number } = {},
): ReportStream {
  const market = new SyntheticMarket(strategies);
  const dayMs = options.dayMs ?? 250;
  let running = true;
  let sent = 0;
  let printed = 0;
  let lastPrint = performance.now();
  const loop = (async () => {
    while (running) {
      const began = performance.now();
      try {
        const result = await client.report(market.nextDay(), { timeoutMs: 10_000 });
        sent += result.accepted;
      } catch (err) {
        say(`  reports: ${(err as Error).message}`);
      }
      if (printed < (options.printTimes ?? 5) && performance.now() - lastPrint >= (options.printEveryMs ?? 3000)) {
        lastPrint = performance.now();
        printed++;
        try {
          const top = await client.top({ metric: "sharpe", k: 5, minPeriods: 20 });
          const line = top.entries.map((e) => `${e.id} ${fmt(e.score)}`).join(" | ");
          say(`  top sharpe (market ${market.regime}): ${line === "" ? "(not enough history yet)" : line}`);
        } catch (err) {
          say(`  top: ${(err as Error).message}`);
        }
      }
      await new Promise((r) => setTimeout(r, Math.max(0, dayMs - (performance.now() - began))));
    }
  })();
  return {
    get sent() {
      return sent;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}
