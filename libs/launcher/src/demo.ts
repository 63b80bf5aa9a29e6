/**
 * The demo `npm start` runs: registers sample strategies in batches, reads a
 * sample back one by one and in a batch, checks what came back, and reports
 * how fast each step was.
 */
import { performance } from "node:perf_hooks";
import type { StratregClient } from "@stratreg/client";
import { sampleId, sampleStrategies } from "./sample.js";

export interface DemoReport {
  prefix: string;
  registered: number;
  rejected: number;
  registerMs: number;
  registerPerSecond: number;
  sampleGets: number;
  getP50Us: number;
  getP99Us: number;
  batchGetMs: number;
  verified: number;
  mismatches: string[];
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export async function runDemo(client: StratregClient, count: number, say: (line: string) => void): Promise<DemoReport> {
  const prefix = `demo-${Date.now().toString(36)}`;
  const strategies = sampleStrategies(count, prefix);
  say(`registering ${count.toLocaleString("en-US")} strategies in batches of up to 1,000 (one log entry per batch)…`);
  const began = performance.now();
  let lastReport = began;
  const result = await client.registerMany(strategies, {
    onProgress: (done, total) => {
      const now = performance.now();
      if (now - lastReport > 1000 || done === total) {
        lastReport = now;
        say(`  ${done.toLocaleString("en-US")} / ${total.toLocaleString("en-US")}`);
      }
    },
  });
  const registerMs = performance.now() - began;

  const sampleSize = Math.min(1000, count);
  const picks = Array.from({ length: sampleSize }, (_, i) => Math.floor((i * count) / sampleSize));
  const latencies: number[] = [];
  const mismatches: string[] = [];
  for (const i of picks) {
    const id = sampleId(prefix, i);
    const t = performance.now();
    const stored = await client.get(id);
    latencies.push((performance.now() - t) * 1000);
    const sent = strategies[i];
    if (
      sent === undefined ||
      stored.name !== sent.name ||
      stored.owner !== sent.owner ||
      stored.version !== 1 ||
      stored.state !== "candidate"
    ) {
      mismatches.push(id);
    }
  }
  latencies.sort((a, b) => a - b);
  const t = performance.now();
  const batch = await client.getMany(picks.map((i) => sampleId(prefix, i)));
  const batchGetMs = performance.now() - t;
  for (const id of batch.missing) mismatches.push(id);

  return {
    prefix,
    registered: result.registered,
    rejected: result.rejected.length,
    registerMs,
    registerPerSecond: result.registered / (registerMs / 1000),
    sampleGets: sampleSize,
    getP50Us: percentile(latencies, 0.5),
    getP99Us: percentile(latencies, 0.99),
    batchGetMs,
    verified: sampleSize - mismatches.length,
    mismatches,
  };
}
